import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

/// Reads every record of a finished recording; fails the test on damage.
func readRecording(_ url: URL) throws -> [Record] {
    let reader = try RecordingReader(path: url.path)
    var records: [Record] = []
    while let record = try reader.next() {
        records.append(record)
    }
    #expect(reader.damage == nil, "recording damaged: \(String(describing: reader.damage))")
    #expect(reader.endRecordCount != nil, "the recording was not closed properly (no end trailer)")
    return records
}

/// A fresh path for a recording in a temporary directory.
func temporaryRecordingURL(_ name: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("siotape-e2e-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("\(name).siotape.gz")
}

extension Record {
    var socketPacket: SocketPacket? {
        if case .socket(let packet) = self.event { return packet }
        return nil
    }
}

/// The real peers with `siotape record` between them.
@Suite(
    "Scenario between real peers, through siotape record",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct ProxiedScenarioTests {
    @Test("Clients observe exactly what they observe directly; the recording holds every packet",
          arguments: ScenarioCombination.all)
    func proxiedRunMatchesDirectRun(_ combination: ScenarioCombination) async throws {
        let environment = try #require(PeerEnvironment.current)
        let server = try await Peers.startServer(combination.server, in: environment)
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("\(combination.server.rawValue)-\(combination.transport.rawValue)")
        let proxy = try await Proxy.start(upstream: server, recording: recording, in: environment)

        let proxied = try await Peers.runClient(
            for: combination.server, url: proxy.url, transport: combination.transport, in: environment)
        let direct = try await Peers.runClient(
            for: combination.server, url: server.url, transport: combination.transport, in: environment)
        proxy.terminate()  // SIGTERM: the proxy closes the recording properly

        #expect(proxied == direct, "the client observed something different through the proxy")
        try Scenario.expectObservations(in: ScenarioReport(proxied), server: combination.server)

        let records = try readRecording(recording)
        let packets = records.compactMap(\.socketPacket)
        // Flask's development server (Werkzeug) writes an HTTP 400 onto the socket after its close
        // frame; that is recorded as bytes after the close. Nothing else may fail to decode.
        let undecodable = records.compactMap { record -> Record.Undecodable? in
            guard case .undecodable(let raw) = record.event, !raw.reason.hasPrefix("bytes after the close frame")
            else { return nil }
            return raw
        }
        #expect(undecodable.isEmpty, "undecodable packets: \(undecodable)")

        // Three clients: A and B connect to / and /admin, C is refused on /admin.
        let sessions = Set(records.compactMap { record -> String? in
            if case .sessionOpened(let open) = record.event { return open.sid }
            return nil
        })
        #expect(sessions.count == 3)
        let expectedVersion: EngineIOVersion = combination.server == .sio4 ? .v3 : .v4
        for record in records {
            if case .sessionOpened(let open) = record.event {
                #expect(open.engineIOVersion == expectedVersion)
            }
        }
        let refusals = packets.filter { $0.packet.type == .connectError && $0.direction == .serverToClient }
        #expect(refusals.count == 1 && refusals.first?.packet.namespace == "/admin")

        // Every event that asked for an ack got one, paired with its latency.
        let events = packets.filter { ($0.packet.type == .event || $0.packet.type == .binaryEvent) && $0.packet.ackID != nil }
        let acks = packets.filter { $0.packet.type == .ack || $0.packet.type == .binaryAck }
        try #require(!events.isEmpty)
        #expect(acks.count == events.count)
        #expect(acks.allSatisfy { $0.ackLatencyMicros != nil }, "an ack was not paired with its event")
        #expect(events.contains { $0.direction == .serverToClient }, "the server-initiated ack is missing")

        // The binary event and the binary ack carry their two attachments.
        let binaryEvent = try #require(packets.first { $0.packet.type == .binaryEvent && $0.direction == .clientToServer })
        #expect(binaryEvent.packet.eventName == "binary")
        #expect(binaryEvent.packet.attachments.count == 2)
        #expect(binaryEvent.packet.attachments.count == binaryEvent.packet.attachmentCount)
        #expect(packets.contains { $0.packet.type == .binaryAck && $0.packet.attachments.count >= 1 })

        // The room broadcast reaches both A and B: two `shouted` events, to two sessions.
        let shouted = packets.filter { $0.packet.eventName == "shouted" }
        #expect(Set(shouted.compactMap(\.sid)).count == 2)

        // Transports as asked.
        let transports = Set(packets.map(\.transport))
        switch combination.transport {
        case .polling: #expect(transports == [.polling])
        case .websocket: #expect(transports == [.websocket])
        case .default: #expect(transports.contains(.websocket))
        }
        // Credentials in CONNECT payloads are redacted by default.
        let connects = packets.filter { $0.packet.type == .connect && $0.direction == .clientToServer }
        for connect in connects {
            let text = connect.packet.json.map { String(buffer: $0) } ?? ""
            #expect(!text.contains("secret"), "a CONNECT auth value reached the recording: \(text)")
        }
    }
}
