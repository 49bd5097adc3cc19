import Foundation
import Testing

/// `siotape import har` as a user runs it: a malformed HAR is refused with what is wrong, exit 2,
/// and no recording.
@Suite(
    "siotape import har",
    .enabled(if: PeerEnvironment.current?.siotape != nil, "SIOTAPE_BIN is not set: run tools/test")
)
struct ImportHARTests {
    let siotape = PeerEnvironment.current?.siotape ?? ""

    func run(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try Subprocess(name: "siotape", executable: self.siotape, arguments: arguments)
        defer { process.terminate() }
        let result = try #require(await process.exitStatusAndOutput(timeout: .seconds(60)))
        let stderr = await process.stderr.wait(timeout: .seconds(10)) { $0.closed }?.text ?? ""
        return (result.status, result.stdout, stderr)
    }

    @Test("A malformed HAR gets exit 2 and a message naming what is wrong; nothing is written", arguments: [
        ("not-json", "this is not JSON", "not JSON"),
        ("truncated", #"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"#, "not JSON"),
        ("no-log", #"{"entries": []}"#, #"not a HAR: the top level has no "log""#),
        ("no-url", #"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GET"}, "response": {"status": 200}}]}}"#,
         #"not a HAR: log.entries[0].request has no "url""#),
        ("bad-base64", #"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GET", "url": "http://h/"}, "response": {"status": 200, "content": {"text": "@@@", "encoding": "base64"}}}]}}"#,
         "log.entries[0].response.content.text is marked base64 but is not base64"),
    ])
    func malformed(_ name: String, _ har: String, _ message: String) async throws {
        let directory = try temporaryRecordingURL(name).deletingLastPathComponent()
        let file = directory.appendingPathComponent("\(name).har")
        try Data(har.utf8).write(to: file)
        let out = directory.appendingPathComponent("\(name).siotape.gz")
        let result = try await self.run(["import", "har", file.path, "--out", out.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("siotape: error: \(file.path): \(message)"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// Playwright's HAR of ns-chat's page (Tests/CaptureFixtures/Fixtures/browser-har: the Engine.IO
    /// entries of the HAR BrowserChatTests wrote in a CI run on a loaded machine), whose bob's
    /// handshake answer ends, by its timings, after bob's first request with its sid.
    @Test(
        "Playwright's HAR from a loaded machine replays against a fresh app with no difference",
        .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason))
    func loadedMachinesHARReplays() async throws {
        let environment = try #require(PeerEnvironment.current)
        let har = repositoryRoot() + "/Tests/CaptureFixtures/Fixtures/browser-har/ns-chat-playwright-loaded.har"
        let recording = try temporaryRecordingURL("imported")
        let imported = try await self.run(["import", "har", har, "--out", recording.path])
        #expect(imported.status == 0, "\(imported.stderr)")
        let chat = try #require(SampleApp.all.first { $0.name == "ns-chat" })
        let app = try await chat.start(in: environment)
        defer { app.terminate() }
        let run = try await replayRun(recording.path, target: app.url, arguments: [], auth: false, in: environment)
        #expect(run.status == 0 && run.stderr.contains("2 session(s), 0 with differences"), "\(run.stdout)\(run.stderr)")
    }

    @Test("A missing file gets exit 2")
    func missingFile() async throws {
        let result = try await self.run(["import", "har", "/nonexistent/session.har"])
        #expect(result.status == 2 && result.stderr.contains("cannot read /nonexistent/session.har"))
    }
}
