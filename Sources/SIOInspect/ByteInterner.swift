#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Gives each distinct byte string (a session id, a namespace, an event name, as written in the
/// line) a small integer, without building a `String` per lookup: an open-addressing table over
/// one byte arena. Only a string seen for the first time is copied.
struct ByteInterner {
    private var arena: [UInt8] = []
    private var offsets: [Int] = [0]
    private var hashes: [UInt32] = []
    /// Slot → id + 1 (0 is empty).
    private var slots: [Int32] = Array(repeating: 0, count: 64)

    var count: Int { self.hashes.count }

    /// The id of `bytes`, adding it when new.
    mutating func intern(_ bytes: UnsafeRawBufferPointer) -> Int {
        let hash = Self.hash(bytes)
        let mask = self.slots.count - 1
        var slot = Int(hash) & mask
        while true {
            let entry = Int(self.slots[slot])
            if entry == 0 { break }
            let id = entry - 1
            if self.hashes[id] == hash && self.equals(id, bytes) { return id }
            slot = (slot + 1) & mask
        }
        let id = self.hashes.count
        self.hashes.append(hash)
        self.arena.append(contentsOf: bytes)
        self.offsets.append(self.arena.count)
        self.slots[slot] = Int32(id + 1)
        if self.hashes.count * 2 > self.slots.count { self.grow() }
        return id
    }

    /// The id of `bytes` if it was interned, without adding it.
    func find(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let hash = Self.hash(bytes)
        let mask = self.slots.count - 1
        var slot = Int(hash) & mask
        while true {
            let entry = Int(self.slots[slot])
            if entry == 0 { return nil }
            if self.hashes[entry - 1] == hash && self.equals(entry - 1, bytes) { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    /// The bytes of `id` as a `String` (JSON escapes as written).
    func string(_ id: Int) -> String {
        String(decoding: self.arena[self.offsets[id]..<self.offsets[id + 1]], as: UTF8.self)
    }

    func bytes(_ id: Int) -> ArraySlice<UInt8> { self.arena[self.offsets[id]..<self.offsets[id + 1]] }

    private func equals(_ id: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = self.offsets[id]
        let length = self.offsets[id + 1] - start
        guard length == bytes.count else { return false }
        if length == 0 { return true }
        return self.arena.withUnsafeBytes { memcmp($0.baseAddress! + start, bytes.baseAddress!, length) == 0 }
    }

    private mutating func grow() {
        var slots = [Int32](repeating: 0, count: self.slots.count * 2)
        let mask = slots.count - 1
        for id in 0..<self.hashes.count {
            var slot = Int(self.hashes[id]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(id + 1)
        }
        self.slots = slots
    }

    /// FNV-1a over 8-byte words (then the tail bytes), folded to 32 bits: a few multiplications
    /// for a 20-character session id.
    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var i = 0
        let n = bytes.count
        if let base = bytes.baseAddress {
            while i + 8 <= n {
                h = (h ^ base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
                h ^= h >> 29
                i += 8
            }
            while i < n {
                h = (h ^ UInt64(base.load(fromByteOffset: i, as: UInt8.self))) &* 0x0000_0100_0000_01B3
                i += 1
            }
        }
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }
}
