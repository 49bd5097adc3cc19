import NIOCore
import SIOWire
import Testing

/// Socket.IO packets to and from the Engine.IO messages of one session (what both replay modes send
/// and read).
@Suite struct SocketIOSessionCodecTests {
    private static func text(_ message: EngineIOPacket) -> String? {
        message.isBinary ? nil : String(buffer: message.data)
    }

    @Test func aBinaryEventIsItsTextThenOneBinaryMessagePerAttachment() throws {
        let sender = SocketIOSessionCodec(version: .v5)
        var packet = try SocketIOPacket.decode(
            buf(#"52-/chat,7["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#), version: .v5)
        packet.attachments = [bytes([1, 2]), bytes([0x83])]
        let messages = sender.messages(for: packet)
        #expect(messages.map(\.type) == [.message, .message, .message])
        #expect(messages.map(Self.text) == [#"52-/chat,7["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#, nil, nil])
        #expect(messages.dropFirst().map(\.data) == [bytes([1, 2]), bytes([0x83])])

        // The other side gets the packet back, the attachment that looks like msgpack included.
        var receiver = SocketIOSessionCodec(version: .v5)
        #expect(try receiver.receive(messages[0]) == .waiting)
        #expect(try receiver.receive(messages[1]) == .waiting)
        #expect(try receiver.receive(messages[2]) == .complete(packet))
    }

    @Test func aMsgPackPacketIsOneBinaryMessageBuiltFromItsFields() throws {
        var packet = SocketIOPacket(type: .event, ackID: 3, json: buf(#"["hi",1]"#), eventName: "hi")
        packet.parser = .msgpack
        let codec = SocketIOSessionCodec(version: .v5)
        let wire = try packet.encodeMsgPack()
        #expect(codec.messages(for: packet) == [EngineIOPacket(type: .message, isBinary: true, data: wire)])

        // Its fields win over the bytes it was read from (replay rewrites server-issued ids).
        var decoded = try SocketIOPacket.decodeMsgPack(wire)
        decoded.wire = wire
        decoded.ackID = 4
        var changed = packet
        changed.ackID = 4
        #expect(codec.messages(for: decoded).map(\.data) == [try changed.encodeMsgPack()])
    }

    @Test func aBinaryMessageIsAMsgPackPacketOnlyWhenNoAttachmentIsAwaited() throws {
        var packet = SocketIOPacket(type: .event, json: buf(#"["hi"]"#), eventName: "hi")
        packet.parser = .msgpack
        let wire = try packet.encodeMsgPack()
        var codec = SocketIOSessionCodec(version: .v5)
        let message = EngineIOPacket(type: .message, isBinary: true, data: wire)
        guard case .complete(let received) = try codec.receive(message) else {
            Issue.record("a msgpack packet was not read as one")
            return
        }
        #expect(received.parser == .msgpack && received.eventName == "hi")

        let announcing = EngineIOPacket(type: .message, data: buf(#"51-["f",{"_placeholder":true,"num":0}]"#))
        #expect(try codec.receive(announcing) == .waiting)
        guard case .complete(let withAttachment) = try codec.receive(message) else {
            Issue.record("the awaited attachment was not joined")
            return
        }
        #expect(withAttachment.attachments == [wire])
        let stray = bytes([0x01, 0x02])
        #expect(try codec.receive(EngineIOPacket(type: .message, isBinary: true, data: stray)) == .unexpectedAttachment(stray))
    }

    @Test func aTextMessageThatIsNoSocketIOPacketThrows() {
        var codec = SocketIOSessionCodec(version: .v5)
        #expect(throws: WireError.self) { try codec.receive(EngineIOPacket(type: .message, data: buf("9nonsense"))) }
    }

    @Test func theAttachmentCapIsTheCodecs() throws {
        #expect(SocketIOSessionCodec(version: .v4).assembler.maxAttachmentBytes == 16 << 20)
        var codec = SocketIOSessionCodec(version: .v4, maxAttachmentBytes: 3)
        let announcing = EngineIOPacket(type: .message, data: buf(#"51-["f",{"_placeholder":true,"num":0}]"#))
        #expect(try codec.receive(announcing) == .waiting)
        guard case .overLimit(let packet, 3) = try codec.receive(EngineIOPacket(type: .message, isBinary: true, data: bytes([1, 2, 3, 4])))
        else {
            Issue.record("four bytes went past a cap of three")
            return
        }
        #expect(packet.eventName == "f" && packet.attachments.isEmpty)
    }
}
