import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

/// The session table driven with already-decoded packets: no codecs, no channel.
@Suite struct SessionRegistryTests {
    var registry = SessionRegistry(configuration: CaptureConfiguration())
    var records: [Record] = []

    func context(
        _ direction: Direction, sid: String? = "S1", connection: UInt64 = 1, transport: EngineIOTransport = .polling,
        time: Int64 = 0
    ) -> PacketContext {
        PacketContext(sid: sid, connection: connection, direction: direction, transport: transport, version: .v4, time: time)
    }

    mutating func open(transport: EngineIOTransport = .polling) {
        let handshake = EngineIOPacket(
            type: .open, data: ByteBuffer(string: #"{"sid":"S1","upgrades":["websocket"],"pingInterval":25000}"#))
        let opened = self.registry.engine(
            handshake, context: self.context(.serverToClient, sid: nil, transport: transport),
            handshake: .init(path: "/socket.io/", query: [.init("EIO", "4")], headers: []), into: &self.records)
        #expect(opened == "S1")
    }

    @Test mutating func handshakeOpensSession() {
        self.open()
        let opened = self.records.compactMap(\.opened)
        #expect(opened.count == 1)
        #expect(opened.first?.sid == "S1")
        #expect(opened.first?.handshake == #"{"sid":"S1","upgrades":["websocket"],"pingInterval":25000}"#)
        #expect(self.registry.statistics.sessionsOpened == 1)
    }

    @Test mutating func acksArePairedPerNamespaceAndDirectionWithLatency() {
        self.open()
        let json = ByteBuffer(string: #"["echo",1]"#)
        self.registry.socket(
            SocketIOPacket(type: .event, ackID: 1, json: json, eventName: "echo"),
            context: self.context(.clientToServer, time: 100), into: &self.records)
        self.registry.socket(
            SocketIOPacket(type: .event, namespace: "/admin", ackID: 1, json: json, eventName: "echo"),
            context: self.context(.clientToServer, time: 110), into: &self.records)
        // Server asks the client for an ack with the same id: a separate pairing.
        self.registry.socket(
            SocketIOPacket(type: .event, ackID: 1, json: ByteBuffer(string: #"["need-ack"]"#), eventName: "need-ack"),
            context: self.context(.serverToClient, time: 120), into: &self.records)
        self.registry.socket(
            SocketIOPacket(type: .ack, namespace: "/admin", ackID: 1, json: ByteBuffer(string: "[7]")),
            context: self.context(.serverToClient, time: 400), into: &self.records)
        self.registry.socket(
            SocketIOPacket(type: .ack, ackID: 1, json: ByteBuffer(string: "[1]")),
            context: self.context(.serverToClient, time: 600), into: &self.records)
        self.registry.socket(
            SocketIOPacket(type: .ack, ackID: 1, json: ByteBuffer(string: "[2]")),
            context: self.context(.clientToServer, time: 700), into: &self.records)
        // A second ack with the same id has nothing left to answer.
        self.registry.socket(
            SocketIOPacket(type: .ack, ackID: 1, json: ByteBuffer(string: "[3]")),
            context: self.context(.serverToClient, time: 800), into: &self.records)
        let acks = self.records.compactMap(\.socket).filter { $0.packet.type == .ack }
        #expect(acks.map(\.ackLatencyMicros) == [290, 500, 580, nil])
        #expect(self.registry.statistics.acksPaired == 3)
    }

    @Test mutating func closePacketEndsSessionAndLatePacketsDoNotReviveIt() {
        self.open()
        self.registry.engine(EngineIOPacket(type: .close), context: self.context(.clientToServer), into: &self.records)
        #expect(self.records.compactMap(\.closed) == [.init(sid: "S1", cause: "client close packet")])
        #expect(self.registry.sessions["S1"] == nil)
        self.registry.engine(EngineIOPacket(type: .noop), context: self.context(.serverToClient), into: &self.records)
        #expect(self.registry.sessions["S1"] == nil)
        #expect(self.records.last?.engine?.type == .noop)
    }

    @Test mutating func upgradeThenWebSocketCloseEndsSession() {
        self.open()
        let ws = { (direction: Direction) in
            PacketContext(sid: "S1", connection: 2, direction: direction, transport: .websocket, version: .v4, time: 0)
        }
        self.registry.engine(
            EngineIOPacket(type: .ping, data: ByteBuffer(string: "probe")), context: ws(.clientToServer), into: &self.records)
        self.registry.engine(
            EngineIOPacket(type: .pong, data: ByteBuffer(string: "probe")), context: ws(.serverToClient), into: &self.records)
        // A close on another connection (a failed probe elsewhere) does not end the session.
        self.registry.webSocketClose(
            code: 1000, reason: "", context: self.context(.clientToServer, connection: 3, transport: .websocket),
            into: &self.records)
        #expect(self.registry.sessions["S1"] != nil)
        self.registry.engine(EngineIOPacket(type: .upgrade), context: ws(.clientToServer), into: &self.records)
        #expect(self.records.compactMap(\.upgrade) == [.init(sid: "S1", connection: 2)])
        #expect(self.records.compactMap(\.engine).map(\.data) == [.text("probe"), .text("probe")])
        self.registry.webSocketClose(code: nil, reason: "", context: ws(.serverToClient), into: &self.records)
        #expect(self.records.compactMap(\.webSocketClose).last?.code == nil)
        #expect(self.records.compactMap(\.closed) == [.init(sid: "S1", cause: "websocket closed by server")])
    }

    @Test mutating func transportClosedEndsWebSocketSession() {
        self.open(transport: .websocket)
        self.registry.transportClosed(sid: "S1", connection: 9, cause: "client", time: 5, into: &self.records)
        #expect(self.registry.sessions["S1"] != nil)
        self.registry.transportClosed(sid: "S1", connection: 1, cause: "client", time: 5, into: &self.records)
        #expect(self.records.compactMap(\.closed) == [.init(sid: "S1", cause: "transport closed (client)")])
    }

    @Test mutating func http400OnPollingSessionEndsIt() {
        self.open()
        let exchange = Record.HTTPExchange(
            connection: 4, method: "GET", path: "/socket.io/?EIO=4&sid=S1", status: 400, requestBytes: 0,
            responseBytes: 10, durationMicros: 3, sid: "S1", errorBody: #"{"code":1}"#)
        self.registry.http(exchange, time: 9, into: &self.records)
        #expect(self.records.compactMap(\.closed) == [.init(sid: "S1", cause: "http 400")])
    }

    @Test mutating func clientConnectAuthIsRedacted() {
        self.open()
        self.registry.socket(
            SocketIOPacket(type: .connect, namespace: "/admin", json: ByteBuffer(string: #"{"token":"secret"}"#)),
            context: self.context(.clientToServer), into: &self.records)
        self.registry.socket(
            SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"x"}"#)),
            context: self.context(.serverToClient), into: &self.records)
        let packets = self.records.compactMap(\.socket)
        #expect(packets.map(\.packet.json.text) == [#"{"token":"[redacted]"}"#, #"{"sid":"x"}"#])
        #expect(packets.map(\.redacted) == [true, false])
        #expect(self.registry.statistics.namespaceConnects == 1)
    }

    @Test mutating func nothingIsRedactedWhenRedactionIsOff() {
        var configuration = CaptureConfiguration()
        configuration.redactCredentials = false
        self.registry = SessionRegistry(configuration: configuration)
        self.open()
        self.registry.socket(
            SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"token":"secret"}"#)),
            context: self.context(.clientToServer), into: &self.records)
        #expect(self.records.compactMap(\.socket).first?.packet.json.text == #"{"token":"secret"}"#)
        #expect(self.records.compactMap(\.socket).first?.redacted == false)
    }

    @Test mutating func sessionTableIsBounded() {
        var configuration = CaptureConfiguration()
        configuration.maxSessions = 2
        self.registry = SessionRegistry(configuration: configuration)
        for (index, sid) in ["A", "B", "C"].enumerated() {
            self.registry.engine(
                EngineIOPacket(type: .open, data: ByteBuffer(string: #"{"sid":"\#(sid)"}"#)),
                context: self.context(.serverToClient, sid: nil, time: Int64(index)), into: &self.records)
        }
        #expect(self.registry.sessions.count == 2)
        #expect(self.records.compactMap(\.closed).map(\.sid) == ["A"])
    }

    @Test mutating func sessionSeenWithoutHandshakeIsTracked() {
        self.registry.engine(EngineIOPacket(type: .ping), context: self.context(.serverToClient), into: &self.records)
        #expect(self.registry.sessions["S1"] != nil)
        #expect(self.records.first.map { if case .note = $0.event { true } else { false } } == true)
    }
}
