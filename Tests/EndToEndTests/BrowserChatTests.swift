import Foundation
import Testing

/// ns-chat's own page (its HTML, its script and the official socket.io client, all served by the
/// app) in Debian's chromium, driven by Playwright (`tools/peers/browser_chat.py`): two users chat
/// through `siotape record` while Playwright records a HAR; then the page runs against `replay
/// serve` of that recording alone, and against `replay serve` of `import har` of the HAR, and shows
/// the same; the imported recording has the packets, events and acks `record` wrote, and `replay
/// run` of it against a fresh app finds no difference.
@Suite(
    "ns-chat's page in a real browser: record, replay serve, import har",
    .serialized,
    .enabled(if: BrowserEnvironment.current != nil, BrowserEnvironment.skipReason),
    .enabled(if: PeerEnvironment.current?.siotape != nil, "SIOTAPE_BIN is not set: run tools/test")
)
struct BrowserChatTests {
    let environment = PeerEnvironment.current!
    let browser = BrowserEnvironment.current!

    /// What each page shows at the end of the scenario, run against the app itself.
    static var expected: [String: Any] {
        [
        "alice": [
            "users": ["alice"],
            "messages": ["you joined lobby", "bob joined lobby", "alice: hello lobby", "(private) bob: hi alice",
                         "(to nobody) not delivered"],
        ],
        "bob": ["users": ["alice", "bob"], "messages": ["you joined lobby", "alice: hello lobby", "(to alice) delivered"]],
        "errors": [String](),
        ]
    }

    @Test("The page through record, then from replay serve of the recording (no --http-file) and of the imported HAR, shows the same; the import's stats are record's")
    func pageThroughRecordReplayAndImport() async throws {
        let recording = try temporaryRecordingURL("browser-chat")
        let directory = recording.deletingLastPathComponent()
        let har = directory.appendingPathComponent("chat.har")
        let imported = directory.appendingPathComponent("imported.siotape.gz")

        let app = try await self.startApp()
        let proxy = try await Proxy.start(upstream: app, recording: recording, in: self.environment)
        let recorded: [String: Any]
        do {
            defer {
                proxy.terminate()
                app.terminate()
            }
            recorded = try await self.runPage(url: proxy.url, har: har.path)
        }
        #expect(NSDictionary(dictionary: recorded).isEqual(to: Self.expected), "through record: \(recorded)")

        // The recording alone serves the page, its scripts and both sessions.
        let served = try await self.replay(recording.path)
        #expect(NSDictionary(dictionary: served.observed).isEqual(to: recorded), "from replay serve: \(served.observed)")
        #expect(served.summary.contains(" 0 unmatched") && served.summary.contains("6 HTTP request(s) answered, 0 not in"), "\(served.summary)")

        // Playwright's HAR of the same traffic (it has the WebSocket messages: `_webSocketMessages`).
        let harText = try String(contentsOf: har, encoding: .utf8)
        #expect(harText.contains("\"_webSocketMessages\""), "Playwright's HAR has no WebSocket messages")
        let importRun = try await self.siotape(["import", "har", har.path, "--out", imported.path])
        #expect(importRun.status == 0, "\(importRun.stderr)")
        let verify = try await self.siotape(["verify", imported.path])
        #expect(verify.status == 0, "\(verify.stdout)")
        let recordStats = try await self.stats(recording.path)
        let importStats = try await self.stats(imported.path)
        for key in ["sio", "eio", "namespaces", "sio_types", "eio_types", "unpaired_acks", "errors"] {
            #expect(NSDictionary(dictionary: importStats).value(forKey: key) as? NSObject == NSDictionary(dictionary: recordStats).value(forKey: key) as? NSObject,
                    "\(key): import \(importStats[key] ?? "-"), record \(recordStats[key] ?? "-")")
        }
        #expect((importStats["sessions"] as? [String: Any])?["count"] as? Int == 2)
        let events = try #require(recordStats["events"] as? [String: [String: Any]])
        let importedEvents = try #require(importStats["events"] as? [String: [String: Any]])
        #expect(Set(events.keys) == Set(importedEvents.keys))
        for (name, counts) in events {
            let other = importedEvents[name] ?? [:]
            #expect(counts["c2s"] as? Int == other["c2s"] as? Int && counts["s2c"] as? Int == other["s2c"] as? Int, "\(name)")
            #expect((counts["acks"] as? [String: Any])?["count"] as? Int == (other["acks"] as? [String: Any])?["count"] as? Int, "\(name) acks")
        }
        #expect((events["private-message"]?["acks"] as? [String: Any])?["count"] as? Int == 2)

        // replay run of the imported recording against a fresh app finds no difference.
        let fresh = try await self.startApp()
        let run: (status: Int32, stdout: String, stderr: String)
        do {
            defer { fresh.terminate() }
            run = try await self.siotape(["replay", "run", imported.path, "--target", fresh.url])
        }
        #expect(run.status == 0 && run.stderr.contains("2 session(s), 0 with differences"), "\(run.stdout)\(run.stderr)")

        // The imported recording serves the page as well.
        let fromImport = try await self.replay(imported.path)
        #expect(NSDictionary(dictionary: fromImport.observed).isEqual(to: recorded), "from the imported HAR: \(fromImport.observed)")
        #expect(fromImport.summary.contains(" 0 unmatched"), "\(fromImport.summary)")
    }

    private func startApp() async throws -> RunningPeer {
        let apps = URL(fileURLWithPath: self.environment.peers).deletingLastPathComponent().appendingPathComponent("apps")
        let process = try Subprocess(
            name: "ns-chat/app.py", executable: self.environment.python5,
            arguments: [apps.appendingPathComponent("ns-chat/app.py").path, "--port", "0",
                        "--socketio-js", self.browser.socketIOClient])
        let line = try await process.firstLine(timeout: Peers.readyTimeout)
        guard line.hasPrefix("READY "), let port = Int(line.dropFirst("READY ".count)) else {
            process.terminate()
            throw PeerError("ns-chat/app.py: expected `READY <port>`, got \(line.debugDescription)")
        }
        return RunningPeer(process: process, port: port)
    }

    private func runPage(url: String, har: String? = nil) async throws -> [String: Any] {
        let driver = try Subprocess(
            name: "browser_chat.py", executable: self.browser.python,
            arguments: [self.environment.script("browser_chat.py"), "--url", url, "--chromium", self.browser.chromium]
                + (har.map { ["--har", $0] } ?? []))
        let output = try await driver.output(timeout: .seconds(120))
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    }

    private func replay(_ recording: String) async throws -> (observed: [String: Any], summary: String) {
        let server = try await ReplayServe.start(recording: recording, in: self.environment)
        let observed: [String: Any]
        do {
            observed = try await self.runPage(url: server.url)
        } catch {
            server.terminate()
            throw error
        }
        let (_, summary) = try await ReplayServe.stop(server)
        return (observed, summary)
    }

    private func stats(_ recording: String) async throws -> [String: Any] {
        let result = try await self.siotape(["inspect", recording, "--stats", "--format", "jsonl"])
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    private func siotape(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try Subprocess(name: "siotape", executable: self.environment.siotape!, arguments: arguments)
        defer { process.terminate() }
        let result = try #require(await process.exitStatusAndOutput(timeout: .seconds(60)))
        let stderr = await process.stderr.wait(timeout: .seconds(10)) { $0.closed }?.text ?? ""
        return (result.status, result.stdout, stderr)
    }
}
