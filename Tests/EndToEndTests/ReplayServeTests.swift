import Foundation
import Testing

/// `siotape replay serve` as a subprocess: the one place that knows its command line and lines.
enum ReplayServe {
    /// Starts `siotape replay serve RECORDING --listen 127.0.0.1:0` and waits for its readiness line
    /// (`siotape: replaying RECORDING on 127.0.0.1:PORT (...)`).
    static func start(
        recording: String, in environment: PeerEnvironment, extraArguments: [String] = []
    ) async throws -> RunningPeer {
        guard let siotape = environment.siotape else { throw PeerError("SIOTAPE_BIN is not set: run tools/test") }
        let process = try Subprocess(
            name: "siotape replay serve", executable: siotape,
            arguments: ["replay", "serve", recording, "--listen", "127.0.0.1:0"] + extraArguments)
        return try await Proxy.listening(process, announcedBy: "replaying")
    }

    /// Stops the server (if it has not stopped by itself) and returns its exit status and the
    /// summary line.
    static func stop(_ server: RunningPeer) async throws -> (status: Int32, summary: String) {
        server.terminate()
        let status = try #require(server.process.terminationStatus)
        let summary = try await server.process.stderrLine(containing: "replay summary", timeout: .seconds(5))
        return (status, summary)
    }

    /// The repository's `recordings/NAME.siotape.gz`.
    static func sample(_ name: String, in environment: PeerEnvironment) -> String {
        URL(fileURLWithPath: environment.peers).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("recordings/\(name).siotape.gz").path
    }

    /// Bodies for the sample apps' plain HTTP requests whose recordings were made before bodies
    /// were recorded: `tools/apps/NAME/replay-http.txt`, when the app has one (a recording with
    /// bodies needs none).
    static func httpBodies(for app: String, in environment: PeerEnvironment) -> [String] {
        let file = URL(fileURLWithPath: environment.peers).deletingLastPathComponent()
            .appendingPathComponent("apps/\(app)/replay-http.txt").path
        return FileManager.default.fileExists(atPath: file) ? ["--http-file", file] : []
    }
}

/// A sample app's scenario against the mock server, over one transport.
struct ReplayedApp: Sendable, CustomTestStringConvertible {
    let app: SampleApp
    let transport: ClientTransport

    var testDescription: String { "\(app.name) recorded over \(app.transport.rawValue), replayed over \(transport.rawValue)" }

    static let all = SampleApp.all.flatMap { app in
        ClientTransport.allCases.map { ReplayedApp(app: app, transport: $0) }
    }
}

@Suite(
    "siotape replay serve",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct ReplayServeTests {
    @Test("A sample app's scenario passes against the mock server of its recording", arguments: ReplayedApp.all)
    func scenarioPassesAgainstTheRecording(_ replayed: ReplayedApp) async throws {
        let environment = try #require(PeerEnvironment.current)
        let app = SampleApp(
            name: replayed.app.name, transport: replayed.transport, clientEvents: [], serverEvents: [])
        let server = try await ReplayServe.start(
            recording: ReplayServe.sample(app.name, in: environment), in: environment,
            extraArguments: ReplayServe.httpBodies(for: app.name, in: environment) + ["--on-unmatched", "fail"])
        let outcome: Result<String, any Error>
        do {
            outcome = .success(try await app.runScenario(url: server.url, in: environment))
        } catch {
            outcome = .failure(error)
        }
        let (status, summary) = try await ReplayServe.stop(server)
        if case .failure(let error) = outcome {
            Issue.record("scenario failed against replay serve: \(error)\n--- siotape ---\n\(server.process.stderr.snapshot.text.suffix(3000))")
        }
        #expect(status == 0, "replay serve exited \(status): \(server.process.stderr.snapshot.text.suffix(3000))")
        #expect(summary.contains(" 0 unmatched"), "\(summary)")
    }

    @Test("Pairing by namespace or by auth serves the refused and the reconnecting clients right", arguments: ["namespace", "auth"])
    func pairingByConnect(_ mode: String) async throws {
        let environment = try #require(PeerEnvironment.current)
        let app = SampleApp(name: "org-notify", transport: .default, clientEvents: [], serverEvents: [])
        let server = try await ReplayServe.start(
            recording: ReplayServe.sample(app.name, in: environment), in: environment,
            extraArguments: ReplayServe.httpBodies(for: app.name, in: environment) + ["--match", mode, "--on-unmatched", "fail"])
        var failure: (any Error)?
        do { _ = try await app.runScenario(url: server.url, in: environment) } catch { failure = error }
        let (status, summary) = try await ReplayServe.stop(server)
        if let failure { Issue.record("\(failure)") }
        #expect(status == 0 && summary.contains("6/6 recorded session(s) served"), "\(summary)")
    }

    @Test("An EIO3 recording is served to an EIO3 client, which observes what it observed from the real server")
    func engineIO3RecordingServedToEngineIO3Client() async throws {
        let environment = try #require(PeerEnvironment.current)
        for transport in ClientTransport.allCases {
            let upstream = try await Peers.startServer(.sio4, in: environment)
            defer { upstream.terminate() }
            let recording = try temporaryRecordingURL("sio4-\(transport.rawValue)")
            let proxy = try await Proxy.start(upstream: upstream, recording: recording, in: environment)
            let recorded: String
            do {
                recorded = try await Peers.runClient(for: .sio4, url: proxy.url, transport: transport, in: environment)
            } catch {
                Issue.record("\(transport): the client failed through record, against python-socketio 4: \(error)")
                return
            }
            proxy.terminate()
            let proxyStatus = proxy.process.terminationStatus
            try #require(proxyStatus == 0, "\(transport): siotape record exited \(proxyStatus.map(String.init) ?? "?") on SIGTERM")

            let server = try await ReplayServe.start(
                recording: recording.path, in: environment, extraArguments: ["--on-unmatched", "fail"])
            let replayed: String
            do {
                replayed = try await Peers.runClient(for: .sio4, url: server.url, transport: transport, in: environment)
            } catch {
                server.terminate()
                Issue.record("\(transport): the client failed against replay serve: \(error)\n--- replay serve ---\n\(server.process.stderr.snapshot.text.suffix(3000))")
                return
            }
            let (status, summary) = try await ReplayServe.stop(server)
            #expect(replayed == recorded, "the EIO3 client observed something else from the replay (\(transport))")
            #expect(
                status == 0 && summary.contains(" 0 unmatched"),
                "\(transport): exit \(status)\n\(server.process.stderr.snapshot.text.suffix(3000))")
        }
    }

    @Test("The server stops by itself once every recorded session has been served and every client has gone")
    func stopsWhenEverySessionWasServed() async throws {
        let environment = try #require(PeerEnvironment.current)
        let server = try await ReplayServe.start(
            recording: ReplayServe.sample("signalling", in: environment), in: environment,
            extraArguments: ReplayServe.httpBodies(for: "signalling", in: environment))
        let app = SampleApp(name: "signalling", transport: .websocket, clientEvents: [], serverEvents: [])
        _ = try await app.runScenario(url: server.url, in: environment)
        // No signal: the server must exit on its own.
        let exit = await server.process.exitStatusAndOutput(timeout: Peers.clientTimeout)
        #expect(exit?.status == 0, "replay serve did not stop by itself: \(server.process.diagnostics)")
        #expect(server.process.stderr.snapshot.text.contains("replay summary: 3/3 recorded session(s) served"))
    }

    @Test("An ack goes back with the live client's ack id when it differs from the recorded one")
    func ackIDsAreMapped() async throws {
        let environment = try #require(PeerEnvironment.current)
        // Bob's session of chat-acks alone: CONNECT, then presence:list with ack id 1.
        let server = try await ReplayServe.start(
            recording: ReplayServe.sample("chat-acks", in: environment), in: environment,
            extraArguments: ["--session", "mZyLWO-FyG5yN6MzAAAE", "--keep-running"])
        let script = try temporaryRecordingURL("ack-client").deletingLastPathComponent().appendingPathComponent("ack.py")
        try """
            import json, sys, socketio
            sio = socketio.Client()
            sio.connect(sys.argv[1], auth={'userId': 'bob'}, transports=['websocket'], wait_timeout=5)
            sio.emit('not-recorded', {'x': 1}, callback=lambda *a: None)  # takes ack id 1
            print(json.dumps(sio.call('presence:list', timeout=5)))       # ack id 2; recorded: 1
            sio.disconnect()
            """.write(to: script, atomically: true, encoding: .utf8)
        let client = try Subprocess(name: "ack.py", executable: environment.python5, arguments: [script.path, server.url])
        let answer = try await client.output(timeout: Peers.clientTimeout)
        let (status, summary) = try await ReplayServe.stop(server)
        #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == #"{"online": ["alice", "bob", "carol"]}"#)
        #expect(server.process.stderr.snapshot.text.contains("/ EVENT not-recorded #1"))
        #expect(status == 0 && summary.contains("1 unmatched"), "\(summary)")
    }

    @Test(
        "A client packet the recording does not have is reported; --on-unmatched fail exits 1, ignore 0",
        arguments: [("fail", Int32(1)), ("ignore", Int32(0))])
    func unmatchedPackets(_ policy: String, _ expectedStatus: Int32) async throws {
        let environment = try #require(PeerEnvironment.current)
        // The sio5 peers' scenario against the signalling recording: other namespaces and events.
        let server = try await ReplayServe.start(
            recording: ReplayServe.sample("signalling", in: environment), in: environment,
            extraArguments: ["--on-unmatched", policy, "--keep-running"])
        let client = try Subprocess(
            name: "client.py", executable: environment.python5,
            arguments: [environment.script("client.py"), "--url", server.url, "--timeout", "2"])
        _ = await client.exitStatusAndOutput(timeout: Peers.clientTimeout)
        let (status, summary) = try await ReplayServe.stop(server)
        let stderr = server.process.stderr.snapshot.text
        #expect(stderr.contains("unmatched client packet in session"), "\(stderr)")
        #expect(stderr.contains("/admin CONNECT"), "the refused namespace is named: \(stderr)")
        #expect(!summary.contains(" 0 unmatched"), "\(summary)")
        #expect(status == expectedStatus)
    }
}
