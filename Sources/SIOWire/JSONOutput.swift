import NIOCore

// JSON text written straight into bytes, for every module that writes JSON: the recording's lines
// (SIORecording), msgpack payloads converted to JSON (`MsgPackJSON`), the exports and the view. The
// recorder runs these for every proxied packet, so they append bytes directly and never go through
// Foundation or an intermediate `String`; the free functions are inlinable so that SIORecording's
// `RawLineWriter` compiles them into its own loops.
extension ByteBuffer {
    /// Writes `s` as a JSON string literal: quotes, backslash and control characters escaped,
    /// everything else (non-ASCII UTF-8 included) passed through as is.
    @inlinable
    public mutating func writeJSONString(_ s: String) {
        var s = s
        s.withUTF8 { self.writeJSONString(utf8: $0) }
    }

    @inlinable
    public mutating func writeJSONString(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        // One pass to size the output exactly, one write into the buffer: every separate ByteBuffer
        // write costs an exclusivity check and a capacity check, and this runs for every record.
        var escapedLength = bytes.count + 2
        for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
            escapedLength += jsonEscapeLength(b) - 1
        }
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: escapedLength) { out in
            writeJSONStringLiteral(bytes, into: out, at: 0, escapedLength: escapedLength)
        }
    }

    /// Writes a signed integer in decimal without allocating.
    @inlinable
    package mutating func writeDecimal(_ value: Int64) {
        if value < 0 {
            self.writeInteger(UInt8(ascii: "-"))
            // magnitude handles Int64.min without overflow.
            self.writeDecimal(unsigned: value.magnitude)
        } else {
            self.writeDecimal(unsigned: UInt64(value))
        }
    }

    @inlinable
    package mutating func writeDecimal(unsigned value: UInt64) {
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { out in
            writeDecimalDigits(value, into: out, at: 0)
        }
    }

    @inlinable
    package mutating func writeDecimal(_ value: Int) { self.writeDecimal(Int64(value)) }

    /// Writes `bytes` as a JSON string holding their standard base64 (with padding).
    public mutating func writeJSONBase64(_ bytes: ByteBuffer) {
        self.writeInteger(UInt8(ascii: "\""))
        Base64.encode(bytes, into: &self)
        self.writeInteger(UInt8(ascii: "\""))
    }
}

/// Writes `bytes` as a JSON string literal at `o` (room for `escapedLength` bytes, or for six per
/// byte and the quotes when not given); returns its length.
@inlinable @inline(__always)
package func writeJSONStringLiteral(
    _ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableRawBufferPointer, at start: Int,
    escapedLength: Int? = nil
) -> Int {
    out[start] = UInt8(ascii: "\"")
    var o = start + 1
    let plain = escapedLength.map { $0 == bytes.count + 2 } ?? !needsJSONEscape(bytes)
    if plain {
        if bytes.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: out[o..<(o + bytes.count)]).copyMemory(
                from: UnsafeRawBufferPointer(bytes))
        }
        o += bytes.count
    } else {
        for b in bytes {
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                out[o] = b
                o += 1
            } else {
                o += writeJSONEscape(b, into: out, at: o)
            }
        }
    }
    out[o] = UInt8(ascii: "\"")
    return o + 1 - start
}

/// Whether any byte of `bytes` is a control character, a quote or a backslash (which a JSON string
/// must escape). Eight bytes per step (this runs for the sid, the namespace and the event name of
/// every recorded packet): the classic "has a byte below n" and "has a zero byte" word tests.
@inlinable @inline(__always)
package func needsJSONEscape(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let count = bytes.count
    var index = 0
    if let base = UnsafeRawPointer(bytes.baseAddress) {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while index + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let quotes = word ^ (ones &* 0x22)
            let backslashes = word ^ (ones &* 0x5C)
            let flagged =
                ((word &- ones &* 0x20) & ~word) | ((quotes &- ones) & ~quotes) | ((backslashes &- ones) & ~backslashes)
            if flagged & highs != 0 { return true }
            index += 8
        }
    }
    while index < count {
        let b = bytes[index]
        if b < 0x20 || b == 0x22 || b == 0x5C { return true }
        index += 1
    }
    return false
}

/// The bytes `writeJSONEscape` writes for `b`.
@inlinable @inline(__always)
func jsonEscapeLength(_ b: UInt8) -> Int {
    switch b {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09, 0x08, 0x0C: return 2
    default: return 6
    }
}

/// Writes the JSON escape of `b` (a quote, a backslash or a control character) at `o`; returns its length.
@inlinable @inline(__always)
func writeJSONEscape(_ b: UInt8, into out: UnsafeMutableRawBufferPointer, at o: Int) -> Int {
    out[o] = UInt8(ascii: "\\")
    switch b {
    case UInt8(ascii: "\""): out[o + 1] = UInt8(ascii: "\"")
    case UInt8(ascii: "\\"): out[o + 1] = UInt8(ascii: "\\")
    case 0x0A: out[o + 1] = UInt8(ascii: "n")
    case 0x0D: out[o + 1] = UInt8(ascii: "r")
    case 0x09: out[o + 1] = UInt8(ascii: "t")
    case 0x08: out[o + 1] = UInt8(ascii: "b")
    case 0x0C: out[o + 1] = UInt8(ascii: "f")
    default:
        out[o + 1] = UInt8(ascii: "u")
        out[o + 2] = UInt8(ascii: "0")
        out[o + 3] = UInt8(ascii: "0")
        out[o + 4] = hexDigit(b >> 4)
        out[o + 5] = hexDigit(b & 0xF)
        return 6
    }
    return 2
}

/// Writes `value` in decimal at `o` (room for 20 digits needed); returns the number of digits.
/// Counts the digits by comparison, then writes two per division (this runs for several numbers of
/// every recorded packet).
@inlinable @inline(__always)
package func writeDecimalDigits(_ value: UInt64, into out: UnsafeMutableRawBufferPointer, at o: Int) -> Int {
    var digits = 1
    var power: UInt64 = 10
    while value >= power {
        digits += 1
        guard digits < 20 else { break }
        power &*= 10
    }
    var v = value
    var i = o + digits
    while v >= 100 {
        let pair = UInt8(truncatingIfNeeded: v % 100)
        v /= 100
        i -= 2
        out[i] = UInt8(ascii: "0") &+ pair / 10
        out[i + 1] = UInt8(ascii: "0") &+ pair % 10
    }
    if v >= 10 {
        let pair = UInt8(truncatingIfNeeded: v)
        out[o] = UInt8(ascii: "0") &+ pair / 10
        out[o + 1] = UInt8(ascii: "0") &+ pair % 10
    } else {
        out[o] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v)
    }
    return digits
}

@inlinable @inline(__always)
package func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10
}
