import NIOCore

/// Standard base64 (RFC 4648, `+/`, padded) on raw bytes.
///
/// Written here rather than taken from Foundation so that encoding an attachment never makes a
/// `Data` round trip on the proxy's hot path.
enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0...63 for alphabet bytes, 0xFF for everything else.
    static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func encodedLength(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Decodes padded or unpadded base64; `nil` on any byte outside the alphabet or a bad length.
    static func decode(_ input: UnsafeRawBufferPointer) -> ByteBuffer? {
        var count = input.count
        while count > 0 && input[count - 1] == UInt8(ascii: "=") { count -= 1 }
        if input.count - count > 2 || count % 4 == 1 { return nil }
        let outLength = count * 3 / 4
        var result = ByteBuffer()
        var ok = true
        result.writeWithUnsafeMutableBytes(minimumWritableBytes: outLength) { out in
            decodeTable.withUnsafeBufferPointer { table in
                var o = 0
                var i = 0
                while i + 4 <= count {
                    let a = table[Int(input[i])]
                    let b = table[Int(input[i + 1])]
                    let c = table[Int(input[i + 2])]
                    let d = table[Int(input[i + 3])]
                    if (a | b | c | d) == 0xFF {
                        ok = false
                        return 0
                    }
                    let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: v)
                    o += 3
                    i += 4
                }
                let rest = count - i
                if rest >= 2 {
                    let a = table[Int(input[i])]
                    let b = table[Int(input[i + 1])]
                    let c = rest == 3 ? table[Int(input[i + 2])] : 0
                    if (a | b | c) == 0xFF {
                        ok = false
                        return 0
                    }
                    let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    o += 1
                    if rest == 3 {
                        out[o] = UInt8(truncatingIfNeeded: v >> 8)
                        o += 1
                    }
                }
                return o
            }
        }
        return ok ? result : nil
    }
}

extension ByteBuffer {
    /// Appends the base64 of `input` (no quotes).
    mutating func writeBase64(_ input: UnsafeRawBufferPointer) {
        let length = Base64.encodedLength(input.count)
        guard length > 0 else { return }
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            Base64.alphabet.withUnsafeBufferPointer { alphabet in
                var i = 0
                var o = 0
                let n = input.count
                while i + 3 <= n {
                    let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    out[o] = alphabet[Int(v >> 18)]
                    out[o + 1] = alphabet[Int((v >> 12) & 63)]
                    out[o + 2] = alphabet[Int((v >> 6) & 63)]
                    out[o + 3] = alphabet[Int(v & 63)]
                    i += 3
                    o += 4
                }
                if n - i == 1 {
                    let v = UInt32(input[i]) << 16
                    out[o] = alphabet[Int(v >> 18)]
                    out[o + 1] = alphabet[Int((v >> 12) & 63)]
                    out[o + 2] = UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                    o += 4
                } else if n - i == 2 {
                    let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                    out[o] = alphabet[Int(v >> 18)]
                    out[o + 1] = alphabet[Int((v >> 12) & 63)]
                    out[o + 2] = alphabet[Int((v >> 6) & 63)]
                    out[o + 3] = UInt8(ascii: "=")
                    o += 4
                }
                return o
            }
        }
    }
}
