import Foundation
import Testing

/// `record --live text` (the default live view): the terminal shows every record the recording
/// holds, in the recording's order, as `inspect --engine` shows the recording afterwards; only
/// arguments and paths longer than the live view's width are cut (with `…` in their middle or at
/// their end).
struct LiveTextTests {
    @Test(arguments: ClientTransport.allCases)
    func theLiveViewShowsTheRecordingAsInspectDoes(transport: ClientTransport) async throws {
        let environment = try #require(PeerEnvironment.current)
        let siotape = try #require(environment.siotape)
        let server = try await Peers.startServer(.sio5, in: environment)
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("live-text")
        let proxy = try await Proxy.start(
            upstream: server, recording: recording, in: environment, extraArguments: ["--live", "text", "--color", "never"])
        defer { proxy.terminate() }
        let client = try Subprocess(
            name: "client.py", executable: environment.python5,
            arguments: [environment.script("client.py"), "--url", proxy.url, "--transport", transport.rawValue])
        _ = try await client.output(timeout: .seconds(60))
        proxy.terminate()
        let live = try #require(await proxy.process.stdout.wait(timeout: .seconds(30)) { $0.closed }).text

        let inspect = try Subprocess(
            name: "siotape inspect", executable: siotape,
            arguments: ["inspect", recording.path, "--engine", "--color", "never"])
        let shown = try #require(await inspect.exitStatusAndOutput(timeout: .seconds(60)))
        try #require(shown.status == 0)
        let liveLines = live.split(separator: "\n"), recorded = shown.stdout.split(separator: "\n")
        // The scenario's three clients, their namespaces, events, acks and binary attachments.
        try #require(recorded.count > 40 && recorded.contains { $0.contains(" EVENT ") } && recorded.contains { $0.contains(" ACK ") })
        #expect(liveLines.count == recorded.count)
        func isCut(_ line: Substring, from full: Substring) -> Bool {
            guard let cut = line.firstIndex(of: "…") else { return line == full }
            let head = line[..<cut], tail = line[line.index(after: cut)...]
            return full.count > head.count + tail.count && full.hasPrefix(head) && full.hasSuffix(tail)
        }
        for (index, (line, expected)) in zip(liveLines, recorded).enumerated() {
            #expect(
                isCut(line, from: expected), "line \(index + 1): live \(line.debugDescription), inspect \(expected.debugDescription)")
        }
    }
}
