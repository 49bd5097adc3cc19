import Foundation
import SIORecording
import SIOWire
import Testing

/// One of the sample apps in `tools/apps/` and the transport its scenario uses.
struct SampleApp: Sendable, CustomTestStringConvertible {
    let name: String
    let transport: ClientTransport
    /// Event names the recording must show, per direction.
    let clientEvents: Set<String>
    let serverEvents: Set<String>

    var testDescription: String { "\(name) over \(transport.rawValue)" }

    static let all = [
        SampleApp(
            name: "signalling", transport: .websocket,
            clientEvents: ["join_room", "offer", "answer", "ice_candidate", "ping"],
            serverEvents: ["connected", "join_room_success", "offer", "answer", "ice_candidate"]),
        SampleApp(
            name: "org-notify", transport: .default,
            clientEvents: ["video:subscribe", "video:process"],
            serverEvents: ["video:progress", "video:processed"]),
        SampleApp(
            name: "chat-acks", transport: .default,
            clientEvents: ["conversation:join", "message:send", "message:read", "typing:start", "message:private"],
            serverEvents: ["message:new", "message:read", "user:online", "user:offline", "message:private"]),
        SampleApp(
            name: "job-stream", transport: .polling,
            clientEvents: ["join_execution"],
            serverEvents: ["output", "complete", "confirm_complete"]),
        SampleApp(
            name: "ns-chat", transport: .default,
            clientEvents: ["join", "join-room", "room-message", "private-message", "admin-broadcast", "file-share"],
            serverEvents: ["users-list", "room-message", "admin-broadcast", "file-shared"]),
    ]

    func start(in environment: PeerEnvironment) async throws -> RunningPeer {
        let process = try Subprocess(
            name: "\(name)/app.py", executable: environment.python5,
            arguments: [self.appsDirectory(environment) + "/\(name)/app.py", "--port", "0"])
        let line = try await process.firstLine(timeout: Peers.readyTimeout)
        guard line.hasPrefix("READY "), let port = Int(line.dropFirst("READY ".count)) else {
            process.terminate()
            throw PeerError("\(name)/app.py: expected `READY <port>`, got \(line.debugDescription)")
        }
        return RunningPeer(process: process, port: port)
    }

    /// Runs the app's scenario against `url`; it exits non-zero when it did not receive what it expects.
    func runScenario(url: String, in environment: PeerEnvironment) async throws -> String {
        let process = try Subprocess(
            name: "\(name)/scenario.py", executable: environment.python5,
            arguments: [
                self.appsDirectory(environment) + "/\(name)/scenario.py", "--url", url, "--transport",
                transport.rawValue,
            ])
        return try await process.output(timeout: Peers.clientTimeout)
    }

    private func appsDirectory(_ environment: PeerEnvironment) -> String {
        URL(fileURLWithPath: environment.peers).deletingLastPathComponent().appendingPathComponent("apps").path
    }
}

@Suite(
    "Sample apps through siotape record",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct SampleAppTests {
    @Test("The scenario passes directly and through the proxy, and the recording shows it", arguments: SampleApp.all)
    func scenarioThroughProxy(_ app: SampleApp) async throws {
        let environment = try #require(PeerEnvironment.current)
        let upstream = try await app.start(in: environment)
        defer { upstream.terminate() }
        let recording = try temporaryRecordingURL(app.name)
        let proxy = try await Proxy.start(upstream: upstream, recording: recording, in: environment)

        let proxied = try await app.runScenario(url: proxy.url, in: environment)
        let direct = try await app.runScenario(url: upstream.url, in: environment)
        proxy.terminate()
        #expect(proxied == direct, "the scenario observed something different through the proxy")

        let records = try readRecording(recording)
        let packets = records.compactMap(\.socketPacket)
        // Flask's development server (Werkzeug) writes an HTTP 400 onto the socket after its close
        // frame; that is recorded as bytes after the close. Nothing else may fail to decode.
        for record in records {
            if case .undecodable(let raw) = record.event {
                #expect(raw.reason.hasPrefix("bytes after the close frame"), "undecodable \(raw.layer.rawValue): \(raw.reason)")
            }
        }
        let sent = Set(packets.filter { $0.direction == .clientToServer }.compactMap(\.packet.eventName))
        let received = Set(packets.filter { $0.direction == .serverToClient }.compactMap(\.packet.eventName))
        #expect(app.clientEvents.subtracting(sent).isEmpty, "client events missing: \(app.clientEvents.subtracting(sent))")
        #expect(app.serverEvents.subtracting(received).isEmpty, "server events missing: \(app.serverEvents.subtracting(received))")
        #expect(packets.allSatisfy { $0.packet.type != .ack || $0.ackLatencyMicros != nil }, "an ack was not paired")

        let transports = Set(packets.map(\.transport))
        switch app.transport {
        case .polling: #expect(transports == [.polling])
        case .websocket: #expect(transports == [.websocket])
        case .default:
            #expect(records.contains { if case .upgraded = $0.event { true } else { false } })
        }
        try self.checkFanOut(of: app, in: packets)
    }

    /// Rooms: who received what, per session.
    private func checkFanOut(of app: SampleApp, in packets: [Record.SocketPacket]) throws {
        func receivers(_ event: String) -> Set<String> {
            Set(packets.filter { $0.direction == .serverToClient && $0.packet.eventName == event }.compactMap(\.sid))
        }
        func senders(_ event: String) -> Set<String> {
            Set(packets.filter { $0.direction == .clientToServer && $0.packet.eventName == event }.compactMap(\.sid))
        }
        switch app.name {
        case "signalling":
            // Three clients; the offer goes from the camera to the viewer only, never back to the
            // sender, and the client in another room receives no signalling at all.
            #expect(receivers("connected").count == 3)
            #expect(receivers("offer").count == 1)
            #expect(receivers("offer").isDisjoint(with: senders("offer")))
            #expect(receivers("answer").isDisjoint(with: senders("answer")))
            let signalled = receivers("offer").union(receivers("answer")).union(receivers("ice_candidate"))
            #expect(signalled.count == 2)
        case "ns-chat":
            // The /admin broadcast reaches every default-namespace client.
            #expect(receivers("admin-broadcast").count == 3)
            let file = try #require(packets.first { $0.packet.eventName == "file-share" })
            #expect(file.packet.type == .binaryEvent && file.packet.attachments.count == 1)
        case "job-stream":
            // The server's emit with a callback is answered by the client: a client-to-server ack, paired.
            #expect(packets.contains { $0.direction == .clientToServer && $0.packet.type == .ack && $0.ackLatencyMicros != nil })
        case "chat-acks":
            // Every call of the scenario is acked: presence:list 4, conversation:join 4, message:send 3,
            // message:read, message:private and conversation:leave 1 each.
            let acks = packets.filter { $0.direction == .serverToClient && $0.packet.type == .ack }
            #expect(acks.count == 14)
            // message:new goes to the conversation's other members only, per session: alice's first
            // socket says "hello team" to her second socket and bob; her second socket says "bob left"
            // after bob left, to her first socket only; carol is not in the conversation, so her
            // "let me in" reaches nobody.
            func sessions(_ direction: Direction, _ event: String, text: String) -> [String] {
                packets.filter {
                    $0.direction == direction && $0.packet.eventName == event
                        && $0.packet.json.map { String(buffer: $0).contains("\"\(text)\"") } == true
                }.compactMap(\.sid)
            }
            let helloSenders = sessions(.clientToServer, "message:send", text: "hello team")
            let bobLeftSenders = sessions(.clientToServer, "message:send", text: "bob left")
            try #require(helloSenders.count == 1 && bobLeftSenders.count == 1)
            let helloReceivers = sessions(.serverToClient, "message:new", text: "hello team")
            #expect(helloReceivers.count == 2 && Set(helloReceivers).count == 2)
            #expect(!helloReceivers.contains(helloSenders[0]))
            #expect(helloReceivers.contains(bobLeftSenders[0]))
            #expect(sessions(.serverToClient, "message:new", text: "bob left") == helloSenders)
            #expect(sessions(.serverToClient, "message:new", text: "let me in").isEmpty)
            let perSession = Dictionary(
                packets.filter { $0.direction == .serverToClient && $0.packet.eventName == "message:new" }
                    .compactMap(\.sid).map { ($0, 1) },
                uniquingKeysWith: +)
            #expect(perSession.values.sorted() == [1, 1, 1])
        default:
            break
        }
    }
}
