import Foundation
import Synchronization
import Testing

/// The usual chat test against `replay serve`: two clients that look the same through the handshake
/// connect at once, in the opposite order from the recording, then diverge (one echoes, the other
/// joins a room). Each must get its own answers, on every transport, every time.
enum TwinRecording {
    /// `twin_clients.py record` through `siotape record` in front of `server_sio5.py` (the joiner
    /// connects first, the echoer once the joiner was welcomed), made once per test process: the
    /// recording and what the two clients observed from the real server.
    static func shared(in environment: PeerEnvironment) async throws -> (recording: String, observed: JSONValue) {
        try await self.task(environment).value
    }

    private static let made = Mutex<Task<(recording: String, observed: JSONValue), any Error>?>(nil)

    private static func task(_ environment: PeerEnvironment) -> Task<
        (recording: String, observed: JSONValue), any Error
    > {
        self.made.withLock { made in
            if let made { return made }
            let task = Task { try await self.record(in: environment) }
            made = task
            return task
        }
    }

    private static func record(in environment: PeerEnvironment) async throws -> (recording: String, observed: JSONValue)
    {
        let upstream = try await Peers.startServer(.sio5, in: environment)
        defer { upstream.terminate() }
        let recording = try temporaryRecordingURL("twins")
        let proxy = try await Proxy.start(upstream: upstream, recording: recording, in: environment)
        let client = try Subprocess(
            name: "twin_clients.py record", executable: environment.python5,
            arguments: [environment.script("twin_clients.py"), "record", "--url", proxy.url])
        let observed = try JSONValue(parsing: try await client.output(timeout: Peers.clientTimeout))
        proxy.terminate()
        _ = await proxy.process.exitStatusAndOutput(timeout: Peers.clientTimeout)
        return (recording.path, observed)
    }

    /// Checks each run of a `{"runs": [...]}` report: what the clients observed is what they observed
    /// from the real server, and `replay serve --on-unmatched fail` stopped by itself with status 0.
    static func expectEveryRun(_ output: String, observedAs recorded: JSONValue, count: Int) throws {
        let runs = try #require(try JSONValue(parsing: output)["runs"]?.arrayValue)
        #expect(runs.count == count)
        for (index, run) in runs.enumerated() {
            let label = "run \(index + 1)\(run["transport"].map { " over \($0)" } ?? "")"
            #expect(
                run["observed"] == recorded, "\(label): observed \(run["observed"] ?? .null)\n\(run["stderr"] ?? .null)"
            )
            #expect(
                run["status"] == .number(0),
                "\(label): replay serve exited \(run["status"] ?? .null)\n\(run["stderr"] ?? .null)")
        }
    }
}

@Suite(
    "siotape replay serve: two python-socketio clients at once",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct ReplayServeConcurrencyTests {
    static let repetitions = 20

    @Test(
        "Two AsyncClients that connect at once, in the other order than recorded, each get their own answers, 20 times",
        arguments: ClientTransport.allCases)
    func pythonClientsTogether(_ transport: ClientTransport) async throws {
        let environment = try #require(PeerEnvironment.current)
        let siotape = try #require(environment.siotape)
        let (recording, recorded) = try await TwinRecording.shared(in: environment)
        #expect(recorded["echoer"]?["answer"] == .array([.string("hello"), .object(["n": .number(1)])]))
        let client = try Subprocess(
            name: "twin_clients.py replay (\(transport.rawValue))", executable: environment.python5,
            arguments: [
                environment.script("twin_clients.py"), "replay", "--siotape", siotape, "--recording", recording,
                "--transport", transport.rawValue, "--repetitions", String(Self.repetitions),
            ])
        let output = try await client.output(timeout: .seconds(300))
        try TwinRecording.expectEveryRun(output, observedAs: recorded, count: Self.repetitions)
    }
}

@Suite(
    "siotape replay serve: two socket.io browser clients at once",
    .enabled(if: PeerEnvironment.current != nil && BrowserEnvironment.current != nil, BrowserEnvironment.skipReason)
)
struct ReplayServeBrowserTests {
    @Test(
        "Two io({forceNew: true}) connections of a page, opened at once, each get their own answers, 20 times per transport"
    )
    func browserClientsTogether() async throws {
        let environment = try #require(PeerEnvironment.current)
        let browser = try #require(BrowserEnvironment.current)
        let siotape = try #require(environment.siotape)
        let (recording, recorded) = try await TwinRecording.shared(in: environment)
        let driver = try Subprocess(
            name: "browser_twins.py", executable: browser.python,
            arguments: [
                environment.script("browser_twins.py"), "--siotape", siotape, "--recording", recording,
                "--socketio-js", browser.socketIOClient, "--chromium", browser.chromium,
                "--repetitions", String(ReplayServeConcurrencyTests.repetitions),
            ])
        let output = try await driver.output(timeout: .seconds(600))
        try TwinRecording.expectEveryRun(
            output, observedAs: recorded,
            count: ReplayServeConcurrencyTests.repetitions * ClientTransport.allCases.count)
    }
}
