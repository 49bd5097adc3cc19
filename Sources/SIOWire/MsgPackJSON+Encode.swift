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

/// A recursive-descent JSON reader writing MessagePack as it goes. A container's elements are
/// written to a scratch buffer first: MessagePack puts their count before them.
private struct JSONToMsgPack {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    let maxDepth: Int

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func skipWhitespace() {
        while self.index < self.bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[self.index]) { self.index += 1 }
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
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "-") { self.index += 1 }
        while self.index < self.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.index]) {
            self.index += 1
        }
        guard self.index > start else { throw self.fail("expected an integer") }
        return String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
    }

    private mutating func number(into out: inout ByteBuffer) throws(WireError) {
        let start = self.index
        var isFloat = false
        while self.index < self.bytes.count {
            let b = self.bytes[self.index]
            if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                isFloat = true
            } else if !(b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)) {
                break
            }
            self.index += 1
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
        guard !text.isEmpty, text.last != "-" else {
            self.index = start
            throw self.fail("unexpected character")
        }
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
        let count = text.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count,
            UnsafeRawBufferPointer(rebasing: self.bytes[self.index..<(self.index + count)]).elementsEqual(
                UnsafeRawBufferPointer(start: text.utf8Start, count: count))
        else { throw self.fail("unexpected character") }
        self.index += count
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
        self.index += 1
        return true
    }

    /// A JSON string's content as UTF-8 bytes, escapes decoded.
    private mutating func string() throws(WireError) -> ByteBuffer {
        guard self.consume(UInt8(ascii: "\"")) else { throw self.fail("expected a string") }
        var out = ByteBuffer()
        var runStart = self.index
        while true {
            guard self.index < self.bytes.count else { throw self.fail("unterminated string") }
            let b = self.bytes[self.index]
            if b == UInt8(ascii: "\"") {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: self.bytes[runStart..<self.index]))
                self.index += 1
                return out
            }
            if b < 0x20 { throw self.fail("control character in a string") }
            guard b == UInt8(ascii: "\\") else {
                self.index += 1
                continue
            }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: self.bytes[runStart..<self.index]))
            self.index += 1
            guard self.index < self.bytes.count else { throw self.fail("unterminated escape") }
            let e = self.bytes[self.index]
            self.index += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.writeInteger(e)
            case UInt8(ascii: "b"): out.writeInteger(UInt8(0x08))
            case UInt8(ascii: "f"): out.writeInteger(UInt8(0x0C))
            case UInt8(ascii: "n"): out.writeInteger(UInt8(0x0A))
            case UInt8(ascii: "r"): out.writeInteger(UInt8(0x0D))
            case UInt8(ascii: "t"): out.writeInteger(UInt8(0x09))
            case UInt8(ascii: "u"):
                var scalar = try self.hex4()
                if (0xD800..<0xDC00).contains(scalar), self.index + 1 < self.bytes.count,
                    self.bytes[self.index] == UInt8(ascii: "\\"), self.bytes[self.index + 1] == UInt8(ascii: "u")
                {
                    let save = self.index
                    self.index += 2
                    let low = try self.hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        self.index = save
                    }
                }
                // A lone surrogate cannot be UTF-8: written as U+FFFD, as JSON decoders do.
                let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.writeString(String(Character(value)))
            default:
                self.index -= 1
                throw self.fail("bad escape")
            }
            runStart = self.index
        }
    }

    private mutating func hex4() throws(WireError) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.fail("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = self.bytes[self.index]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw self.fail("bad \\u escape")
            }
            value = value << 4 | digit
            self.index += 1
        }
        return value
    }
}
