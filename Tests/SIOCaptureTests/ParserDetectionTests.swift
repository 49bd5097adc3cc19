import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

/// Which parser a session uses, found from its binary Engine.IO messages (`record --parser`).
@Suite struct ParserDetectionTests {
    var records: [Record] = []

    static func context(_ direction: Direction, time: Int64 = 0) -> PacketContext {
        PacketContext(sid: "S1", connection: 1, direction: direction, transport: .websocket, version: .v4, time: time)
    }

    /// `{type, data, nsp, id?}` as python-socketio writes it.
    static func msgpack(_ type: UInt8, data: String?, nsp: String = "/", id: UInt64? = nil) -> EngineIOPacket {
        var packet = SocketIOPacket(type: SocketIOPacketType(rawValue: type)!, namespace: nsp, ackID: id)
        packet.json = data.map { ByteBuffer(string: $0) }
        return EngineIOPacket(type: .message, isBinary: true, data: try! packet.encodeMsgPack())
    }

    static func text(_ text: String) -> EngineIOPacket { EngineIOPacket(type: .message, data: ByteBuffer(string: text)) }

    static func binary(_ bytes: [UInt8]) -> EngineIOPacket {
        EngineIOPacket(type: .message, isBinary: true, data: ByteBuffer(bytes: bytes))
    }

    mutating func feed(
        _ registry: inout SessionRegistry, _ packet: EngineIOPacket, _ direction: Direction, time: Int64 = 0
    ) {
        registry.engine(packet, context: Self.context(direction, time: time), into: &self.records)
    }

    @Test mutating func msgpackSessionIsDecodedWithAcksAndRedaction() throws {
        var registry = SessionRegistry(configuration: CaptureConfiguration())
        self.feed(&registry, Self.msgpack(0, data: #"{"token":"s3cr3t","n":5}"#), .clientToServer)
        self.feed(&registry, Self.msgpack(2, data: #"["echo",{"$bin":"AQI="},{"a":{"b":[1]}}]"#, id: 4), .clientToServer, time: 10)
        self.feed(&registry, Self.msgpack(3, data: #"["ok"]"#, id: 4), .serverToClient, time: 35)
        let packets = self.records.compactMap(\.socket)
        #expect(packets.count == 3)
        #expect(packets.allSatisfy { $0.packet.parser == .msgpack })
        #expect(packets[0].redacted)
        #expect(packets[0].packet.json.map { String(buffer: $0) } == #"{"token":"[redacted]","n":"[redacted]"}"#)
        #expect(!String(buffer: try packets[0].packet.encodeMsgPack()).contains("s3cr3t"))
        #expect(packets[1].packet.eventName == "echo")
        #expect(packets[2].ackLatencyMicros == 25)
        #expect(registry.sessions["S1"]?.parser == .msgpack)
        #expect(self.records.compactMap(\.undecodable).isEmpty)
    }

    /// In a default-parser session a binary message is an attachment, even one that decodes as msgpack.
    @Test mutating func defaultSessionKeepsAttachmentsThatLookLikeMsgPack() {
        var registry = SessionRegistry(configuration: CaptureConfiguration())
        self.feed(&registry, Self.text(#"51-["upload",{"_placeholder":true,"num":0}]"#), .clientToServer)
        let attachment = Self.msgpack(2, data: #"["x"]"#)
        self.feed(&registry, attachment, .clientToServer)
        let packets = self.records.compactMap(\.socket)
        #expect(packets.count == 1)
        #expect(packets.first?.packet.type == .binaryEvent)
        #expect(packets.first?.packet.attachments == [attachment.data])
        #expect(registry.sessions["S1"]?.parser == .default)
    }

    /// A parser siotape does not know: one note for the session, every message raw.
    @Test mutating func unknownParserIsReportedOncePerSession() {
        var registry = SessionRegistry(configuration: CaptureConfiguration())
        for _ in 0..<3 { self.feed(&registry, Self.binary([0x01, 0x02, 0x03]), .clientToServer) }
        self.feed(&registry, Self.binary([0x83, 0x01]), .serverToClient)
        let notes = self.records.compactMap(\.note).filter { $0.message.contains("parser unknown") }
        #expect(notes.count == 1)
        #expect(notes.first?.message == "session S1: binary Engine.IO messages not decodable as Socket.IO: parser unknown; they are recorded raw")
        let raws = self.records.compactMap(\.undecodable)
        #expect(raws.count == 4)
        #expect(raws.allSatisfy { $0.reason == "parser unknown" })
    }

    /// In a msgpack session, a message that does not decode says why and where; sent by the client
    /// it is masked (it could be a CONNECT) and cut at the damage.
    @Test mutating func damagedMessageOfMsgPackSession() {
        var registry = SessionRegistry(configuration: CaptureConfiguration())
        self.feed(&registry, Self.msgpack(0, data: nil), .clientToServer)
        // {"type": 0, "data": {"token": "s3cr3t..." cut short
        var cut = ByteBuffer(bytes: [0x83, 0xA4] + Array("type".utf8) + [0x00, 0xA4] + Array("data".utf8) + [0x81, 0xA5])
        cut.writeString("token")
        cut.writeBytes([0xAA] + Array("s3cr3t".utf8))
        self.feed(&registry, EngineIOPacket(type: .message, isBinary: true, data: cut), .clientToServer)
        let raw = self.records.compactMap(\.undecodable).first
        #expect(raw?.reason == "msgpack: string of 10 bytes, 6 left; values masked (credentials), the 7 bytes from the damage on left out")
        #expect(raw?.offset == 19)
        if case .binary(let kept)? = raw?.data {
            #expect(!String(buffer: kept).contains("s3cr3t"))
        } else {
            Issue.record("no binary data in \(String(describing: raw))")
        }
    }

    @Test mutating func forcedParsers() {
        var configuration = CaptureConfiguration()
        configuration.parser = .default
        var registry = SessionRegistry(configuration: configuration)
        self.feed(&registry, Self.msgpack(2, data: #"["x"]"#), .clientToServer)
        #expect(self.records.compactMap(\.socket).isEmpty)
        #expect(self.records.compactMap(\.undecodable).first?.reason == "binary attachment with no packet waiting for it")

        self.records = []
        configuration.parser = .msgpack
        registry = SessionRegistry(configuration: configuration)
        self.feed(&registry, Self.text(#"2["y"]"#), .clientToServer)
        self.feed(&registry, Self.msgpack(2, data: #"["x"]"#), .clientToServer)
        self.feed(&registry, Self.binary([0x01]), .clientToServer)
        #expect(self.records.compactMap(\.socket).map(\.packet.parser) == [.default, .msgpack])
        #expect(self.records.compactMap(\.undecodable).first?.reason.hasPrefix("msgpack packet: not a map") == true)
    }
}

extension Record {
    fileprivate var note: Note? { if case .note(let p) = self.event { return p } else { return nil } }
}
