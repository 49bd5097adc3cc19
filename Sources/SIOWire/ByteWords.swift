/// Eight bytes at a time: bit tricks for the scanners that look for a few byte values in long runs
/// of bytes that are none of them (JSON strings, recording lines).
///
/// A mask has the high bit of each byte that matched. Only the lowest set bit is exact (a borrow
/// can flag bytes above the first match), which is all `firstIndex` uses, so a caller handles the
/// first match and scans on from the byte after it.
public enum ByteWords {
    /// `byte` in each of the eight bytes.
    @inlinable @inline(__always)
    public static func repeating(_ byte: UInt8) -> UInt64 { 0x0101_0101_0101_0101 &* UInt64(byte) }

    /// The eight bytes at `offset`, the first in the low bits on every platform.
    @inlinable @inline(__always)
    public static func load(_ base: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The bytes of `word` equal to `byte`.
    @inlinable @inline(__always)
    public static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ Self.repeating(byte)
        return (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    }

    /// The index (0-7) of the first byte flagged in a non-zero `mask`.
    @inlinable @inline(__always)
    public static func firstIndex(_ mask: UInt64) -> Int { mask.trailingZeroBitCount &>> 3 }
}
