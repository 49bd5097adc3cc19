import NIOCore

/// Writes MessagePack in its canonical form: every header the shortest the value allows, integers
/// from the unsigned family when non-negative, non-integral numbers as float64. That is what
/// python-socketio's `msgpack` and socket.io-msgpack-parser's `notepack.io` write, so a recording
/// reproduces their bytes from its fields alone; `MsgPackCursor` flags any header written otherwise.
public enum MsgPackWriter {
    public static func writeNil(into out: inout ByteBuffer) { out.writeInteger(UInt8(0xC0)) }

    public static func writeBool(_ value: Bool, into out: inout ByteBuffer) {
        out.writeInteger(UInt8(value ? 0xC3 : 0xC2))
    }

    public static func writeUnsigned(_ value: UInt64, into out: inout ByteBuffer) {
        switch self.marker(unsigned: value) {
        case 0x00: out.writeInteger(UInt8(value))
        case 0xCC: out.writeMultipleIntegers(UInt8(0xCC), UInt8(value))
        case 0xCD: out.writeMultipleIntegers(UInt8(0xCD), UInt16(value))
        case 0xCE: out.writeMultipleIntegers(UInt8(0xCE), UInt32(value))
        default: out.writeMultipleIntegers(UInt8(0xCF), value)
        }
    }

    /// Any integer: non-negative ones go to `writeUnsigned`.
    public static func writeSigned(_ value: Int64, into out: inout ByteBuffer) {
        guard value < 0 else { return self.writeUnsigned(UInt64(value), into: &out) }
        switch self.marker(negative: value) {
        case 0xE0: out.writeInteger(Int8(value))
        case 0xD0: out.writeMultipleIntegers(UInt8(0xD0), Int8(value))
        case 0xD1: out.writeMultipleIntegers(UInt8(0xD1), Int16(value))
        case 0xD2: out.writeMultipleIntegers(UInt8(0xD2), Int32(value))
        default: out.writeMultipleIntegers(UInt8(0xD3), value)
        }
    }

    public static func writeDouble(_ value: Double, into out: inout ByteBuffer) {
        out.writeMultipleIntegers(UInt8(0xCB), value.bitPattern)
    }

    public static func writeString(utf8 bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        let count = bytes.count
        switch self.stringMarker(length: count) {
        case 0xA0: out.writeInteger(UInt8(0xA0 | count))
        case 0xD9: out.writeMultipleIntegers(UInt8(0xD9), UInt8(count))
        case 0xDA: out.writeMultipleIntegers(UInt8(0xDA), UInt16(count))
        default: out.writeMultipleIntegers(UInt8(0xDB), UInt32(count))
        }
        out.writeBytes(bytes)
    }

    public static func writeString(_ string: String, into out: inout ByteBuffer) {
        var string = string
        string.withUTF8 { self.writeString(utf8: UnsafeRawBufferPointer($0), into: &out) }
    }

    public static func writeBinary(_ bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        let count = bytes.count
        switch self.lengthWidth(binary: count) {
        case 1: out.writeMultipleIntegers(UInt8(0xC4), UInt8(count))
        case 2: out.writeMultipleIntegers(UInt8(0xC5), UInt16(count))
        default: out.writeMultipleIntegers(UInt8(0xC6), UInt32(count))
        }
        out.writeBytes(bytes)
    }

    public static func writeExt(type: Int8, _ bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        let count = bytes.count
        let marker = self.extMarker(length: count)
        out.writeInteger(marker)
        switch marker {
        case 0xC7: out.writeInteger(UInt8(count))
        case 0xC8: out.writeInteger(UInt16(count))
        case 0xC9: out.writeInteger(UInt32(count))
        default: break
        }
        out.writeInteger(type)
        out.writeBytes(bytes)
    }

    public static func writeArrayHeader(count: Int, into out: inout ByteBuffer) {
        self.writeContainerHeader(map: false, count: count, into: &out)
    }

    public static func writeMapHeader(count: Int, into out: inout ByteBuffer) {
        self.writeContainerHeader(map: true, count: count, into: &out)
    }

    private static func writeContainerHeader(map: Bool, count: Int, into out: inout ByteBuffer) {
        let marker = self.containerMarker(map: map, count: count)
        switch marker {
        case 0x80, 0x90: out.writeInteger(marker | UInt8(count))
        case 0xDC, 0xDE: out.writeMultipleIntegers(marker, UInt16(count))
        default: out.writeMultipleIntegers(marker, UInt32(count))
        }
    }

    // MARK: The canonical header of each value (0x00, 0xE0, 0xA0, 0x80, 0x90: the fixed forms)

    static func marker(unsigned value: UInt64) -> UInt8 {
        switch value {
        case 0..<0x80: return 0x00
        case 0..<0x100: return 0xCC
        case 0..<0x1_0000: return 0xCD
        case 0..<0x1_0000_0000: return 0xCE
        default: return 0xCF
        }
    }

    static func marker(negative value: Int64) -> UInt8 {
        switch value {
        case -32..<0: return 0xE0
        case Int64(Int8.min)..<0: return 0xD0
        case Int64(Int16.min)..<0: return 0xD1
        case Int64(Int32.min)..<0: return 0xD2
        default: return 0xD3
        }
    }

    static func stringMarker(length: Int) -> UInt8 {
        switch length {
        case 0..<32: return 0xA0
        case 0..<0x100: return 0xD9
        case 0..<0x1_0000: return 0xDA
        default: return 0xDB
        }
    }

    /// Bytes of a bin length field: 1 (bin8), 2 (bin16) or 4 (bin32).
    static func lengthWidth(binary length: Int) -> Int {
        switch length {
        case 0..<0x100: return 1
        case 0..<0x1_0000: return 2
        default: return 4
        }
    }

    static func extMarker(length: Int) -> UInt8 {
        switch length {
        case 1: return 0xD4
        case 2: return 0xD5
        case 4: return 0xD6
        case 8: return 0xD7
        case 16: return 0xD8
        case 0..<0x100: return 0xC7
        case 0..<0x1_0000: return 0xC8
        default: return 0xC9
        }
    }

    static func containerMarker(map: Bool, count: Int) -> UInt8 {
        switch count {
        case 0..<16: return map ? 0x80 : 0x90
        case 0..<0x1_0000: return map ? 0xDE : 0xDC
        default: return map ? 0xDF : 0xDD
        }
    }
}
