import NIOCore

/// Long-polling bodies: many packets in one HTTP body.
public enum EngineIOPayload {
    /// Which framing a body uses: v4 always `.v4Text`; v3 `.v3Binary` when the body is
    /// `application/octet-stream` (or starts with a 0x00/0x01 record marker), else `.v3Text`.
    public static func encoding(
        version: EngineIOVersion, contentType: String?, body: ByteBuffer
    ) -> EngineIOPayloadEncoding {
        switch version {
        case .v4:
            return .v4Text
        case .v3:
            if let contentType, contentType.lowercased().hasPrefix("application/octet-stream") { return .v3Binary }
            // A text payload always starts with a length digit, never with a 0x00/0x01 marker.
            if let first = body.getInteger(at: body.readerIndex, as: UInt8.self), first <= 1 { return .v3Binary }
            return .v3Text
        }
    }

    /// Decodes a whole body. Never throws: packets up to the damage plus the damage.
    public static func decode(_ body: ByteBuffer, encoding: EngineIOPayloadEncoding) -> EngineIOPayloadDecoding {
        var packets: [EngineIOPacket] = []
        let error = self.decode(body, encoding: encoding) { packets.append($0) }
        return EngineIOPayloadDecoding(packets: packets, error: error)
    }

    /// Decodes a whole body, handing each packet to `packet` as it is cut out, in order, with no
    /// array of them (the capture decodes each packet's Socket.IO text as it comes). Returns the
    /// damage that stopped it, if any: the packets before it were handed over.
    public static func decode(
        _ body: ByteBuffer, encoding: EngineIOPayloadEncoding, each packet: (EngineIOPacket) -> Void
    ) -> WireError? {
        do throws(WireError) {
            switch encoding {
            case .v4Text: try self.decodeV4(body, each: packet)
            case .v3Text: try self.decodeV3Text(body, each: packet)
            case .v3Binary: try self.decodeV3Binary(body, each: packet)
            }
            return nil
        } catch {
            return error
        }
    }

    /// Encodes packets as one body in the given framing.
    public static func encode(_ packets: [EngineIOPacket], encoding: EngineIOPayloadEncoding) -> ByteBuffer {
        var body = ByteBuffer()
        for (index, packet) in packets.enumerated() {
            switch encoding {
            case .v4Text:
                if index > 0 { body.writeInteger(recordSeparator) }
                if packet.isBinary {
                    body.writeInteger(UInt8(ascii: "b"))
                    Base64.encode(packet.data, into: &body)
                } else {
                    packet.writeText(into: &body)
                }
            case .v3Text:
                var record = ByteBuffer()
                if packet.isBinary {
                    record.writeInteger(UInt8(ascii: "b"))
                    record.writeInteger(UInt8(ascii: "0") + packet.type.rawValue)
                    Base64.encode(packet.data, into: &record)
                } else {
                    packet.writeText(into: &record)
                }
                body.writeString(String(utf16Length(record)))
                body.writeInteger(UInt8(ascii: ":"))
                body.writeBuffer(&record)
            case .v3Binary:
                let length = 1 + packet.data.readableBytes
                body.writeInteger(UInt8(packet.isBinary ? 1 : 0))
                for digit in String(length).utf8 { body.writeInteger(digit - UInt8(ascii: "0")) }
                body.writeInteger(UInt8(0xFF))
                if packet.isBinary {
                    body.writeInteger(packet.type.rawValue)
                    body.writeImmutableBuffer(packet.data)
                } else {
                    packet.writeText(into: &body)
                }
            }
        }
        return body
    }

    static let recordSeparator: UInt8 = 0x1E

    // MARK: - Engine.IO v4

    private static func decodeV4(_ body: ByteBuffer, each packet: (EngineIOPacket) -> Void) throws(WireError) {
        guard body.readableBytes > 0 else { return }
        let base = body.readerIndex
        // One pass: each packet is decoded as its end (a separator or the body's end) is found,
        // with no array of the ends (every polling body comes here).
        let count = body.readableBytes
        var start = 0
        while true {
            let end = body.withUnsafeReadableBytes { Self.separator(in: $0, from: start) }
            packet(try Self.decodeV4Segment(body, base: base, start: start, end: end))
            guard end < count else { return }
            start = end + 1
        }
    }

    /// The index of the first record separator at or after `start`, or `bytes.count`: eight bytes
    /// at a time (a body is mostly packet text).
    static func separator(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return bytes.count }
        var index = start
        while index + 8 <= bytes.count {
            let mask = ByteWords.equal(ByteWords.load(base, index), recordSeparator)
            if mask != 0 { return index + ByteWords.firstIndex(mask) }
            index += 8
        }
        while index < bytes.count, bytes[index] != recordSeparator { index += 1 }
        return index
    }

    /// One packet of a v4 body: bytes `start..<end` after `base`.
    private static func decodeV4Segment(
        _ body: ByteBuffer, base: Int, start: Int, end segmentEnd: Int
    ) throws(WireError) -> EngineIOPacket {
        let segment = body.getSlice(at: base + start, length: segmentEnd - start)!
        let offset = start
        if segment.getInteger(at: segment.readerIndex, as: UInt8.self) == UInt8(ascii: "b") {
            let data = try segment.withUnsafeReadableBytes { bytes throws(WireError) in
                do throws(WireError) {
                    return try Base64.decode(UnsafeRawBufferPointer(rebasing: bytes[1...]))
                } catch {
                    throw WireError(error.reason, at: offset + 1 + error.offset)
                }
            }
            return EngineIOPacket(type: .message, isBinary: true, data: data)
        }
        do throws(WireError) {
            return try EngineIOPacket.decode(textPacket: segment)
        } catch {
            throw WireError(error.reason, at: offset + error.offset)
        }
    }

    // MARK: - Engine.IO v3 text

    private static func decodeV3Text(_ body: ByteBuffer, each packet: (EngineIOPacket) -> Void) throws(WireError) {
        let base = body.readerIndex
        try body.withUnsafeReadableBytes { bytes throws(WireError) in
            var index = 0
            while index < bytes.count {
                let recordStart = index
                var length = 0
                while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
                    let byte = bytes[index]
                    guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                        throw WireError("expected a length digit or ':', found \(describeByte(byte))", at: index)
                    }
                    guard index - recordStart < 10 else { throw WireError("length prefix too long", at: recordStart) }
                    length = length * 10 + Int(byte - UInt8(ascii: "0"))
                    index += 1
                }
                guard index < bytes.count else { throw WireError("length prefix without ':'", at: recordStart) }
                guard index > recordStart else { throw WireError("empty length prefix before ':'", at: index) }
                guard length > 0 else { throw WireError("zero-length packet", at: recordStart) }
                index += 1
                // The length counts UTF-16 code units (JavaScript string length), not bytes.
                let packetStart = index
                var units = 0
                while units < length {
                    guard index < bytes.count else {
                        throw WireError(
                            "length prefix \(length) exceeds the \(units) remaining units", at: recordStart)
                    }
                    let byte = bytes[index]
                    if byte < 0x80 {
                        index += 1
                        units += 1
                    } else {
                        let sequence = try validateUTF8Sequence(bytes, at: index)
                        index += sequence
                        units += sequence == 4 ? 2 : 1
                    }
                }
                guard units == length else {
                    throw WireError("length prefix \(length) splits a surrogate pair", at: recordStart)
                }
                let record = body.getSlice(at: base + packetStart, length: index - packetStart)!
                packet(try self.decodeV3Record(record, offset: packetStart))
            }
        }
    }

    /// One text record: a text packet, or `b<type digit><base64>`.
    private static func decodeV3Record(_ record: ByteBuffer, offset: Int) throws(WireError) -> EngineIOPacket {
        guard record.getInteger(at: record.readerIndex, as: UInt8.self) == UInt8(ascii: "b") else {
            do throws(WireError) {
                return try EngineIOPacket.decode(textPacket: record)
            } catch {
                throw WireError(error.reason, at: offset + error.offset)
            }
        }
        guard let digit = record.getInteger(at: record.readerIndex + 1, as: UInt8.self), digit >= UInt8(ascii: "0"),
            let type = EngineIOPacketType(rawValue: digit &- UInt8(ascii: "0"))
        else {
            throw WireError("binary record without a valid packet type digit", at: offset + 1)
        }
        return try record.withUnsafeReadableBytes { bytes throws(WireError) in
            do throws(WireError) {
                let data = try Base64.decode(UnsafeRawBufferPointer(rebasing: bytes[2...]))
                return EngineIOPacket(type: type, isBinary: true, data: data)
            } catch {
                throw WireError(error.reason, at: offset + 2 + error.offset)
            }
        }
    }

    // MARK: - Engine.IO v3 XHR2 binary

    private static func decodeV3Binary(_ body: ByteBuffer, each decoded: (EngineIOPacket) -> Void) throws(WireError) {
        var remaining = body
        let base = body.readerIndex
        while remaining.readableBytes > 0 {
            let recordStart = remaining.readerIndex - base
            let marker = remaining.readInteger(as: UInt8.self)!
            guard marker <= 1 else {
                throw WireError("expected a record marker 0x00 or 0x01, found \(describeByte(marker))", at: recordStart)
            }
            var length = 0
            var digits = 0
            while true {
                guard let digit = remaining.readInteger(as: UInt8.self) else {
                    throw WireError("record length without the 0xFF terminator", at: recordStart)
                }
                if digit == 0xFF { break }
                guard digit <= 9 else {
                    throw WireError(
                        "expected a length digit 0-9 or 0xFF, found \(describeByte(digit))",
                        at: remaining.readerIndex - 1 - base)
                }
                digits += 1
                guard digits <= 10 else { throw WireError("record length too long", at: recordStart) }
                length = length * 10 + Int(digit)
            }
            guard digits > 0 else { throw WireError("record without length digits", at: recordStart) }
            guard length > 0 else { throw WireError("zero-length record", at: recordStart) }
            let packetStart = remaining.readerIndex - base
            guard let packet = remaining.readSlice(length: length) else {
                throw WireError(
                    "record length \(length) exceeds the \(remaining.readableBytes) remaining bytes", at: recordStart)
            }
            if marker == 1 {
                let typeByte = packet.getInteger(at: packet.readerIndex, as: UInt8.self)!
                guard let type = EngineIOPacketType(rawValue: typeByte) else {
                    throw WireError("unknown Engine.IO packet type byte \(describeByte(typeByte))", at: packetStart)
                }
                decoded(
                    EngineIOPacket(
                        type: type, isBinary: true, data: packet.getSlice(at: packet.readerIndex + 1, length: length - 1)!))
            } else {
                do throws(WireError) {
                    decoded(try EngineIOPacket.decode(textPacket: packet))
                } catch {
                    throw WireError(error.reason, at: packetStart + error.offset)
                }
            }
        }
    }
}

/// The JavaScript `length` of UTF-8 text: UTF-16 code units.
func utf16Length(_ buffer: ByteBuffer) -> Int {
    buffer.withUnsafeReadableBytes { bytes in
        var units = 0
        for byte in bytes {
            // Continuation bytes add nothing; a 4-byte lead starts a surrogate pair.
            if byte & 0xC0 != 0x80 { units += byte >= 0xF0 ? 2 : 1 }
        }
        return units
    }
}
