import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Credentials stay out of recordings and the live view unless asked for; recordings are private
/// files; the proxy listens on loopback unless told otherwise, and says so when told otherwise.
@Suite(
    "Secrets and exposure of siotape record",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct SecretsTests {
    /// Where `secret_client.py` and `server_sio5.py --set-cookie` put the credentials.
    static let places = ["authorization", "cookie", "token", "apikey", "auth-token", "auth-password", "setcookie"]

    @Test("By default no credential reaches the recording or the live view", arguments: [
        ("jsonl", ClientTransport.default), ("text", .default), ("jsonl", .polling), ("jsonl", .websocket),
    ])
    func credentialsAreRedacted(live: String, transport: ClientTransport) async throws {
        let prefix = "Zq\(UInt32.random(in: 100_000...999_999))"
        let run = try await Self.record(prefix: prefix, live: live, transport: transport, keep: false)
        for place in Self.places {
            let secret = "\(prefix)-\(place)"
            #expect(!run.recording.contains(secret), "\(secret) is in the recording")
            #expect(!run.live.contains(secret), "\(secret) is in the live view")
        }
        #expect(!run.recording.contains("271828"), "a numeric CONNECT auth value is in the recording")
        #expect(!run.live.contains("271828"), "a numeric CONNECT auth value is in the live view")
        // Redacted, not dropped: the reader still sees what was sent and where.
        #expect(run.recording.contains("[redacted]"))
        #expect(run.recording.contains(#""nested":{"password":"[redacted]"}"#), "\(run.recording.prefix(3000))")
        #expect(run.mode == 0o600, "the recording's mode is \(String(run.mode, radix: 8))")
    }

    @Test("--keep-credentials keeps them")
    func keepCredentials() async throws {
        let prefix = "Zq\(UInt32.random(in: 100_000...999_999))"
        let run = try await Self.record(prefix: prefix, live: "jsonl", transport: .default, keep: true)
        // Set-Cookie is not part of what a recording keeps, redacted or not.
        for place in Self.places where place != "setcookie" {
            #expect(run.recording.contains("\(prefix)-\(place)"), "\(place) was dropped with --keep-credentials")
            #expect(run.live.contains("\(prefix)-\(place)"), "\(place) is not in the live view with --keep-credentials")
        }
        #expect(run.mode == 0o600)
    }

    @Test("--live jsonl prints the recording's lines, redacted, in the recording's order")
    func liveJSONLinesAreTheRecordings() async throws {
        let prefix = "Zq\(UInt32.random(in: 100_000...999_999))"
        let run = try await Self.record(prefix: prefix, live: "jsonl", transport: .default, keep: false)
        // Without the header (first) and the trailer (`end`), which only the file has.
        let recorded = run.recording.split(separator: "\n").dropFirst().filter { !$0.contains(#""k":"end""#) }
        let live = run.live.split(separator: "\n")
        #expect(live.count > 10)
        #expect(Array(live) == Array(recorded))
    }

    /// The page follows the recording's lines: with the text live view (records for the terminal,
    /// each encoded once for the file and the page) and without (the fast path's lines copied).
    @Test("record --ui: no credential reaches the live page's API", arguments: ["text", "off"])
    func livePageIsRedacted(live: String) async throws {
        let environment = try #require(PeerEnvironment.current)
        let prefix = "Zq\(UInt32.random(in: 100_000...999_999))"
        let server = try await Peers.startServer(
            .sio5, in: environment, pingInterval: 2,
            extraArguments: ["--no-echo-auth", "--set-cookie", "sess=\(prefix)-setcookie"])
        defer { server.terminate() }
        let proxy = try await Proxy.start(
            upstream: server, recording: try temporaryRecordingURL("secrets-ui"), in: environment,
            extraArguments: ["--live", live, "--color", "never", "--ui", "127.0.0.1:0"])
        defer { proxy.terminate() }
        let line = try await proxy.process.stderrLine(containing: "live view at", timeout: Peers.readyTimeout)
        let url = try #require(line.split(separator: " ").last.map(String.init))
        let client = try Subprocess(
            name: "secret_client.py", executable: environment.python5,
            arguments: [environment.script("secret_client.py"), "--url", proxy.url, "--prefix", prefix,
                        "--transport", "default"])
        #expect(try await client.output(timeout: .seconds(60)).contains("DONE"))
        // The view drains its feed every 50 ms: ask until the session's close has reached it.
        var stats = ""
        for _ in 0..<100 where !stats.contains(#""close_causes":{""#) {
            stats = try await Peers.httpGet(url + "api/stats", in: environment).body
        }
        #expect(stats.contains(#""close_causes":{""#), "the page never saw the session close: \(stats.prefix(500))")
        var answers = [stats]
        for path in ["api/meta", "api/sessions", "api/packets?engine=1&limit=5000"] {
            answers.append(try await Peers.httpGet(url + path, in: environment).body)
        }
        let all = answers.joined(separator: "\n")
        #expect(all.contains("[redacted]") && all.contains("welcome"), "\(all.prefix(1000))")
        for place in Self.places {
            #expect(!all.contains("\(prefix)-\(place)"), "\(prefix)-\(place) is in the live page's API")
        }
        #expect(!all.contains("271828"), "a numeric CONNECT auth value is in the live page's API")
    }

    @Test("Listening on all interfaces is announced with a warning", arguments: ["0.0.0.0:0", "[::]:0"])
    func allInterfacesWarning(listen: String) async throws {
        let environment = try #require(PeerEnvironment.current)
        let siotape = try #require(environment.siotape)
        let recording = try temporaryRecordingURL("exposed")
        let process = try Subprocess(
            name: "siotape record", executable: siotape,
            arguments: ["record", "--upstream", "http://127.0.0.1:9", "--listen", listen, "--out", recording.path,
                        "--live", "off"])
        defer { process.terminate() }
        let line = try await process.stderrLine(containing: "warning", timeout: .seconds(30))
        #expect(line.contains("ALL network interfaces"), "\(line)")
    }

    @Test("Loopback is the default: no warning, and --help says 127.0.0.1")
    func loopbackByDefault() async throws {
        let environment = try #require(PeerEnvironment.current)
        let server = try await Peers.startServer(.sio5, in: environment)
        defer { server.terminate() }
        let proxy = try await Proxy.start(
            upstream: server, recording: try temporaryRecordingURL("loopback"), in: environment)
        defer { proxy.terminate() }
        #expect(!proxy.process.stderr.snapshot.text.contains("warning"))
        let help = try Subprocess(
            name: "siotape record --help", executable: try #require(environment.siotape), arguments: ["record", "--help"])
        let text = try await help.output(timeout: .seconds(30))
        #expect(text.contains("default: 127.0.0.1:8080"), "\(text)")
    }

    struct Run {
        var recording: String
        var live: String
        var mode: mode_t
    }

    /// One `secret_client.py` session through the proxy in front of a server that does not echo
    /// the auth back and sets a cookie; the decompressed recording and the live view as text.
    static func record(prefix: String, live: String, transport: ClientTransport, keep: Bool) async throws -> Run {
        let environment = try #require(PeerEnvironment.current)
        let server = try await Peers.startServer(
            .sio5, in: environment, pingInterval: 2,
            extraArguments: ["--no-echo-auth", "--set-cookie", "sess=\(prefix)-setcookie"])
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("secrets")
        let proxy = try await Proxy.start(
            upstream: server, recording: recording, in: environment,
            extraArguments: ["--live", live, "--color", "never"] + (keep ? ["--keep-credentials"] : []))
        defer { proxy.terminate() }
        let client = try Subprocess(
            name: "secret_client.py", executable: environment.python5,
            arguments: [environment.script("secret_client.py"), "--url", proxy.url, "--prefix", prefix,
                        "--transport", transport.rawValue])
        let output = try await client.output(timeout: .seconds(60))
        #expect(output.contains("DONE"))
        proxy.terminate()
        let live = proxy.process.stdout.snapshot.text
        #expect(live.contains("welcome"), "the live view shows nothing: \(live.prefix(500))")
        var info = stat()
        stat(recording.path, &info)
        let zcat = try Subprocess(name: "zcat", executable: "/usr/bin/env", arguments: ["zcat", recording.path])
        let text = try await zcat.output(timeout: .seconds(30))
        return Run(recording: text, live: live, mode: info.st_mode & 0o777)
    }
}
