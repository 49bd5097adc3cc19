import Foundation
import Testing

/// Credentials that come back later in the session: a token the server echoes in its `welcome`
/// event, a login answer's JWT that the client then sends in its CONNECT. With the defaults,
/// neither is in the recording, the live view, or the jsonl and HAR exports.
@Suite(
    "Known secrets stay out of the recording wherever they reappear",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct KnownSecretsTests {
    /// The recording as text, the live view, and `inspect --format jsonl` and `--format har`.
    struct Outputs {
        var recording: String
        var live: String
        var jsonl: String
        var har: String

        func check(absent secrets: [String]) {
            for secret in secrets {
                #expect(!self.recording.contains(secret), "\(secret) is in the recording")
                #expect(!self.live.contains(secret), "\(secret) is in the live view")
                #expect(!self.jsonl.contains(secret), "\(secret) is in the jsonl export")
                #expect(!self.har.contains(secret), "\(secret) is in the HAR export")
            }
        }
    }

    static func outputs(recording: URL, live: String) async throws -> Outputs {
        let environment = try #require(PeerEnvironment.current)
        let siotape = try #require(environment.siotape)
        func run(_ arguments: [String]) async throws -> String {
            let process = try Subprocess(name: "siotape", executable: siotape, arguments: arguments)
            defer { process.terminate() }
            let result = try #require(await process.exitStatusAndOutput(timeout: .seconds(60)))
            #expect(result.status == 0, "siotape \(arguments.joined(separator: " ")) exited \(result.status)")
            return result.stdout
        }
        let zcat = try Subprocess(name: "zcat", executable: "/usr/bin/env", arguments: ["zcat", recording.path])
        return Outputs(
            recording: try await zcat.output(timeout: .seconds(30)), live: live,
            jsonl: try await run(["inspect", recording.path, "--format", "jsonl", "--engine"]),
            har: try await run(["inspect", recording.path, "--format", "har"]))
    }

    @Test("A token the server echoes in its welcome event is masked there")
    func echoedToken() async throws {
        let environment = try #require(PeerEnvironment.current)
        let prefix = "Zq\(UInt32.random(in: 100_000...999_999))"
        // server_sio5.py echoes the CONNECT auth in `welcome` by default.
        let server = try await Peers.startServer(.sio5, in: environment)
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("echoed")
        let proxy = try await Proxy.start(
            upstream: server, recording: recording, in: environment, extraArguments: ["--live", "jsonl"])
        defer { proxy.terminate() }
        let client = try Subprocess(
            name: "secret_client.py", executable: environment.python5,
            arguments: [environment.script("secret_client.py"), "--url", proxy.url, "--prefix", prefix])
        #expect(try await client.output(timeout: .seconds(60)).contains("DONE"))
        proxy.terminate()
        let live = proxy.process.stdout.snapshot.text
        #expect(live.contains("welcome"))
        let outputs = try await Self.outputs(recording: recording, live: live)
        // The welcome is there, its auth masked; every credential the client sent is gone.
        #expect(outputs.recording.contains(#""auth":{"token":"[redacted]","nested":{"password":"[redacted]"}"#),
                "\(outputs.recording.prefix(4000))")
        outputs.check(absent: ["authorization", "cookie", "token", "apikey", "auth-token", "auth-password"].map {
            "\(prefix)-\($0)"
        })
    }

    @Test("org-notify: the password, the JWT of the login answer (later sent in CONNECT) and its echo in welcome are nowhere")
    func loginJWT() async throws {
        let environment = try #require(PeerEnvironment.current)
        let app = try #require(SampleApp.all.first { $0.name == "org-notify" })
        let upstream = try await app.start(in: environment)
        defer { upstream.terminate() }
        let recording = try temporaryRecordingURL("login-jwt")
        let proxy = try await Proxy.start(
            upstream: upstream, recording: recording, in: environment, extraArguments: ["--live", "text", "--color", "never"])
        defer { proxy.terminate() }
        for user in ["alice", "bob", "carol"] {
            let client = try Subprocess(
                name: "login_client.py", executable: environment.python5,
                arguments: [environment.script("login_client.py"), "--url", proxy.url, "--user", user])
            #expect(try await client.output(timeout: .seconds(60)).contains("DONE"))
        }
        proxy.terminate()
        let outputs = try await Self.outputs(recording: recording, live: proxy.process.stdout.snapshot.text)
        // The login exchanges are recorded with their bodies, the password and token masked.
        #expect(outputs.recording.contains(#""k":"body""#) && outputs.recording.contains("/api/login"))
        // (aiohttp's json_response writes `{"token": "...", "user": ...}`, here inside the record's text.)
        #expect(outputs.recording.contains(#"{\"token\": \"[redacted]\", \"user\": \"alice\""#))
        #expect(outputs.har.contains(#""postData""#))
        // The server echoes each JWT in its `welcome` event: there too it is masked.
        for user in ["alice", "bob", "carol"] {
            #expect(outputs.recording.contains(#""data":["welcome",{"user":"\#(user)","token":"[redacted]"}]"#))
        }
        #expect(outputs.live.contains("welcome"), "\(outputs.live.prefix(2000))")
        // Every JWT of alice, bob and carol carries its claims segment: none may be left.
        func claims(_ user: String, _ org: String) -> String {
            Data(#"{"org":"\#(org)","sub":"\#(user)"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        outputs.check(absent: [
            claims("alice", "acme"), claims("bob", "acme"), claims("carol", "globex"), "alice-password",
            "bob-password", "carol-password",
        ])
        try await Self.checkHAR(outputs.har)
    }

    /// The HAR export read by haralyzer and checked field by field against HAR 1.2
    /// (`tools/peers/har_check.py`); the login exchanges carry their bodies.
    static func checkHAR(_ har: String) async throws {
        let environment = try #require(PeerEnvironment.current)
        let python = try #require(environment.pythonHAR, "SIOTAPE_PYHAR is not set: run tools/test")
        let file = try temporaryRecordingURL("export").appendingPathExtension("har")
        try Data(har.utf8).write(to: file)
        let checker = try Subprocess(
            name: "har_check.py", executable: python, arguments: [environment.script("har_check.py"), file.path])
        defer { checker.terminate() }
        let result = try #require(await checker.exitStatusAndOutput(timeout: .seconds(60)))
        let problems = await checker.stderr.wait(timeout: .seconds(10)) { $0.closed }?.text ?? ""
        #expect(result.status == 0, "har_check.py: \(problems)")
        let entries = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let logins = entries.filter { ($0["url"] as? String)?.hasSuffix("/api/login") == true }
        #expect(logins.count == 6, "\(logins)")  // a wrong password, then the right one, for each user
        let alice = try #require(logins.first { ($0["request_body"] as? String)?.contains("\"alice\"") == true && $0["status"] as? Int == 200 })
        #expect(alice["method"] as? String == "POST")
        #expect((alice["request_body"] as? String)?.contains(#""password": "[redacted]""#) == true, "\(alice)")
        #expect((alice["response_body"] as? String)?.contains(#""token": "[redacted]""#) == true, "\(alice)")
        #expect((alice["mime_type"] as? String)?.hasPrefix("application/json") == true)
        #expect(logins.filter { $0["status"] as? Int == 401 }.count == 3)
    }
}
