import NIOCore

/// Which Socket.IO parser a packet was written with.
public enum SocketIOParser: String, Hashable, Sendable, CaseIterable {
    /// socket.io-parser: an Engine.IO text message `<type>[nsp,][id]<JSON>`, binaries as attachments.
    case `default`
    /// socket.io-msgpack-parser (python-socketio `serializer='msgpack'`): one Engine.IO binary
    /// message holding the msgpack map `{type, data, nsp, id?}`.
    case msgpack
}

extension SocketIOPacket {
    /// Decodes one Engine.IO binary message written by the msgpack parser: a map with an integer
    /// `type` (0-4), a string `nsp`, an optional integer `id` and `data` checked as
    /// socket.io-msgpack-parser checks it. `data` becomes `json` (the mapping of `MsgPackJSON`),
    /// `wire` keeps `message` unless `encodeMsgPack()` of the result gives it back exactly.
    ///
    /// `maskingData` replaces every scalar inside `data` by the string `mask` (keys and structure
    /// kept) in both `json` and `wire`: a CONNECT's credentials never reach the recording.
    public static func decodeMsgPack(
        _ message: ByteBuffer, limits: MsgPackLimits = MsgPackLimits(), maskingData mask: String? = nil
    ) throws(WireError) -> SocketIOPacket {
        let envelope = try message.withUnsafeReadableBytes { bytes throws(WireError) in
            try MsgPackEnvelope.read(bytes, limits: limits)
        }
        var packet = SocketIOPacket(type: envelope.type, namespace: envelope.namespace, ackID: envelope.ackID)
        packet.parser = .msgpack
        var wire = message
        var canonical = envelope.isCanonical
        if let range = envelope.data {
            var data = message.getSlice(at: message.readerIndex + range.lowerBound, length: range.count)!
            if let mask {
                data = try MsgPackMasker.mask(data, with: mask, limits: limits)
                wire = message.getSlice(at: message.readerIndex, length: range.lowerBound)!
                wire.writeImmutableBuffer(data)
                wire.writeImmutableBuffer(message.getSlice(at: message.readerIndex + range.upperBound, length: message.readableBytes - range.upperBound)!)
            }
            if data.readableBytes != 1 || data.getInteger(at: data.readerIndex, as: UInt8.self) != 0xC0 {
                let converted = try MsgPackJSON.json(fromMsgPack: data, limits: limits)
                canonical = canonical && converted.canonical
                packet.json = converted.json
                packet.jsonIsCompact = true
            }
        }
        packet.eventName = envelope.eventName
        if !canonical { packet.wire = wire }
        return packet
    }

    /// The Engine.IO binary message of a msgpack-parser packet: `wire` when present, otherwise the
    /// canonical map `{type, data, nsp, id?}` (python-socketio's order; `data` nil when absent).
    public func encodeMsgPack() throws(WireError) -> ByteBuffer {
        if let wire = self.wire { return wire }
        var out = ByteBuffer()
        MsgPackWriter.writeMapHeader(count: self.ackID == nil ? 3 : 4, into: &out)
        MsgPackWriter.writeString("type", into: &out)
        MsgPackWriter.writeUnsigned(UInt64(self.type.rawValue), into: &out)
        MsgPackWriter.writeString("data", into: &out)
        if let json = self.json {
            var data = try MsgPackJSON.msgPack(fromJSON: json)
            out.writeBuffer(&data)
        } else {
            MsgPackWriter.writeNil(into: &out)
        }
        MsgPackWriter.writeString("nsp", into: &out)
        MsgPackWriter.writeString(self.namespace, into: &out)
        if let id = self.ackID {
            MsgPackWriter.writeString("id", into: &out)
            MsgPackWriter.writeUnsigned(id, into: &out)
        }
        return out
    }

    /// Whether a binary message starts like a msgpack map (fixmap, map16, map32): the one cheap
    /// test before trying `decodeMsgPack`.
    public static func looksLikeMsgPack(_ message: ByteBuffer) -> Bool {
        guard let first = message.getInteger(at: message.readerIndex, as: UInt8.self) else { return false }
        return (0x80...0x8F).contains(first) || first == 0xDE || first == 0xDF
    }
}

/// The top-level map of a msgpack-parser packet, read without converting `data`.
private struct MsgPackEnvelope {
    var type: SocketIOPacketType
    var namespace: String
    var ackID: UInt64?
    /// Where `data`'s value is in the message (absent: no `data` key).
    var data: Range<Int>?
    var eventName: String?
    /// The keys were `type`, `data`, `nsp`[, `id`] in that order, each header canonical.
    var isCanonical: Bool

    static func read(_ bytes: UnsafeRawBufferPointer, limits: MsgPackLimits) throws(WireError) -> MsgPackEnvelope {
        var cursor = MsgPackCursor(bytes, limits: limits)
        guard case .map(let count) = try cursor.readHead() else {
            throw WireError("msgpack packet: not a map (first byte \(describeByte(bytes.first ?? 0)))", at: 0)
        }
        var type: SocketIOPacketType?
        var namespace: String?
        var ackID: UInt64?
        var data: Range<Int>?
        var dataKind: UInt8 = 0xC0
        var keys: [String] = []
        for _ in 0..<count {
            var key = "?"
            if case .string(let range) = try cursor.readHead() {
                key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
            keys.append(key)
            let valueStart = cursor.index
            switch key {
            case "type":
                guard case .unsigned(let value) = try cursor.readHead(), value <= 4 else {
                    throw WireError("msgpack packet: type must be an integer 0-4", at: valueStart)
                }
                type = SocketIOPacketType(rawValue: UInt8(value))
            case "nsp":
                guard case .string(let range) = try cursor.readHead(),
                    let name = String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
                else { throw WireError("msgpack packet: nsp must be a string", at: valueStart) }
                namespace = name
            case "id":
                switch try cursor.readHead() {
                case .unsigned(let value): ackID = value
                case .null: cursor.isCanonical = false
                default: throw WireError("msgpack packet: id must be a non-negative integer", at: valueStart)
                }
            case "data":
                dataKind = bytes[valueStart]
                try cursor.skipValue(depth: 1)
                data = valueStart..<cursor.index
            default:
                // Another key (socket.io-client adds `options`): kept in the wire bytes only.
                cursor.isCanonical = false
                try cursor.skipValue(depth: 1)
            }
        }
        guard cursor.atEnd else {
            throw WireError("msgpack packet: \(cursor.remaining) bytes after the map", at: cursor.index)
        }
        guard let type else { throw WireError("msgpack packet: no type", at: 0) }
        guard let namespace else { throw WireError("msgpack packet: no nsp", at: 0) }
        let kind = Kind(marker: dataKind)
        let valid: Bool
        switch type {
        case .connect: valid = data == nil || kind == .null || kind == .map
        case .disconnect: valid = data == nil || kind == .null
        case .connectError: valid = kind == .string || kind == .map
        default: valid = data != nil && kind == .array
        }
        guard valid else {
            throw WireError("msgpack packet: invalid data for \(type.name)", at: data?.lowerBound ?? 0)
        }
        var eventName: String?
        if type == .event, let data {
            var peek = MsgPackCursor(bytes, limits: limits, at: data.lowerBound)
            if case .array(let n) = try peek.readHead(), n > 0, case .string(let range) = try peek.readHead() {
                eventName = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
        }
        let canonicalKeys = ackID == nil ? ["type", "data", "nsp"] : ["type", "data", "nsp", "id"]
        return MsgPackEnvelope(
            type: type, namespace: namespace, ackID: ackID, data: data, eventName: eventName,
            isCanonical: cursor.isCanonical && keys == canonicalKeys)
    }

    enum Kind {
        case null, map, array, string, other

        init(marker: UInt8) {
            switch marker {
            case 0xC0: self = .null
            case 0x80...0x8F, 0xDE, 0xDF: self = .map
            case 0x90...0x9F, 0xDC, 0xDD: self = .array
            case 0xA0...0xBF, 0xD9...0xDB: self = .string
            default: self = .other
            }
        }
    }
}
