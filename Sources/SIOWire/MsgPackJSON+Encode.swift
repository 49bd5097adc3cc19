import NIOCore

extension MsgPackJSON {
    /// The MessagePack of JSON text written with the mapping of `json(fromMsgPack:)` (tags and `$`
    /// keys undone), in canonical form. Any JSON is accepted: a JSON integer that does not fit in
    /// 64 bits becomes a float64. Used to rebuild frames from a recording (inspect, replay), not on
    /// the capture path.
    public static func msgPack(fromJSON json: ByteBuffer, maxDepth: Int = 128) throws(WireError) -> ByteBuffer {
        try json.withUnsafeReadableBytes { bytes throws(WireError) in
            var parser = JSONToMsgPack(bytes: bytes, maxDepth: maxDepth)
            var out = ByteBuffer()
            out.reserveCapacity(bytes.count)
            parser.skipWhitespace()
            try parser.value(depth: 0, into: &out)
            parser.skipWhitespace()
            guard parser.index == bytes.count else { throw WireError("JSON: text after the value", at: parser.index) }
            return out
        }
    }
}

/// A recursive-descent JSON reader writing MessagePack as it goes, its tokens read by a
/// `JSONCursor`. A container's elements are written to a scratch buffer first: MessagePack puts
/// their count before them.
private struct JSONToMsgPack {
    var cursor: JSONCursor
    let maxDepth: Int

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.cursor = JSONCursor(bytes, maxDepth: maxDepth)
        self.maxDepth = maxDepth
    }

    var bytes: UnsafeRawBufferPointer { self.cursor.bytes }

    var index: Int {
        get { self.cursor.index }
        set { self.cursor.index = newValue }
    }

    mutating func skipWhitespace() { self.cursor.skipWhitespace() }

    /// Runs a step of the cursor, its errors worded as this reader's.
    private mutating func lexing<T>(_ step: (inout JSONCursor) throws(WireError) -> T) throws(WireError) -> T {
        do {
            return try step(&self.cursor)
        } catch {
            throw WireError("JSON: \(error.reason)", at: error.offset)
        }
    }

    func fail(_ reason: String) -> WireError { WireError("JSON: \(reason)", at: self.index) }

    mutating func value(depth: Int, into out: inout ByteBuffer) throws(WireError) {
        guard self.index < self.bytes.count else { throw self.fail("unexpected end") }
        switch self.bytes[self.index] {
        case UInt8(ascii: "{"):
            try self.object(depth: depth + 1, into: &out)
        case UInt8(ascii: "["):
            guard depth + 1 <= self.maxDepth else { throw self.fail("nested deeper than \(self.maxDepth)") }
            self.index += 1
            var inner = ByteBuffer()
            var count = 0
            self.skipWhitespace()
            if self.consume(UInt8(ascii: "]")) {
                MsgPackWriter.writeArrayHeader(count: 0, into: &out)
                return
            }
            repeat {
                self.skipWhitespace()
                try self.value(depth: depth + 1, into: &inner)
                count += 1
                self.skipWhitespace()
            } while self.consume(UInt8(ascii: ","))
            guard self.consume(UInt8(ascii: "]")) else { throw self.fail("expected , or ]") }
            MsgPackWriter.writeArrayHeader(count: count, into: &out)
            out.writeBuffer(&inner)
        case UInt8(ascii: "\""):
            let string = try self.string()
            string.withUnsafeReadableBytes { MsgPackWriter.writeString(utf8: $0, into: &out) }
        case UInt8(ascii: "t"):
            try self.literal("true")
            MsgPackWriter.writeBool(true, into: &out)
        case UInt8(ascii: "f"):
            try self.literal("false")
            MsgPackWriter.writeBool(false, into: &out)
        case UInt8(ascii: "n"):
            try self.literal("null")
            MsgPackWriter.writeNil(into: &out)
        default:
            try self.number(into: &out)
        }
    }

    private mutating func object(depth: Int, into out: inout ByteBuffer) throws(WireError) {
        guard depth <= self.maxDepth else { throw self.fail("nested deeper than \(self.maxDepth)") }
        let start = self.index
        self.index += 1
        self.skipWhitespace()
        if self.consume(UInt8(ascii: "}")) {
            MsgPackWriter.writeMapHeader(count: 0, into: &out)
            return
        }
        var inner = ByteBuffer()
        var count = 0
        repeat {
            self.skipWhitespace()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
                throw self.fail("expected a key")
            }
            let keyStart = self.index
            let key = try self.string()
            self.skipWhitespace()
            guard self.consume(UInt8(ascii: ":")) else { throw self.fail("expected :") }
            self.skipWhitespace()
            let keyView = key.readableBytesView
            if count == 0, let tag = Self.tag(keyView) {
                // `{"$bin":...}` and friends: one value, then the object must end.
                try self.tagged(tag, at: keyStart, into: &out)
                self.skipWhitespace()
                guard self.consume(UInt8(ascii: "}")) else {
                    throw WireError("JSON: \(tag) must be the only key of its object", at: start)
                }
                return
            }
            if keyView.first == UInt8(ascii: "$"), keyView.dropFirst().first != UInt8(ascii: "$") {
                // `$` + the JSON of a key that is not a string.
                var encodedKey: ByteBuffer
                do {
                    encodedKey = try MsgPackJSON.msgPack(
                        fromJSON: key.getSlice(at: key.readerIndex + 1, length: key.readableBytes - 1)!,
                        maxDepth: self.maxDepth - depth)
                } catch {
                    throw WireError("JSON: key is neither a string nor $ + JSON (\(error.reason))", at: keyStart)
                }
                inner.writeBuffer(&encodedKey)
            } else {
                var keyBytes = key
                if keyView.first == UInt8(ascii: "$") { keyBytes.moveReaderIndex(forwardBy: 1) }
                keyBytes.withUnsafeReadableBytes { MsgPackWriter.writeString(utf8: $0, into: &inner) }
            }
            try self.value(depth: depth, into: &inner)
            count += 1
            self.skipWhitespace()
        } while self.consume(UInt8(ascii: ","))
        guard self.consume(UInt8(ascii: "}")) else { throw self.fail("expected , or }") }
        MsgPackWriter.writeMapHeader(count: count, into: &out)
        out.writeBuffer(&inner)
    }

    private static func tag(_ key: ByteBufferView) -> String? {
        guard key.first == UInt8(ascii: "$"), key.count <= 6 else { return nil }
        let name = String(decoding: key, as: UTF8.self)
        switch name {
        case MsgPackJSON.tagInt, MsgPackJSON.tagFloat, MsgPackJSON.tagBin, MsgPackJSON.tagExt, MsgPackJSON.tagStr:
            return name
        default:
            return nil
        }
    }

    private mutating func tagged(_ tag: String, at keyStart: Int, into out: inout ByteBuffer) throws(WireError) {
        switch tag {
        case MsgPackJSON.tagBin, MsgPackJSON.tagStr:
            let payload = try self.base64String()
            payload.withUnsafeReadableBytes {
                if tag == MsgPackJSON.tagBin {
                    MsgPackWriter.writeBinary($0, into: &out)
                } else {
                    MsgPackWriter.writeString(utf8: $0, into: &out)
                }
            }
        case MsgPackJSON.tagExt:
            guard self.consume(UInt8(ascii: "[")) else { throw self.fail("$ext needs [type, base64]") }
            self.skipWhitespace()
            let typeStart = self.index
            let type = try self.integerText()
            guard let type = Int8(type) else { throw WireError("JSON: ext type out of range", at: typeStart) }
            self.skipWhitespace()
            guard self.consume(UInt8(ascii: ",")) else { throw self.fail("$ext needs [type, base64]") }
            self.skipWhitespace()
            let payload = try self.base64String()
            self.skipWhitespace()
            guard self.consume(UInt8(ascii: "]")) else { throw self.fail("$ext needs [type, base64]") }
            payload.withUnsafeReadableBytes { MsgPackWriter.writeExt(type: type, $0, into: &out) }
        case MsgPackJSON.tagInt:
            let textStart = self.index
            let text = String(buffer: try self.string())
            if let value = UInt64(text) {
                MsgPackWriter.writeUnsigned(value, into: &out)
            } else if let value = Int64(text) {
                MsgPackWriter.writeSigned(value, into: &out)
            } else {
                throw WireError("JSON: $int is not a 64-bit integer", at: textStart)
            }
        default:  // $float
            let textStart = self.index
            switch String(buffer: try self.string()) {
            case "NaN": MsgPackWriter.writeDouble(.nan, into: &out)
            case "Infinity": MsgPackWriter.writeDouble(.infinity, into: &out)
            case "-Infinity": MsgPackWriter.writeDouble(-.infinity, into: &out)
            default: throw WireError("JSON: $float is NaN, Infinity or -Infinity", at: textStart)
            }
        }
    }

    private mutating func base64String() throws(WireError) -> ByteBuffer {
        let start = self.index
        let text = try self.string()
        do {
            return try text.withUnsafeReadableBytes { raw throws(WireError) in try Base64.decode(raw) }
        } catch {
            throw WireError("JSON: bad base64 (\(error.reason))", at: start)
        }
    }

    private mutating func integerText() throws(WireError) -> String {
        let start = self.index
        guard try self.numberText() else {
            self.index = start
            throw self.fail("expected an integer")
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
    }

    /// Moves past a number; returns whether it is an integer.
    private mutating func numberText() throws(WireError) -> Bool {
        guard let first = self.cursor.peek(), first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { throw self.fail("unexpected character") }
        return try self.lexing { (c: inout JSONCursor) throws(WireError) in try c.skipNumber() }
    }

    private mutating func number(into out: inout ByteBuffer) throws(WireError) {
        let start = self.index
        let isFloat = !(try self.numberText())
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
        if !isFloat, let value = UInt64(text) {
            MsgPackWriter.writeUnsigned(value, into: &out)
        } else if !isFloat, let value = Int64(text) {
            MsgPackWriter.writeSigned(value, into: &out)
        } else if let value = Double(text), value.isFinite || isFloat {
            MsgPackWriter.writeDouble(value, into: &out)
        } else {
            throw WireError("JSON: bad number", at: start)
        }
    }

    private mutating func literal(_ text: StaticString) throws(WireError) {
        do {
            try self.cursor.skipLiteral(text)
        } catch {
            throw self.fail("unexpected character")
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool { self.cursor.consume(byte) }

    /// A JSON string's content as UTF-8 bytes, escapes decoded.
    private mutating func string() throws(WireError) -> ByteBuffer {
        guard self.cursor.peek() == UInt8(ascii: "\"") else { throw self.fail("expected a string") }
        let (content, escaped) = try self.lexing { (c: inout JSONCursor) throws(WireError) in try c.skipString() }
        if escaped { return ByteBuffer(string: self.cursor.decodeString(content)) }
        return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: self.bytes[content]))
    }

}
