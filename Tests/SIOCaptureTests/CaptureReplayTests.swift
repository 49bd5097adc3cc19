import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

/// Whole real sessions (tee captures between third-party peers) replayed through the taps.
@Suite
struct CaptureReplayTests {
    func replay(_ scenario: String, configuration: CaptureConfiguration = CaptureConfiguration()) throws -> [Record] {
        let harness = Harness(configuration: configuration)
        try CaptureReplayer.replay(scenario, into: harness)
        return harness.records
    }

    @Test func nodePollingSessionIsFollowedAcrossConnections() throws {
        let records = try self.replay("node5-polling")
        let sid = "5wl-v1tJdqA5HsvYAAAA"
        #expect(records.compactMap(\.opened).map(\.sid) == [sid, "EAMRdU24h_VWaMDIAAAB", "rMbdwv2ZmkHjFojYAAAC"])
        let open = try #require(records.compactMap(\.opened).first)
        #expect(open.engineIOVersion == .v4 && open.transport == .polling && open.path == "/socket.io/")
        #expect(open.headers.contains(.init("User-Agent", "node-XMLHttpRequest")))
        let packets = records.compactMap(\.socket).filter { $0.sid == sid }
        #expect(Set(packets.map(\.connection)).count > 8)
        // Binary event whose attachments came as `b...` entries of a later POST.
        let binary = try #require(packets.first { $0.packet.type == .binaryEvent && $0.direction == .clientToServer })
        #expect(binary.packet.attachments.map(\.readableBytes) == [256, 2])
        let binaryBack = try #require(packets.first { $0.packet.type == .binaryEvent && $0.direction == .serverToClient })
        #expect(binaryBack.packet.attachments.count == 2)
        // Acks in both directions are paired.
        let acks = packets.filter { $0.packet.type == .ack || $0.packet.type == .binaryAck }
        #expect(!acks.isEmpty && acks.allSatisfy { $0.ackLatencyMicros != nil && $0.ackLatencyMicros! >= 0 })
        #expect(acks.contains { $0.direction == .clientToServer })
        // CONNECT auth is redacted, the server's CONNECT answer is not.
        let connects = packets.filter { $0.packet.type == .connect }
        #expect(connects.filter { $0.direction == .clientToServer }.allSatisfy { $0.redacted })
        #expect(connects.first { $0.direction == .clientToServer }?.packet.json.text == #"{"token":"[redacted]"}"#)
        #expect(records.compactMap(\.closed).first { $0.sid == sid }?.cause == "client close packet")
        // Each poll record announces exactly the packet records that follow it.
        for (index, record) in records.enumerated() {
            guard let poll = record.poll else { continue }
            let following = records[(index + 1)...].prefix(poll.packetCount)
            #expect(following.allSatisfy { $0.socket != nil || $0.engine != nil || $0.raw != nil })
        }
        #expect(records.compactMap(\.raw).isEmpty)
        #expect(records.compactMap(\.http).count == 29)
    }

    @Test func pythonUpgradeIsRecorded() throws {
        let records = try self.replay("pysio5-default")
        let sid = "jp9tOYEnTOgxrBwwAAAG"
        #expect(records.compactMap(\.webSocketOpen).first?.sid == sid)
        let probes = records.compactMap(\.engine).filter { $0.data == .text("probe") }
        #expect(probes.map(\.type) == [.ping, .pong])
        #expect(probes.allSatisfy { $0.transport == .websocket })
        #expect(records.compactMap(\.upgrade).map(\.sid).contains(sid))
        let packets = records.compactMap(\.socket).filter { $0.sid == sid }
        let binary = try #require(packets.first { $0.packet.type == .binaryEvent })
        #expect(binary.packet.attachments.map(\.readableBytes) == [4, 1])
        #expect(packets.first { $0.packet.type == .binaryAck }?.packet.attachments.count == 1)
        #expect(records.compactMap(\.webSocketClose).first { $0.sid == sid }?.code == 1000)
        #expect(records.compactMap(\.closed).first { $0.sid == sid }?.cause == "websocket closed by client")
        #expect(records.compactMap(\.raw).isEmpty)
    }

    @Test func ackLatencyFollowsTheClock() throws {
        let records = try self.replay("pysio5-default")
        // `421["echo",...]` at 0.508s, answered `431[...]` at 0.509s (capture clock).
        let ack = try #require(records.compactMap(\.socket).first { $0.packet.type == .ack && $0.packet.namespace == "/" })
        let latency = try #require(ack.ackLatencyMicros)
        #expect(latency > 0 && latency < 5_000)
    }

    @Test func engineIOv3WebSocketAndQueryRedaction() throws {
        let records = try self.replay("pysio4-eio3-default")
        let opens = records.compactMap(\.opened)
        #expect(opens.first?.engineIOVersion == .v3)
        #expect(opens.first?.query.first { $0.name == "token" }?.value == "[redacted]")
        #expect(records.compactMap(\.http).allSatisfy { !$0.path.contains("secret") && !$0.path.contains("wrong") })
        let binary = try #require(records.compactMap(\.socket).first { $0.packet.type == .binaryEvent })
        #expect(binary.packet.attachments.map(\.readableBytes) == [4, 1])
        #expect(records.compactMap(\.poll).first?.encoding == .v3Binary)
    }

    @Test func engineIOv3BinaryPollingPayloads() throws {
        let records = try self.replay("raw-eio3-xhr2")
        let polls = records.compactMap(\.poll)
        #expect(polls.contains { $0.encoding == .v3Binary && $0.direction == .serverToClient })
        #expect(polls.contains { $0.encoding == .v3Text && $0.direction == .clientToServer })
        let binaries = records.compactMap(\.socket).filter { $0.packet.type == .binaryEvent }
        #expect(binaries.first?.packet.attachments.map(\.readableBytes) == [4, 1])
        #expect(records.compactMap(\.closed).first?.cause == "client close packet")
        #expect(records.compactMap(\.raw).isEmpty)
    }

    @Test func engineIOv3TextPollingPayloads() throws {
        let records = try self.replay("raw-eio3-b64")
        #expect(records.compactMap(\.poll).allSatisfy { $0.encoding == .v3Text })
        // The handshake answer also carried the server's `40`.
        #expect(records.compactMap(\.socket).first?.packet.type == .connect)
        let binaryAck = try #require(records.compactMap(\.socket).first { $0.packet.type == .binaryAck })
        #expect(binaryAck.packet.attachments.first?.readableBytes == 3)
        #expect(records.compactMap(\.raw).isEmpty)
    }

    @Test func chunkedPollingBodiesAreDecoded() throws {
        let records = try self.replay("nodeserver-eio3-pyclient-polling")
        #expect(records.compactMap(\.opened).first?.engineIOVersion == .v3)
        #expect(records.compactMap(\.raw).isEmpty)
        #expect(records.compactMap(\.socket).contains { $0.packet.type == .event })
    }

    @Test func statisticsCountWhatWasSeen() throws {
        let harness = Harness()
        try CaptureReplayer.replay("pysio5-polling", into: harness)
        let statistics = harness.hub.statistics
        #expect(statistics.sessionsOpened >= 1)
        #expect(statistics.socketIOPackets > 10)
        #expect(statistics.bytesClientToServer > 0 && statistics.bytesServerToClient > 0)
        #expect(statistics.undecodable == 0)
        #expect(statistics.activeSessions == 0)
    }
}

/// Every capture decodes without damage, and every session seen is accounted for.
@Suite struct AllCapturesTests {
    static let scenarios = [
        "node5-default", "node5-polling", "node5-websocket", "nodeserver-eio3-pyclient-default",
        "nodeserver-eio3-pyclient-polling", "nodeserver-eio3-pyclient-websocket", "pysio4-eio3-default",
        "pysio4-eio3-polling", "pysio4-eio3-websocket", "pysio5-default", "pysio5-polling", "pysio5-websocket",
        "raw-eio3-b64", "raw-eio3-xhr2", "raw-eio4",
    ]

    @Test(arguments: Self.scenarios)
    func replaysCleanly(_ scenario: String) throws {
        let harness = Harness()
        try CaptureReplayer.replay(scenario, into: harness)
        let records = harness.records
        #expect(records.compactMap(\.raw).isEmpty, "\(records.compactMap(\.raw))")
        #expect(!records.compactMap(\.opened).isEmpty)
        // No packet of a session is recorded without its sid, and no session appears from nowhere.
        #expect(records.compactMap(\.socket).allSatisfy { $0.sid != nil })
        #expect(!records.contains { if case .note = $0.event { true } else { false } })
        // Every ack asked for by an event was answered and paired.
        let events = records.compactMap(\.socket).filter {
            ($0.packet.type == .event || $0.packet.type == .binaryEvent) && $0.packet.ackID != nil
        }
        let acks = records.compactMap(\.socket).filter { $0.packet.type == .ack || $0.packet.type == .binaryAck }
        #expect(acks.count == events.count)
        #expect(acks.allSatisfy { $0.ackLatencyMicros != nil })
        // Incomplete binary packets would show as fewer attachments than announced.
        #expect(records.compactMap(\.socket).allSatisfy { $0.packet.attachments.count == $0.packet.attachmentCount })
        let opened = Set(records.compactMap(\.opened).map(\.sid))
        let closed = Set(records.compactMap(\.closed).map(\.sid))
        #expect(closed.isSubset(of: opened))
        // Sessions on a WebSocket end with it; polling-only sessions may end without a close packet.
        let webSocketSessions = Set(records.compactMap(\.upgrade).map(\.sid)).union(
            records.compactMap(\.opened).filter { $0.transport == .websocket }.map(\.sid))
        #expect(webSocketSessions.isSubset(of: closed), "open: \(webSocketSessions.subtracting(closed))")
    }
}
