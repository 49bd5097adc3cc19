import NIOCore

/// MessagePack values as JSON text and back, with a lossless mapping for what JSON lacks
/// (specified in docs/recording-format.md, "msgpack values as JSON"):
///
/// - nil, booleans, strings, arrays: as themselves;
/// - integers within ±(2^53 − 1): JSON integers; beyond: `{"$int":"<decimal>"}`;
/// - float64 (and float32, at its exact value): a JSON number that always has a `.` or an exponent,
///   so it reads back as a float; NaN and ±Inf: `{"$float":"NaN"|"Infinity"|"-Infinity"}`;
/// - bin: `{"$bin":"<base64>"}`; ext: `{"$ext":[<type>,"<base64>"]}`; a str that is not UTF-8:
///   `{"$str":"<base64>"}`;
/// - maps: JSON objects in wire order; a string key that starts with `$` gets one more `$`, any
///   other key (number, nil, bin, ...) is written as `$` + the JSON text of the key.
///
/// Because every real key starting with `$` is doubled, an object whose single key is `$bin`,
/// `$ext`, `$int`, `$float` or `$str` is always one of the tags above.
public enum MsgPackJSON {
    static let tagInt = "$int"
    static let tagFloat = "$float"
    static let tagBin = "$bin"
    static let tagExt = "$ext"
    static let tagStr = "$str"

    /// Converts one MessagePack value (the whole of `bytes`) to compact JSON text (no whitespace,
    /// no line break). `canonical` tells whether `encode` of that text gives back `bytes` exactly.
    public static func json(
        fromMsgPack bytes: ByteBuffer, limits: MsgPackLimits = MsgPackLimits()
    ) throws(WireError) -> (json: ByteBuffer, canonical: Bool) {
        try bytes.withUnsafeReadableBytes { raw throws(WireError) in
            var cursor = MsgPackCursor(raw, limits: limits)
            var out = ByteBuffer()
            out.reserveCapacity(raw.count * 2 + 16)
            try self.convert(&cursor, depth: 0, into: &out)
            guard cursor.atEnd else {
                throw WireError("msgpack: \(cursor.remaining) bytes after the value", at: cursor.index)
            }
            return (out, cursor.isCanonical)
        }
    }

    /// Converts the value at the cursor, appending its JSON text.
    static func convert(_ cursor: inout MsgPackCursor, depth: Int, into out: inout ByteBuffer) throws(WireError) {
        let bytes = cursor.bytes
        switch try cursor.readHead() {
        case .null:
            out.writeStaticString("null")
        case .bool(let value):
            out.writeStaticString(value ? "true" : "false")
        case .unsigned(let value):
            if value <= maxSafeInteger {
                out.writeDecimal(unsigned: value)
            } else {
                out.writeStaticString("{\"$int\":\"")
                out.writeDecimal(unsigned: value)
                out.writeStaticString("\"}")
            }
        case .negative(let value):
            if value >= -Int64(maxSafeInteger) {
                out.writeInteger(UInt8(ascii: "-"))
                out.writeDecimal(unsigned: value.magnitude)
            } else {
                out.writeStaticString("{\"$int\":\"-")
                out.writeDecimal(unsigned: value.magnitude)
                out.writeStaticString("\"}")
            }
        case .float32(let value):
            writeNumber(Double(value), into: &out)
        case .float64(let value):
            writeNumber(value, into: &out)
        case .string(let range):
            let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
            if isUTF8(slice) {
                out.writeJSONString(utf8: slice.assumingMemoryBound(to: UInt8.self))
            } else {
                writeTag("$str", base64: slice, into: &out)
            }
        case .binary(let range):
            writeTag("$bin", base64: UnsafeRawBufferPointer(rebasing: bytes[range]), into: &out)
        case .ext(let type, let range):
            out.writeStaticString("{\"$ext\":[")
            if type < 0 { out.writeInteger(UInt8(ascii: "-")) }
            out.writeDecimal(unsigned: UInt64(type.magnitude))
            out.writeInteger(UInt8(ascii: ","))
            writeBase64String(UnsafeRawBufferPointer(rebasing: bytes[range]), into: &out)
            out.writeStaticString("]}")
        case .array(let count):
            try cursor.checkDepth(depth + 1)
            out.writeInteger(UInt8(ascii: "["))
            for i in 0..<count {
                if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
                try self.convert(&cursor, depth: depth + 1, into: &out)
            }
            out.writeInteger(UInt8(ascii: "]"))
        case .map(let count):
            try cursor.checkDepth(depth + 1)
            out.writeInteger(UInt8(ascii: "{"))
            for i in 0..<count {
                if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
                try self.convertKey(&cursor, depth: depth + 1, into: &out)
                out.writeInteger(UInt8(ascii: ":"))
                try self.convert(&cursor, depth: depth + 1, into: &out)
            }
            out.writeInteger(UInt8(ascii: "}"))
        }
    }

    /// A map key: a UTF-8 string as itself (one more `$` in front when it starts with `$`), any
    /// other value as `$` + its JSON text.
    private static func convertKey(_ cursor: inout MsgPackCursor, depth: Int, into out: inout ByteBuffer) throws(WireError) {
        let start = cursor.index
        if start < cursor.bytes.count, isStringMarker(cursor.bytes[start]) {
            let head = try cursor.readHead()
            if case .string(let range) = head {
                let slice = UnsafeRawBufferPointer(rebasing: cursor.bytes[range])
                if isUTF8(slice) {
                    if slice.first == UInt8(ascii: "$") {
                        var prefixed = ByteBuffer(string: "$")
                        prefixed.writeBytes(slice)
                        prefixed.withUnsafeReadableBytes { out.writeJSONString(utf8: $0.assumingMemoryBound(to: UInt8.self)) }
                    } else {
                        out.writeJSONString(utf8: slice.assumingMemoryBound(to: UInt8.self))
                    }
                    return
                }
            }
            cursor.index = start  // not UTF-8: converted as a value below (the cursor counted it twice: harmless)
        }
        // The key's JSON is escaped into a string, and a key inside it once more: without a cap,
        // keys nested in keys would double the text at every level.
        guard cursor.keyNesting < MsgPackCursor.maxKeyNesting else {
            throw WireError(
                "msgpack: a map key that is not a string, nested in more than \(MsgPackCursor.maxKeyNesting) such keys",
                at: start)
        }
        var key = ByteBuffer(string: "$")
        cursor.keyNesting += 1
        try self.convert(&cursor, depth: depth, into: &key)
        cursor.keyNesting -= 1
        key.withUnsafeReadableBytes { out.writeJSONString(utf8: $0.assumingMemoryBound(to: UInt8.self)) }
    }

    private static func isStringMarker(_ byte: UInt8) -> Bool {
        (0xA0...0xBF).contains(byte) || (0xD9...0xDB).contains(byte)
    }
}

/// 2^53 − 1: the largest integer every JSON reader (JavaScript's included) holds exactly.
let maxSafeInteger: UInt64 = (1 << 53) - 1

/// A finite number with a `.` or an exponent (Swift's shortest round-trip text always has one);
/// NaN and infinities as tags.
private func writeNumber(_ value: Double, into out: inout ByteBuffer) {
    if value.isNaN {
        out.writeStaticString("{\"$float\":\"NaN\"}")
    } else if value.isInfinite {
        out.writeStaticString(value < 0 ? "{\"$float\":\"-Infinity\"}" : "{\"$float\":\"Infinity\"}")
    } else {
        out.writeString(value.description)
    }
}

private func writeTag(_ tag: StaticString, base64 bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
    out.writeStaticString("{\"")
    out.writeStaticString(tag)
    out.writeStaticString("\":")
    writeBase64String(bytes, into: &out)
    out.writeInteger(UInt8(ascii: "}"))
}

private func writeBase64String(_ bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
    out.writeInteger(UInt8(ascii: "\""))
    Base64.encode(ByteBuffer(bytes: bytes), into: &out)
    out.writeInteger(UInt8(ascii: "\""))
}

func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    if !bytes.contains(where: { $0 >= 0x80 }) { return true }
    return String(validating: bytes, as: UTF8.self) != nil
}
