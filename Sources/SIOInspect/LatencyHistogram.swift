/// Ack latencies in bounded memory: exact below 2,048 µs, then 256 buckets per power of two (a
/// percentile is within 0.4% of the exact value); the maximum is exact. Sparse, so an event
/// with few acks costs a few entries.
public struct LatencyHistogram: Hashable, Sendable {
    private var buckets: [Int: Int] = [:]
    public private(set) var count = 0
    public private(set) var max: Int64 = 0
    public private(set) var sum: Int64 = 0

    public init() {}

    public mutating func add(_ micros: Int64) {
        let v = Swift.max(micros, 0)
        self.buckets[Self.bucket(v), default: 0] += 1
        self.count += 1
        self.sum += v
        if v > self.max { self.max = v }
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for (bucket, n) in other.buckets { self.buckets[bucket, default: 0] += n }
        self.count += other.count
        self.sum += other.sum
        self.max = Swift.max(self.max, other.max)
    }

    /// The nearest-rank percentile (`p` in 0...1), in µs; 0 when empty.
    public func percentile(_ p: Double) -> Int64 {
        guard self.count > 0 else { return 0 }
        let rank = Swift.max(1, Int((p * Double(self.count)).rounded(.up)))
        var seen = 0
        for bucket in self.buckets.keys.sorted() {
            seen += self.buckets[bucket]!
            // The maximum's own bucket answers with the exact maximum.
            if seen >= rank { return bucket == Self.bucket(self.max) ? self.max : Self.value(bucket) }
        }
        return self.max
    }

    static func bucket(_ v: Int64) -> Int {
        if v < 2048 { return Int(v) }
        let e = 63 - v.leadingZeroBitCount
        let sub = Int(v >> (e - 8)) & 255
        return 2048 + (e - 11) * 256 + sub
    }

    static func value(_ bucket: Int) -> Int64 {
        if bucket < 2048 { return Int64(bucket) }
        let e = (bucket - 2048) / 256 + 11
        let sub = Int64((bucket - 2048) % 256)
        return (256 + sub) << (e - 8)
    }
}
