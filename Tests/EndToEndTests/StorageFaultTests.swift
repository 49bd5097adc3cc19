import Foundation
import SIORecording
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Storage faults of `siotape record`: an output that cannot be created is refused at the start
/// (exit 2, nothing listens); a recording that fails while running (disk full, the file deleted)
/// is reported once on stderr, traffic keeps flowing, and the exit status is 2. A file that was
/// cut short by a full disk ends with a complete gzip member: every tool reads it.
@Suite(
    "Storage faults of siotape record",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct StorageFaultTests {
    @Test("An output that cannot be created: a clear error and exit 2 before listening", arguments: [
        "regular-file-as-directory", "proc", "existing-file",
    ])
    func outputNotWritable(_ kind: String) async throws {
        let environment = try #require(PeerEnvironment.current)
        let siotape = try #require(environment.siotape)
        let directory = try temporaryRecordingURL("x").deletingLastPathComponent()
        let file = directory.appendingPathComponent("a-file.siotape.gz")
        try Data("not a directory".utf8).write(to: file)
        let out: String
        switch kind {
        case "regular-file-as-directory": out = file.path + "/sub/"
        case "proc": out = "/proc/siotape-cannot-write-here/"
        default: out = file.path
        }
        let process = try Subprocess(
            name: "siotape record", executable: siotape,
            arguments: ["record", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0", "--out", out])
        let finished = await process.exitStatusAndOutput(timeout: .seconds(30))
        let result = try #require(finished, "siotape record kept running with an unwritable output")
        let stderr = process.stderr.snapshot.text
        #expect(result.status == 2, "exit status \(result.status); stderr: \(stderr)")
        #expect(stderr.contains("error:") && stderr.contains(out.hasSuffix("/") ? String(out.dropLast()) : out),
                "the error does not name the output: \(stderr)")
        #expect(!stderr.contains("listening on"), "it listened although it cannot record")
        if kind == "existing-file" {
            #expect(try String(contentsOf: file, encoding: .utf8) == "not a directory", "an existing file was overwritten")
        }
    }

    @Test("Disk full from the start (/dev/full): traffic flows, one error on stderr, exit 2")
    func diskFull() async throws {
        let (status, stderr) = try await Self.runScenario(recording: URL(fileURLWithPath: "/dev/full"))
        #expect(status == 2, "exit status \(status)")
        Self.expectReportedOnce(stderr, containing: "No space left on device")
    }

    @Test("The disk fills during the session: traffic flows, one error, the file reads cleanly up to the fill")
    func diskFillsDuringSession() async throws {
        let environment = try #require(PeerEnvironment.current)
        let recording = try temporaryRecordingURL("fills")
        let server = try await Peers.startServer(.sio5, in: environment)
        defer { server.terminate() }
        // A file size limit stands in for a small disk: writes past it fail (EFBIG), as on a full one.
        let proxy = try await Proxy.start(
            upstream: server, recording: recording, in: environment,
            extraArguments: ["--flush-interval", "0.05"],
            launcher: ["/bin/sh", "-c", "ulimit -f 32 && trap '' XFSZ && exec \"$@\"", "sh"])
        defer { proxy.terminate() }
        let client = try Subprocess(
            name: "stream_client.py", executable: environment.python5,
            arguments: [environment.script("stream_client.py"), "--url", proxy.url, "--count", "3000"])
        defer { client.terminate() }
        let acked = await client.stdout.wait(timeout: .seconds(120)) { $0.text.contains("ACKED 3000\n") || $0.closed }
        #expect(acked?.text.contains("ACKED 3000\n") == true, "the client stalled once the recording failed\(client.diagnostics)")
        let failed = try await proxy.process.stderrLine(containing: "recording failed", timeout: .seconds(60))
        #expect(failed.contains("too large") || failed.contains("No space"), "\(failed)")
        proxy.terminate()
        let status = await proxy.process.exitStatusAndOutput(timeout: .seconds(10))?.status
        #expect(status == 2, "exit status \(String(describing: status))")
        Self.expectReportedOnce(proxy.process.stderr.snapshot.text, containing: "recording failed")

        // Complete members only: the reader sees a cut-off recording (no trailer), not corruption,
        // and zcat reads every byte without error.
        let reader = try RecordingReader(path: recording.path)
        var count = 0
        while try reader.next() != nil { count += 1 }
        #expect(reader.damage?.kind == .truncated, "\(String(describing: reader.damage))")
        #expect(count > 10)
        let zcat = try Subprocess(name: "zcat", executable: "/usr/bin/env", arguments: ["zcat", recording.path])
        let unzipped = try #require(await zcat.exitStatusAndOutput(timeout: .seconds(30)))
        #expect(unzipped.status == 0, "zcat failed: \(zcat.stderr.snapshot.text)")
        #expect(unzipped.stdout.hasSuffix("\n"))
        #expect(unzipped.stdout.split(separator: "\n").count == count + 1)
    }

    @Test("The recording is deleted while recording: traffic flows, one error, exit 2")
    func fileDeleted() async throws {
        let recording = try temporaryRecordingURL("deleted")
        let (status, stderr) = try await Self.runScenario(recording: recording) {
            try FileManager.default.removeItem(at: recording)
        }
        #expect(status == 2, "exit status \(status)")
        Self.expectReportedOnce(stderr, containing: "deleted")
        #expect(!FileManager.default.fileExists(atPath: recording.path))
    }

    /// The whole client scenario through a proxy recording to `recording`; `afterStart` runs once
    /// the proxy listens. Returns the proxy's exit status (after SIGTERM) and its stderr.
    static func runScenario(
        recording: URL, afterStart: () throws -> Void = {}
    ) async throws -> (Int32, String) {
        let environment = try #require(PeerEnvironment.current)
        let server = try await Peers.startServer(.sio5, in: environment)
        defer { server.terminate() }
        let proxy = try await Proxy.start(
            upstream: server, recording: recording, in: environment, extraArguments: ["--flush-interval", "0.05"])
        defer { proxy.terminate() }
        try afterStart()
        let report = try await Peers.runClient(for: .sio5, url: proxy.url, transport: .default, in: environment)
        try Scenario.expectObservations(in: ScenarioReport(report), server: .sio5)
        proxy.terminate()
        let status = await proxy.process.exitStatusAndOutput(timeout: .seconds(10))?.status ?? -1
        return (status, proxy.process.stderr.snapshot.text)
    }

    /// The failure is on stderr exactly once while running (not once per record), plus the final
    /// line that says the recording is incomplete.
    static func expectReportedOnce(_ stderr: String, containing text: String) {
        let lines = stderr.split(separator: "\n")
        let reports = lines.filter { $0.contains("recording failed, traffic is still relayed") }
        #expect(reports.count == 1, "reported \(reports.count) times:\n\(stderr.suffix(3000))")
        #expect(reports.first?.contains(text) == true, "\(reports)")
        #expect(lines.contains { $0.contains("error: the recording is incomplete") }, "\(stderr.suffix(3000))")
        #expect(lines.contains { $0.contains("records dropped") }, "the summary does not count the lost records")
    }
}
