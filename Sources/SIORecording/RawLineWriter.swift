import NIOCore
import SIOWire

/// Writes a line into memory sized in advance, with no checks per write: the record encoder's
/// path for the line written for nearly every proxied packet. Each separate `ByteBuffer` write
/// costs an exclusivity check and a capacity check; this costs one of each per line.
///
/// The caller reserves at least the sum of the bounds of what it writes (`bound(jsonString:)` for
/// strings, 20 bytes per number, the count of constant text and of verbatim bytes).
struct RawLineWriter {
    let out: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ out: UnsafeMutableRawBufferPointer) {
        self.out = out
    }

    /// Room a JSON string literal of `s` can need: every byte escaped as `\u00XX`, and the quotes.
    static func bound(jsonString s: String) -> Int { s.utf8.count * 6 + 2 }

    /// Inlined: the text's length is then a constant, and so is the copy's size (a few moves
    /// instead of a call to `memcpy`).
    @inline(__always)
    mutating func ascii(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        UnsafeMutableRawBufferPointer(rebasing: self.out[self.count..<(self.count + length)]).copyMemory(
            from: UnsafeRawBufferPointer(start: text.utf8Start, count: length))
        self.count += length
    }

    /// `,"key":` (or `"key":` when `first`) for a field of the format.
    @inline(__always)
    mutating func key(_ field: RecordLine.Field, first: Bool = false) {
        if !first {
            self.out[self.count] = UInt8(ascii: ",")
            self.count += 1
        }
        self.out[self.count] = UInt8(ascii: "\"")
        self.count += 1
        self.ascii(field.key)
        self.out[self.count] = UInt8(ascii: "\"")
        self.out[self.count + 1] = UInt8(ascii: ":")
        self.count += 2
    }

    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: self.out[self.count..<(self.count + bytes.count)]).copyMemory(from: bytes)
        self.count += bytes.count
    }

    mutating func decimal(_ value: Int64) {
        if value < 0 {
            self.out[self.count] = UInt8(ascii: "-")
            self.count += 1
        }
        self.count += writeDecimalDigits(value.magnitude, into: self.out, at: self.count)
    }

    mutating func decimal(unsigned value: UInt64) {
        self.count += writeDecimalDigits(value, into: self.out, at: self.count)
    }

    mutating func jsonString(_ s: String) {
        // A native string's bytes are contiguous: no copy of the string (and no retain) to reach them.
        if let written = s.utf8.withContiguousStorageIfAvailable({ writeJSONStringLiteral($0, into: self.out, at: self.count) }) {
            self.count += written
            return
        }
        var s = s
        s.withUTF8 { self.count += writeJSONStringLiteral($0, into: self.out, at: self.count) }
    }
}
