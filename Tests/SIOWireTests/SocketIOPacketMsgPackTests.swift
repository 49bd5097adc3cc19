import NIOCore
import SIOWire
import Testing

/// A packet map written key by key (values already msgpack).
private func packetMap(_ pairs: [(String, [UInt8])]) -> ByteBuffer {
    var out = ByteBuffer()
    MsgPackWriter.writeMapHeader(count: pairs.count, into: &out)
    for (key, value) in pairs {
        MsgPackWriter.writeString(key, into: &out)
        out.writeBytes(value)
    }
    return out
}

private func str(_ s: String) -> [UInt8] {
    var out = ByteBuffer()
    MsgPackWriter.writeString(s, into: &out)
    return Array(out.readableBytesView)
}

@Suite struct SocketIOPacketMsgPackTests {
    /// What python-socketio writes (`{type, data, nsp, id?}`): fields decoded, no wire kept, the
    /// same bytes re-encoded.
    @Test func pythonOrderIsCanonical() throws {
        // EVENT "echo" #7 on /chat with ["echo", bin(01 02), {"n": {"k": [1]}}]
        var data: [UInt8] = [0x93] + str("echo") + [0xC4, 0x02, 0x01, 0x02, 0x81] + str("n") + [0x81] + str("k") + [0x91, 0x01]
        let wire = packetMap([("type", [0x02]), ("data", data), ("nsp", str("/chat")), ("id", [0x07])])
        let packet = try SocketIOPacket.decodeMsgPack(wire)
        #expect(packet.type == .event)
        #expect(packet.namespace == "/chat")
        #expect(packet.ackID == 7)
        #expect(packet.eventName == "echo")
        #expect(packet.parser == .msgpack)
        #expect(packet.jsonIsCompact)
        #expect(packet.json.map { String(buffer: $0) } == #"["echo",{"$bin":"AQI="},{"n":{"k":[1]}}]"#)
        #expect(packet.wire == nil)
        #expect(try packet.encodeMsgPack() == wire)
        data.removeAll()
    }

    @Test func connectWithoutDataIsNil() throws {
        let wire = packetMap([("type", [0x00]), ("data", [0xC0]), ("nsp", str("/"))])
        let packet = try SocketIOPacket.decodeMsgPack(wire)
        #expect(packet.type == .connect)
        #expect(packet.json == nil)
        #expect(packet.wire == nil)
        #expect(try packet.encodeMsgPack() == wire)
    }

    /// socket.io-client's order with its `options` key: the fields are the same, the bytes are kept.
    @Test func otherOrderAndExtraKeysKeepTheWire() throws {
        let options = [0x81] + str("compress") + [0xC3]
        let wire = packetMap([
            ("type", [0x02]), ("data", [0x91] + str("hi")), ("options", options), ("id", [0x01]), ("nsp", str("/")),
        ])
        let packet = try SocketIOPacket.decodeMsgPack(wire)
        #expect(packet.type == .event && packet.ackID == 1 && packet.eventName == "hi")
        #expect(packet.wire == wire)
        #expect(try packet.encodeMsgPack() == wire)
    }

    @Test(arguments: [
        ([("type", [0x09] as [UInt8]), ("nsp", str("/"))], "msgpack packet: type must be an integer 0-4", 6),
        ([("nsp", str("/"))], "msgpack packet: no type", 0),
        ([("type", [0x02]), ("data", [0x91, 0x01])], "msgpack packet: no nsp", 0),
        ([("type", [0x02]), ("data", [0x80]), ("nsp", str("/"))], "msgpack packet: invalid data for EVENT", 12),
        ([("type", [0x01]), ("data", [0x90]), ("nsp", str("/"))], "msgpack packet: invalid data for DISCONNECT", 12),
        ([("type", [0x03]), ("data", [0x90]), ("nsp", str("/")), ("id", [0xFF])], "msgpack packet: id must be a non-negative integer", 22),
    ])
    func invalidPackets(pairs: [(String, [UInt8])], reason: String, offset: Int) {
        #expect(throws: WireError(reason, at: offset)) { try SocketIOPacket.decodeMsgPack(packetMap(pairs)) }
    }

    @Test func notAMapAndTrailingBytes() {
        #expect(throws: WireError("msgpack packet: not a map (first byte 0x93)", at: 0)) {
            try SocketIOPacket.decodeMsgPack(ByteBuffer(bytes: [0x93, 0x01, 0x02, 0x03]))
        }
        var wire = packetMap([("type", [0x01]), ("nsp", str("/"))])
        wire.writeInteger(UInt8(0))
        #expect(throws: WireError("msgpack packet: 1 bytes after the map", at: 13)) { try SocketIOPacket.decodeMsgPack(wire) }
    }

    /// A CONNECT's auth masked: neither the JSON nor the bytes that would be rebuilt hold the
    /// token, canonical or not.
    @Test(arguments: [false, true])
    func maskingData(withExtraKey: Bool) throws {
        let auth = [0x82] + str("token") + str("s3cr3t-t0ken") + str("n") + [0xCD, 0x30, 0x39]
        var pairs = [("type", [UInt8(0x00)]), ("data", auth), ("nsp", str("/"))]
        if withExtraKey { pairs.insert(("options", [0xC3]), at: 1) }
        let packet = try SocketIOPacket.decodeMsgPack(packetMap(pairs), maskingData: "[redacted]")
        #expect(packet.json.map { String(buffer: $0) } == #"{"token":"[redacted]","n":"[redacted]"}"#)
        #expect((packet.wire == nil) == !withExtraKey)
        let rebuilt = try packet.encodeMsgPack()
        #expect(!String(decoding: rebuilt.readableBytesView, as: UTF8.self).contains("s3cr3t"))
        #expect(try SocketIOPacket.decodeMsgPack(rebuilt).json == packet.json)
    }

    /// Found by FuzzMsgPack: masking turned a DISCONNECT's nil `data` into a string, and the
    /// rebuilt packet no longer decoded. nil is kept.
    @Test func maskingKeepsNil() throws {
        let wire = packetMap([("type", [0x01]), ("data", [0xC0]), ("nsp", str("/chat"))])
        let masked = try SocketIOPacket.decodeMsgPack(wire, maskingData: "[redacted]")
        #expect(masked.json == nil)
        #expect(try SocketIOPacket.decodeMsgPack(masked.encodeMsgPack()) == masked)
        let connect = packetMap([("type", [0x00]), ("data", [0x82] + str("a") + [0xC0] + str("b") + [0xC3]), ("nsp", str("/"))])
        #expect(try SocketIOPacket.decodeMsgPack(connect, maskingData: "x").json.map { String(buffer: $0) }
            == #"{"a":null,"b":"x"}"#)
    }

    @Test func looksLikeMsgPack() {
        #expect(SocketIOPacket.looksLikeMsgPack(ByteBuffer(bytes: [0x83])))
        #expect(SocketIOPacket.looksLikeMsgPack(ByteBuffer(bytes: [0xDE, 0, 3])))
        #expect(!SocketIOPacket.looksLikeMsgPack(ByteBuffer(bytes: [0x01, 0x02])))
        #expect(!SocketIOPacket.looksLikeMsgPack(ByteBuffer()))
    }
}
