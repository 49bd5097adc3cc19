import NIOCore

/// Standard base64 (RFC 4648, `+/`, `=` padding) on bytes, for the binary packets of polling payloads.
///
/// Kept here rather than going through Foundation so that decoding reports *where* the damage is;
/// the recording format uses it for binary data too.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Appends the base64 text of `bytes` to `output`.
    ///
    /// Writes through one pointer rather than a `writeInteger` per character: attachments of many
    /// megabytes are encoded on the event loop, and must not hold it (debug builds included).
    public static func encode(_ bytes: ByteBuffer, into output: inout ByteBuffer) {
        let length = (bytes.readableBytes + 2) / 3 * 4
        guard length > 0 else { return }
        bytes.withUnsafeReadableBytes { input in
            alphabet.withUnsafeBufferPointer { table in
                _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                    var index = 0
                    var out = 0
                    while index + 3 <= input.count {
                        let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                        target[out] = table[Int(value >> 18 & 0x3F)]
                        target[out + 1] = table[Int(value >> 12 & 0x3F)]
                        target[out + 2] = table[Int(value >> 6 & 0x3F)]
                        target[out + 3] = table[Int(value & 0x3F)]
                        index += 3
                        out += 4
                    }
                    let remaining = input.count - index
                    if remaining > 0 {
                        let value = UInt32(input[index]) << 16 | (remaining == 2 ? UInt32(input[index + 1]) << 8 : 0)
                        target[out] = table[Int(value >> 18 & 0x3F)]
                        target[out + 1] = table[Int(value >> 12 & 0x3F)]
                        target[out + 2] = remaining == 2 ? table[Int(value >> 6 & 0x3F)] : UInt8(ascii: "=")
                        target[out + 3] = UInt8(ascii: "=")
                        out += 4
                    }
                    return out
                }
            }
        }
    }

    /// Decodes base64 text. Missing padding is tolerated; any other defect is reported with its
    /// offset relative to the start of `text`.
    public static func decode(_ text: UnsafeRawBufferPointer) throws(WireError) -> ByteBuffer {
        let count = try self.characterCount(text)
        var output = ByteBuffer()
        output.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for index in 0..<count {
            let value = reverse[Int(text[index])]
            guard value != 0xFF else {
                throw WireError("invalid base64 character 0x\(String(text[index], radix: 16))", at: index)
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.writeInteger(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }

    /// Whether `decode` accepts `text`, checked without decoding it (no buffer, nothing written):
    /// for readers that only need to know, such as `inspect` showing how many attachments a line has.
    public static func isValid(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let count = try? self.characterCount(text) else { return false }
        for index in 0..<count where reverse[Int(text[index])] == 0xFF { return false }
        return true
    }

    /// The number of characters of `text` before its padding, once its length and padding are
    /// checked (missing padding is tolerated).
    private static func characterCount(_ text: UnsafeRawBufferPointer) throws(WireError) -> Int {
        var count = text.count
        var padding = 0
        while count > 0 && text[count - 1] == UInt8(ascii: "=") && padding < 2 {
            count -= 1
            padding += 1
        }
        if count % 4 == 1 { throw WireError("base64 text has an impossible length \(text.count)", at: text.count) }
        if padding > 0 && (count + padding) % 4 != 0 {
            throw WireError("base64 padding does not complete a quantum", at: count)
        }
        return count
    }
}
