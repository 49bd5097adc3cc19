import Foundation
import Testing

/// `replay serve` answers plain HTTP from a recording made through `record`, with no `--http`:
/// the recorded status, headers and body, in recorded order. (The two recorded logins differ only by
/// the password, which the recording redacted: they are told apart by order, not by body.)
@Suite(
    "replay serve answers plain HTTP from the recording",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct ReplayServeHTTPTests {
    @Test("org-notify's logins come back from the recording, in order, the wrong password's 401 included")
    func loginsFromTheRecording() async throws {
        let environment = try #require(PeerEnvironment.current)
        let app = try #require(SampleApp.all.first { $0.name == "org-notify" })
        let upstream = try await app.start(in: environment)
        defer { upstream.terminate() }
        let recording = try temporaryRecordingURL("serve-http")
        let proxy = try await Proxy.start(upstream: upstream, recording: recording, in: environment)
        defer { proxy.terminate() }
        let client = try Subprocess(
            name: "login_client.py", executable: environment.python5,
            arguments: [environment.script("login_client.py"), "--url", proxy.url, "--user", "bob"])
        #expect(try await client.output(timeout: .seconds(60)).contains("DONE"))
        proxy.terminate()
        upstream.terminate()

        let server = try await ReplayServe.start(
            recording: recording.path, in: environment, extraArguments: ["--keep-running"])
        defer { server.terminate() }
        let script = """
            import json, requests
            url = '\(server.url)/api/login'
            bad = requests.post(url, json={'user': 'bob', 'password': 'guess'})
            ok = requests.post(url, json={'user': 'bob', 'password': 'bob-password'})
            gone = requests.post(url, json={'user': 'bob', 'password': 'bob-password'})
            print(json.dumps([[r.status_code, r.headers.get('Content-Type'), r.text] for r in (ok, bad, gone)]))
            """
        let python = try Subprocess(name: "requests", executable: environment.python5, arguments: ["-c", script])
        let output = try await python.output(timeout: .seconds(60))
        let answers = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Any]])
        #expect(answers[0][0] as? Int == 200, "\(answers)")
        #expect((answers[0][1] as? String)?.hasPrefix("application/json") == true, "\(answers)")
        #expect((answers[0][2] as? String)?.contains(#""token": "[redacted]", "user": "bob""#) == true, "\(answers)")
        #expect(answers[1][0] as? Int == 401 && answers[1][2] as? String == #"{"error": "bad credentials"}"#)
        #expect(answers[2][0] as? Int == 404, "each recorded exchange answers once")
    }
}
