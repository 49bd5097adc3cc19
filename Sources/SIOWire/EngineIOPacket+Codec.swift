import NIOCore

extension EngineIOPacket {
    /// Decodes one WebSocket text message (`4hello`, `2probe`, ...).
    public static func decode(webSocketText text: ByteBuffer) throws(WireError) -> EngineIOPacket {
        try Self.decode(textPacket: text)
    }

    /// Decodes one WebSocket binary message: in v3 the first byte is the packet type (`0x04`), in v4
    /// the whole message is the data of a binary `message` packet.
    public static func decode(webSocketBinary bytes: ByteBuffer, version: EngineIOVersion) throws(WireError)
        -> EngineIOPacket
    {
        switch version {
        case .v4:
            return EngineIOPacket(type: .message, isBinary: true, data: bytes)
        case .v3:
            var data = bytes
            guard let typeByte = data.readInteger(as: UInt8.self) else {
                throw WireError("empty Engine.IO v3 binary message", at: 0)
            }
            guard let type = EngineIOPacketType(rawValue: typeByte) else {
                throw WireError("unknown Engine.IO packet type byte 0x\(String(typeByte, radix: 16))", at: 0)
            }
            return EngineIOPacket(type: type, isBinary: true, data: data)
        }
    }

    /// The WebSocket message for this packet: whether it goes as a binary frame, and its bytes.
    public func encodeForWebSocket(version: EngineIOVersion) -> (isBinary: Bool, bytes: ByteBuffer) {
        guard self.isBinary else { return (false, self.encodeText()) }
        switch version {
        case .v4:
            return (true, self.data)
        case .v3:
            var bytes = ByteBuffer()
            bytes.reserveCapacity(1 + self.data.readableBytes)
            bytes.writeInteger(self.type.rawValue)
            bytes.writeImmutableBuffer(self.data)
            return (true, bytes)
        }
    }

    /// A text packet: the type digit then the data (`4hello`).
    func encodeText() -> ByteBuffer {
        var bytes = ByteBuffer()
        bytes.reserveCapacity(1 + self.data.readableBytes)
        self.writeText(into: &bytes)
        return bytes
    }

    func writeText(into bytes: inout ByteBuffer) {
        bytes.writeInteger(UInt8(ascii: "0") + self.type.rawValue)
        bytes.writeImmutableBuffer(self.data)
    }

    /// Parses `<type digit><data>`; offsets in errors are relative to the packet's first byte.
    static func decode(textPacket text: ByteBuffer) throws(WireError) -> EngineIOPacket {
        guard let first = text.withUnsafeReadableBytes({ $0.first }) else {
            throw WireError("empty Engine.IO packet", at: 0)
        }
        guard first >= UInt8(ascii: "0"), let type = EngineIOPacketType(rawValue: first &- UInt8(ascii: "0")) else {
            throw WireError("unknown Engine.IO packet type \(describeByte(first))", at: 0)
        }
        // The bytes after the type digit, without asking the buffer's storage for a slice (this runs
        // for every packet).
        var data = text
        data.moveReaderIndex(forwardBy: 1)
        return EngineIOPacket(type: type, data: data)
    }
}

/// `'x'` for printable ASCII, `0xNN` otherwise: for error reasons people read.
func describeByte(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    return "0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
}
