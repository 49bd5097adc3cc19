import NIOCore
import SIOWire

// The recording format's own JSON pieces: keys and members of `RecordLine.Field`s. The generic JSON
// writers (strings, decimals, base64) are SIOWire's `JSONOutput`.
extension ByteBuffer {
    /// Writes `,"key":` (or `"key":` when `first`).
    mutating func writeJSONKey(_ key: StaticString, first: Bool = false) {
        let count = key.utf8CodeUnitCount
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: count + 4) { out in
            var o = 0
            if !first {
                out[0] = UInt8(ascii: ",")
                o = 1
            }
            out[o] = UInt8(ascii: "\"")
            UnsafeMutableRawBufferPointer(rebasing: out[(o + 1)..<(o + 1 + count)]).copyMemory(
                from: UnsafeRawBufferPointer(start: key.utf8Start, count: count))
            o += 1 + count
            out[o] = UInt8(ascii: "\"")
            out[o + 1] = UInt8(ascii: ":")
            return o + 2
        }
    }

    /// Writes `,"key":` (or `"key":` when `first`) for a field of the format.
    @inline(__always)
    mutating func writeJSONKey(_ field: RecordLine.Field, first: Bool = false) {
        self.writeJSONKey(field.key, first: first)
    }

    /// Writes `,"key":value` with a constant value (a literal or a quoted constant), in one write.
    @inline(__always)
    mutating func writeJSONMember(_ field: RecordLine.Field, _ value: StaticString) {
        let key = field.key
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: key.utf8CodeUnitCount + value.utf8CodeUnitCount + 4) { out in
            var line = RawLineWriter(out)
            line.key(field)
            line.ascii(value)
            return line.count
        }
    }

    mutating func writeJSONBool(_ value: Bool) {
        self.writeStaticString(value ? "true" : "false")
    }
}
