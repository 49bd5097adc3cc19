import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// What `siotape replay run` needs for one sample recording, and the one packet its changed mode alters.
struct ReplayRunCase: Sendable, CustomTestStringConvertible {
    let app: SampleApp
    /// `SIOTAPE_APP_CHANGE` for the changed app.
    let change: String
    /// The recorded session whose packet changes (number in the recording) and how to find the packet.
    let changedSession: Int
    let changedKind: String
    let changedPacket: @Sendable (Record.SocketPacket) -> Bool
    /// Text the diff must show for it.
    let diffMentions: String

    var testDescription: String { self.app.name }

    static let all: [ReplayRunCase] = [
        ReplayRunCase(
            app: SampleApp.all[0],
            change: "reply",
            changedSession: 2,
            changedKind: "changed",
            changedPacket: { $0.direction == .serverToClient && $0.packet.eventName == "error" },
            diffMentions: "six-digit"
        ),
        ReplayRunCase(
            app: SampleApp.all[1],
            change: "error",
            changedSession: 0,
            changedKind: "changed",
            changedPacket: { $0.packet.type == .connectError },
            diffMentions: "bad signature"
        ),
        ReplayRunCase(
            app: SampleApp.all[2],
            change: "ack",
            changedSession: 3,
            changedKind: "changed",
            changedPacket: { $0.direction == .serverToClient && $0.packet.type == .ack && $0.packet.ackID == 3 },
            diffMentions: "queued"
        ),
        ReplayRunCase(
            app: SampleApp.all[3],
            change: "drop",
            changedSession: 0,
            changedKind: "missing",
            changedPacket: { $0.packet.json.map { String(buffer: $0) }?.contains("step 3/6") == true },
            diffMentions: "[build] step 3/6"
        ),
        ReplayRunCase(
            app: SampleApp.all[4],
            change: "binary",
            changedSession: 0,
            changedKind: "changed",
            changedPacket: { $0.direction == .serverToClient && $0.packet.type == .binaryEvent },
            diffMentions: "attachment 0"
        ),
    ]

    var recording: String { repositoryRoot() + "/recordings/\(self.app.name).siotape.gz" }
}

func repositoryRoot() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

@Suite(
    "siotape replay run against the sample apps",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct ReplayRunTests {
    @Test("Replaying the recording against the live app finds no difference", arguments: ReplayRunCase.all)
    func identical(_ replay: ReplayRunCase) async throws {
        let environment = try #require(PeerEnvironment.current)
        let app = try await startApp(replay.app, change: nil, in: environment)
        defer { app.terminate() }
        let run = try await replayRun(replay.recording, target: app.url, arguments: [], in: environment)
        #expect(run.status == 0, "replay run reported differences:\n\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test(
        "In its changed mode the app differs in exactly the one packet, and the JUnit report shows it",
        arguments: ReplayRunCase.all
    )
    func changed(_ replay: ReplayRunCase) async throws {
        let environment = try #require(PeerEnvironment.current)
        let app = try await startApp(replay.app, change: replay.change, in: environment)
        defer { app.terminate() }
        let report = try temporaryRecordingURL("\(replay.app.name)-junit").deletingLastPathComponent()
            .appendingPathComponent("junit.xml")
        let run = try await replayRun(
            replay.recording,
            target: app.url,
            arguments: ["--fast", "--report", report.path],
            in: environment
        )
        #expect(run.status == 1, "expected exit 1:\n\(run.stdout)\n\(run.stderr)")

        let (sid, index) = try recordedPacket(replay)
        let titles = run.stdout.split(separator: "\n").filter { $0.hasPrefix("session ") }
        #expect(titles.count == 1, "expected one difference:\n\(run.stdout)")
        let title = try #require(titles.first)
        #expect(title.hasPrefix("session \(replay.changedSession) (\(sid))"), "\(title)")
        #expect(title.contains("packet #\(index): \(replay.changedKind)"), "\(title)")
        #expect(run.stdout.contains(replay.diffMentions), "\(run.stdout)")

        let junit = try JUnitSummary(contentsOf: report)
        #expect(junit.testcases.count == sessionCount(replay.recording))
        #expect(junit.failures == 1)
        let failing = junit.testcases.filter { $0.failure != nil }
        #expect(failing.map(\.name) == ["session \(replay.changedSession) \(sid)"])
        #expect(failing.first?.failure?.contains(replay.diffMentions) == true)
    }

    @Test("--ignore leaves a volatile field out; --session replays only the sessions named")
    func ignoreAndSession() async throws {
        let environment = try #require(PeerEnvironment.current)
        let chat = ReplayRunCase.all[2]
        let app = try await startApp(chat.app, change: chat.change, in: environment)
        defer { app.terminate() }
        let ignored = try await replayRun(
            chat.recording, target: app.url, arguments: ["--fast", "--ignore", "$..queued"], in: environment)
        #expect(ignored.status == 0, "\(ignored.stdout)\n\(ignored.stderr)")

        let signalling = ReplayRunCase.all[0]
        let room = try await startApp(signalling.app, change: nil, in: environment)
        defer { room.terminate() }
        let one = try await replayRun(
            signalling.recording, target: room.url, arguments: ["--fast", "--session", "2"], in: environment)
        #expect(one.status == 0, "\(one.stdout)\n\(one.stderr)")
        #expect(one.stderr.contains("replay run: 1 session(s), 0 with differences"), "\(one.stderr)")
    }

    @Test("Ack ids the live server chooses are mapped to the recorded ones")
    func serverAckIDsAreMapped() async throws {
        let environment = try #require(PeerEnvironment.current)
        // job-stream's server asks for an ack (confirm_complete, id 1 live); in this copy of the
        // recording the server used id 41. The reply must carry the live id, or the server never
        // sees it and the recorded ack_received is missing.
        let text = try gunzip(ReplayRunCase.all[3].recording)
        let lines = text.split(separator: "\n").map { line -> String in
            var line = String(line)
            if line.contains("\"event\":\"confirm_complete\"")
                || line.contains("\"dir\":\"c2s\"") && line.contains("\"type\":\"ACK\"")
            {
                line = line.replacingOccurrences(of: "\"id\":1,", with: "\"id\":41,")
            }
            return line
        }
        #expect(lines.filter { $0.contains("\"id\":41,") }.count == 4)
        let copy = try temporaryRecordingURL("job-stream-ids").deletingPathExtension().appendingPathExtension("jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: copy, atomically: true, encoding: .utf8)

        let app = try await startApp(ReplayRunCase.all[3].app, change: nil, in: environment)
        defer { app.terminate() }
        let run = try await replayRun(
            copy.path,
            target: app.url,
            arguments: ["--fast"],
            in: environment
        )
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    }

    @Test("A fresh recording made through siotape record replays against a fresh app")
    func recordThenReplay() async throws {
        let environment = try #require(PeerEnvironment.current)
        let app = SampleApp.all[2]  // chat-acks
        let recording = try temporaryRecordingURL("fresh-\(app.name)")
        do {
            let upstream = try await startApp(app, change: nil, in: environment)
            defer { upstream.terminate() }
            let proxy = try await Proxy.start(
                upstream: upstream,
                recording: recording,
                in: environment,
                extraArguments: ["--keep-credentials"]
            )
            _ = try await app.runScenario(url: proxy.url, in: environment)
            proxy.terminate()
        }
        let fresh = try await startApp(app, change: nil, in: environment)
        defer { fresh.terminate() }
        // Credentials were kept, so the recorded CONNECT payloads are replayed as they are.
        let run = try await replayRun(
            recording.path,
            target: fresh.url,
            arguments: ["--fast"],
            auth: false,
            in: environment
        )
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    }

    @Test(
        "Apps that echo socket ids replay with no difference over every transport",
        arguments: [
            ("ns-chat", "polling"), ("ns-chat", "websocket"), ("signalling", "polling"), ("signalling", "websocket"),
        ]
    )
    func echoedIDs(_ name: String, _ transport: String) async throws {
        // ns-chat lists each user's socketId and sends private messages `from: <socket id>`, to a
        // socket id the client learned from that list; signalling tags relayed offers with the
        // sender's sid. All of them are the live server's ids on replay.
        let environment = try #require(PeerEnvironment.current)
        let replay = try #require(ReplayRunCase.all.first { $0.app.name == name })
        let app = try await startApp(replay.app, change: nil, in: environment)
        defer { app.terminate() }
        let run = try await replayRun(
            replay.recording, target: app.url, arguments: ["--fast", "--transport", transport], in: environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    }

    @Test("--no-map-ids compares the ids as recorded: every echoed id is a difference")
    func idMappingOff() async throws {
        let environment = try #require(PeerEnvironment.current)
        let replay = ReplayRunCase.all[0]  // signalling
        let app = try await startApp(replay.app, change: nil, in: environment)
        defer { app.terminate() }
        let run = try await replayRun(
            replay.recording, target: app.url, arguments: ["--fast", "--no-map-ids"], in: environment)
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("$[1].from: recorded"), "\(run.stdout)")
        #expect(run.stdout.contains("$[1].id: recorded"), "\(run.stdout)")
    }

    @Test("--record-to writes what a changed app answered; that recording replays against it with no difference")
    func recordTo() async throws {
        let environment = try #require(PeerEnvironment.current)
        let replay = try #require(ReplayRunCase.all.first { $0.app.name == "ns-chat" })
        let updated = try temporaryRecordingURL("ns-chat-updated")
        do {
            let changed = try await startApp(replay.app, change: replay.change, in: environment)
            defer { changed.terminate() }
            let run = try await replayRun(
                replay.recording,
                target: changed.url,
                arguments: ["--fast", "--record-to", updated.path],
                in: environment
            )
            #expect(run.status == 1, "the changed app differs from the recording:\n\(run.stdout)\n\(run.stderr)")
        }
        // Credentials given with --auth stay out of the new recording.
        let text = try gunzip(updated.path)
        #expect(!text.contains("admin-secret") && !text.contains("guess"), "a credential was written")
        #expect(text.contains("[redacted]"))
        #expect(sessionCount(updated.path) == sessionCount(replay.recording))

        let fresh = try await startApp(replay.app, change: replay.change, in: environment)
        defer { fresh.terminate() }
        let again = try await replayRun(updated.path, target: fresh.url, arguments: ["--fast"], in: environment)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
    }

    @Test("A redacted CONNECT left without credentials is named; --auth-file supplies them by namespace")
    func missingCredentials() async throws {
        let environment = try #require(PeerEnvironment.current)
        let replay = try #require(ReplayRunCase.all.first { $0.app.name == "ns-chat" })
        let none = try await replayRun(
            replay.recording, target: "http://127.0.0.1:1", arguments: [], auth: false, in: environment)
        #expect(none.status == 2)
        #expect(
            none.stderr.contains("session 3 (") && none.stderr.contains("session 4 (")
                && none.stderr.contains("namespace /admin"),
            "\(none.stderr)"
        )
        let file = try temporaryRecordingURL("auth").deletingPathExtension().appendingPathExtension("json")
        let credentials = #"{"3": {"token": "guess"}, "/admin": {"token": "admin-secret"}}"#
        try credentials.write(to: file, atomically: true, encoding: .utf8)
        let app = try await startApp(replay.app, change: nil, in: environment)
        defer { app.terminate() }
        let run = try await replayRun(
            replay.recording,
            target: app.url,
            arguments: ["--fast", "--auth-file", file.path],
            auth: false,
            in: environment
        )
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    }

    @Test("Polling upgraded to WebSocket replays against a server that upgrades as Node's engine.io does")
    func nodeStyleUpgrade() async throws {
        // tools/peers/node_upgrade_server.py answers a GET still pending when `5` arrives with a lone
        // `1`, as engine.io's polling transport does when it is closed for the upgrade. A client that
        // kept polling across the upgrade saw the session end there; one that pauses polling first,
        // as socket.io-client does, never has a GET pending then. The recording is node5-default's
        // first session, cut down; its ids are the Node server's, mapped to the live ones.
        let environment = try #require(PeerEnvironment.current)
        let server = try Subprocess(
            name: "node_upgrade_server.py",
            executable: environment.python5,
            arguments: [environment.script("node_upgrade_server.py")]
        )
        defer { server.terminate() }
        let line = try await server.firstLine(timeout: Peers.readyTimeout)
        let port = try #require(line.hasPrefix("READY ") ? Int(line.dropFirst(6)) : nil, "\(line)")
        let recording = try temporaryRecordingURL("node-upgrade").deletingPathExtension()
            .appendingPathExtension("jsonl")
        try Self.nodeUpgradeRecording.write(to: recording, atomically: true, encoding: .utf8)
        for _ in 0..<3 {
            let run = try await replayRun(
                recording.path, target: "http://127.0.0.1:\(port)", arguments: ["--fast"], in: environment)
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        }
    }

    static let nodeUpgradeRecording = """
        {"format":"siotape","version":1,"started":"2026-11-21T16:55:18.000000Z","wall_us":1795280118000000,\
        "tool":"siotape 0.1.0","upstream":"http://127.0.0.1:3005","redacted":true}
        {"t":1000,"k":"open","sid":"88Sz0ZMO4MucI2y_AAAK","conn":1,"eio":4,"tr":"polling","path":"/socket.io/",\
        "query":[["EIO","4"],["transport","polling"]],"headers":[["User-Agent","node-XMLHttpRequest"]],\
        "handshake":{"sid":"88Sz0ZMO4MucI2y_AAAK","upgrades":["websocket"],"pingInterval":2000,"pingTimeout":2000,\
        "maxPayload":1000000}}
        {"t":2000,"k":"upgrade","sid":"88Sz0ZMO4MucI2y_AAAK","conn":3}
        {"t":3000,"k":"sio","sid":"88Sz0ZMO4MucI2y_AAAK","conn":3,"dir":"c2s","tr":"websocket","type":"CONNECT",\
        "nsp":"/","data":{}}
        {"t":4000,"k":"sio","sid":"88Sz0ZMO4MucI2y_AAAK","conn":3,"dir":"s2c","tr":"websocket","type":"CONNECT",\
        "nsp":"/","data":{"sid":"exQ_snSKQVTePTHLAAAI"}}
        {"t":5000,"k":"sio","sid":"88Sz0ZMO4MucI2y_AAAK","conn":3,"dir":"c2s","tr":"websocket","type":"EVENT",\
        "nsp":"/","id":0,"event":"echo","data":["echo",{"hello":"wörld","n":[1,2.5,null,true]}]}
        {"t":6000,"k":"sio","sid":"88Sz0ZMO4MucI2y_AAAK","conn":3,"dir":"s2c","tr":"websocket","type":"ACK",\
        "nsp":"/","id":0,"data":[{"hello":"wörld","n":[1,2.5,null,true]}]}
        {"t":7000,"k":"sio","sid":"88Sz0ZMO4MucI2y_AAAK","conn":3,"dir":"c2s","tr":"websocket","type":"EVENT",\
        "nsp":"/","event":"whoami","data":["whoami"]}
        {"t":8000,"k":"sio","sid":"88Sz0ZMO4MucI2y_AAAK","conn":3,"dir":"s2c","tr":"websocket","type":"EVENT",\
        "nsp":"/","event":"you","data":["you",{"id":"exQ_snSKQVTePTHLAAAI"}]}
        {"t":9000,"k":"close","sid":"88Sz0ZMO4MucI2y_AAAK","cause":"client close packet"}
        {"t":10000,"k":"end","records":9}

        """

    @Test("An unreachable target or a bad recording exits 2")
    func errorsExit2() async throws {
        let environment = try #require(PeerEnvironment.current)
        let closed = try await replayRun(
            ReplayRunCase.all[0].recording,
            target: "http://127.0.0.1:1",
            arguments: [],
            in: environment
        )
        #expect(closed.status == 2)
        #expect(closed.stderr.contains("127.0.0.1:1"), "\(closed.stderr)")

        let bad = try temporaryRecordingURL("bad").deletingPathExtension().appendingPathExtension("jsonl")
        try "this is not a recording\n".write(to: bad, atomically: true, encoding: .utf8)
        let refused = try await replayRun(bad.path, target: "http://127.0.0.1:1", arguments: [], in: environment)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("not a siotape recording"), "\(refused.stderr)")
    }
}

// MARK: - Helpers

/// Starts the app, in its changed mode when asked, and sets up the state the recording assumes
/// that came from plain HTTP calls, for runs without `--http` (which replay Engine.IO sessions
/// only): job-stream's two executions.
private func startApp(_ app: SampleApp, change: String?, in environment: PeerEnvironment) async throws -> RunningPeer {
    let peer = try await launchApp(app, change: change, in: environment)
    if app.name == "job-stream" {
        for (name, lines) in [("build", 6), ("test", 3)] {
            let created = try await httpPost(
                peer.url + "/api/ingest",
                json: "{\"name\":\"\(name)\",\"lines\":\(lines)}",
                in: environment
            )
            #expect(created.contains("execution_id"), "POST /api/ingest: \(created)")
        }
    }
    return peer
}

private func httpPost(_ url: String, json: String, in environment: PeerEnvironment) async throws -> String {
    let program = """
        import sys, urllib.request
        r = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={'Content-Type': 'application/json'})
        print(urllib.request.urlopen(r, timeout=10).read().decode())
        """
    let process = try Subprocess(
        name: "POST \(url)",
        executable: environment.python5,
        arguments: ["-c", program, url, json]
    )
    return try await process.output(timeout: .seconds(30))
}

func launchApp(_ app: SampleApp, change: String?, in environment: PeerEnvironment) async throws -> RunningPeer {
    guard let change else { return try await app.start(in: environment) }
    let process = try Subprocess(
        name: "\(app.name)/app.py (\(change))",
        executable: "/usr/bin/env",
        arguments: [
            "SIOTAPE_APP_CHANGE=\(change)", environment.python5,
            repositoryRoot() + "/tools/apps/\(app.name)/app.py", "--port", "0",
        ]
    )
    let line = try await process.firstLine(timeout: Peers.readyTimeout)
    guard line.hasPrefix("READY "), let port = Int(line.dropFirst("READY ".count)) else {
        process.terminate()
        throw PeerError("\(app.name)/app.py: expected `READY <port>`, got \(line.debugDescription)")
    }
    return RunningPeer(process: process, port: port)
}

struct ReplayRunOutput {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `siotape replay run` with the credentials each sample recording needs.
func replayRun(
    _ recording: String,
    target: String,
    arguments: [String],
    auth: Bool = true,
    in environment: PeerEnvironment
) async throws -> ReplayRunOutput {
    let siotape = try #require(environment.siotape, "SIOTAPE_BIN is not set: run tools/test")
    var environmentVariables: [String] = []
    var authArguments: [String] = []
    if auth {
        if recording.contains("org-notify") {
            let tokens = try await mintTokens(in: environment)
            authArguments = [
                "--auth", "0={\"token\":\"\(tokens[0])\"}", "--auth", "2={\"token\":\"\(tokens[1])\"}",
                "--auth", "3={\"token\":\"\(tokens[2])\"}", "--auth", "4={\"token\":\"\(tokens[3])\"}",
                "--auth", "5={\"token\":\"\(tokens[1])\"}",
            ]
        } else if recording.contains("chat-acks") {
            authArguments = ["alice", "bob", "carol", "alice"].enumerated().flatMap { i, user in
                ["--auth", "\(i + 1)={\"userId\":\"\(user)\"}"]
            }
        } else if recording.contains("ns-chat") {
            // The intruder's guess per session; the admin's secret from the environment.
            authArguments = ["--auth", "3={\"token\":\"guess\"}"]
            environmentVariables = ["SIOTAPE_AUTH={\"token\":\"admin-secret\"}"]
        }
    }
    let process = try Subprocess(
        name: "siotape replay run",
        executable: "/usr/bin/env",
        arguments: environmentVariables + [siotape, "replay", "run", recording, "--target", target]
            + authArguments + arguments
    )
    guard let result = await process.exitStatusAndOutput(timeout: .seconds(120)) else {
        throw PeerError("siotape replay run did not finish\(process.diagnostics)")
    }
    return ReplayRunOutput(status: result.status, stdout: result.stdout, stderr: process.stderr.snapshot.text)
}

/// org-notify's HS256 tokens, minted the way its scenario does: forged (wrong secret), alice, bob, carol.
func mintTokens(in environment: PeerEnvironment) async throws -> [String] {
    let program = """
        import sys; sys.path.insert(0, sys.argv[1]); import jwt_hs256
        print(jwt_hs256.encode({'sub': 'mallory', 'org': 'acme'}, b'not-the-secret'))
        for user, org in (('alice', 'acme'), ('bob', 'acme'), ('carol', 'globex')):
            print(jwt_hs256.encode({'sub': user, 'org': org}))
        """
    let process = try Subprocess(
        name: "mint tokens",
        executable: environment.python5,
        arguments: ["-c", program, repositoryRoot() + "/tools/apps/org-notify"]
    )
    return try await process.output(timeout: .seconds(30)).split(separator: "\n").map(String.init)
}

/// The recorded sid of the changed session and the index of the changed packet in it.
private func recordedPacket(_ replay: ReplayRunCase) throws -> (String, Int) {
    let records = try readRecording(URL(fileURLWithPath: replay.recording))
    let sids = records.compactMap { record -> String? in
        if case .sessionOpened(let open) = record.event { return open.sid }
        return nil
    }
    let sid = sids[replay.changedSession]
    let packets = records.compactMap(\.socketPacket).filter { $0.sid == sid }
    let index = try #require(packets.firstIndex(where: replay.changedPacket), "no such packet in \(sid)")
    return (sid, index)
}

private func sessionCount(_ recording: String) -> Int {
    (try? readRecording(URL(fileURLWithPath: recording)))?.filter {
        if case .sessionOpened = $0.event { true } else { false }
    }.count ?? -1
}

private func gunzip(_ path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "gzip -dc \"$0\"", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// The parts of a JUnit XML report the tests look at.
struct JUnitSummary {
    struct TestCase {
        var name: String
        var failure: String?
    }

    var failures = 0
    var testcases: [TestCase] = []

    init(contentsOf url: URL) throws {
        let delegate = Delegate()
        let parser = XMLParser(data: try Data(contentsOf: url))
        parser.delegate = delegate
        guard parser.parse() else {
            throw PeerError("the JUnit report does not parse: \(String(describing: parser.parserError))")
        }
        self.failures = delegate.failures
        self.testcases = delegate.testcases
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var failures = 0
        var testcases: [TestCase] = []
        var inFailure = false

        func parser(
            _ parser: XMLParser,
            didStartElement element: String,
            namespaceURI: String?,
            qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            switch element {
            case "testsuite": self.failures = Int(attributes["failures"] ?? "") ?? -1
            case "testcase": self.testcases.append(TestCase(name: attributes["name"] ?? ""))
            case "failure":
                self.inFailure = true
                self.testcases[self.testcases.count - 1].failure = attributes["message"] ?? ""
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if self.inFailure { self.testcases[self.testcases.count - 1].failure! += string }
        }

        func parser(
            _ parser: XMLParser,
            didEndElement element: String,
            namespaceURI: String?,
            qualifiedName: String?
        ) {
            if element == "failure" { self.inFailure = false }
        }
    }
}

@Suite(
    "siotape replay run: Engine.IO v3/v4 over every transport",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct ReplayRunTransportTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let server: ServerKind
        let recorded: ClientTransport
        /// `--transport` for the replay, `nil`: as recorded.
        let replayed: String?
        var testDescription: String {
            "\(server.rawValue), recorded over \(recorded.rawValue)" + (replayed.map { ", replayed over \($0)" } ?? "")
        }
    }

    static let cases: [Case] =
        ServerKind.allCases.flatMap { kind in
            ClientTransport.allCases.map { Case(server: kind, recorded: $0, replayed: nil) }
        }
        + [
            Case(server: .sio5, recorded: .polling, replayed: "websocket"),
            Case(server: .sio4, recorded: .websocket, replayed: "polling"),
        ]

    /// The peers' scenario (events and acks both ways, binary, rooms, a refused namespace, a
    /// server-side namespace disconnect) recorded through `siotape record`, then replayed against a
    /// fresh server of the same kind. python-socketio runs handlers in threads, so the order of
    /// packets caused by concurrent events is not fixed: `--any-order`.
    @Test("A recording of the peers' scenario replays against a fresh server", arguments: cases)
    func recordThenReplay(_ c: Case) async throws {
        let environment = try #require(PeerEnvironment.current)
        let recording = try temporaryRecordingURL("peers-\(c.server.rawValue)-\(c.recorded.rawValue)")
        do {
            let server = try await Peers.startServer(c.server, in: environment)
            defer { server.terminate() }
            let proxy = try await Proxy.start(
                upstream: server,
                recording: recording,
                in: environment,
                extraArguments: ["--keep-credentials"]
            )
            _ = try await Peers.runClient(for: c.server, url: proxy.url, transport: c.recorded, in: environment)
            proxy.terminate()
        }
        let fresh = try await Peers.startServer(c.server, in: environment)
        defer { fresh.terminate() }
        let siotape = try #require(environment.siotape)
        let process = try Subprocess(
            name: "siotape replay run",
            executable: siotape,
            arguments: ["replay", "run", recording.path, "--target", fresh.url, "--fast", "--any-order"]
                + (c.replayed.map { ["--transport", $0] } ?? [])
        )
        let result = try #require(await process.exitStatusAndOutput(timeout: .seconds(60)))
        #expect(result.status == 0, "\(result.stdout)\(process.diagnostics)")
        let summary = process.stderr.snapshot.text
        #expect(summary.contains("3 session(s), 0 with differences"), "\(summary)")
    }
}
