import NIOCore
import SIOWire

// Hand-written JSON output: the writer runs on every proxied packet, so it appends bytes
// directly and never goes through Foundation or an intermediate `String`.
extension ByteBuffer {
    /// Writes `s` as a JSON string literal: quotes, backslash and control characters escaped,
    /// everything else (non-ASCII UTF-8 included) passed through as is.
    public mutating func writeJSONString(_ s: String) {
        var s = s
        s.withUTF8 { self.writeJSONString(utf8: $0) }
    }

    public mutating func writeJSONString(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        self.writeInteger(UInt8(ascii: "\""))
        var runStart = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                i += 1
                continue
            }
            if runStart < i {
                self.writeBytes(UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
            }
            self.writeJSONEscape(b)
            i += 1
            runStart = i
        }
        if runStart < bytes.count {
            self.writeBytes(UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        self.writeInteger(UInt8(ascii: "\""))
    }

    private mutating func writeJSONEscape(_ b: UInt8) {
        switch b {
        case UInt8(ascii: "\""): self.writeStaticString("\\\"")
        case UInt8(ascii: "\\"): self.writeStaticString("\\\\")
        case 0x0A: self.writeStaticString("\\n")
        case 0x0D: self.writeStaticString("\\r")
        case 0x09: self.writeStaticString("\\t")
        case 0x08: self.writeStaticString("\\b")
        case 0x0C: self.writeStaticString("\\f")
        default:
            self.writeStaticString("\\u00")
            self.writeInteger(hexDigit(b >> 4))
            self.writeInteger(hexDigit(b & 0xF))
        }
    }

    /// Writes `,"key":` (or `"key":` when `first`).
    mutating func writeJSONKey(_ key: StaticString, first: Bool = false) {
        if !first { self.writeInteger(UInt8(ascii: ",")) }
        self.writeInteger(UInt8(ascii: "\""))
        self.writeStaticString(key)
        self.writeInteger(UInt8(ascii: "\""))
        self.writeInteger(UInt8(ascii: ":"))
    }

    /// Writes a signed integer in decimal without allocating.
    mutating func writeDecimal(_ value: Int64) {
        if value < 0 {
            self.writeInteger(UInt8(ascii: "-"))
            // magnitude handles Int64.min without overflow.
            self.writeDecimal(unsigned: value.magnitude)
        } else {
            self.writeDecimal(unsigned: UInt64(value))
        }
    }

    mutating func writeDecimal(unsigned value: UInt64) {
        if value < 10 {
            self.writeInteger(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        var digits = 0
        var v = value
        while v > 0 {
            digits += 1
            v /= 10
        }
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { out in
            var v = value
            var i = digits - 1
            while i >= 0 {
                out[i] = UInt8(ascii: "0") &+ UInt8(v % 10)
                v /= 10
                i -= 1
            }
            return digits
        }
    }

    mutating func writeDecimal(_ value: Int) { self.writeDecimal(Int64(value)) }

    mutating func writeJSONBool(_ value: Bool) {
        self.writeStaticString(value ? "true" : "false")
    }

    /// Writes `bytes` as a JSON string holding their standard base64 (with padding).
    mutating func writeJSONBase64(_ bytes: ByteBuffer) {
        self.writeInteger(UInt8(ascii: "\""))
        Base64.encode(bytes, into: &self)
        self.writeInteger(UInt8(ascii: "\""))
    }
}

@inline(__always)
func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10
}
