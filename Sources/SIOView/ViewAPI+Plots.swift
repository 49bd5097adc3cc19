import NIOCore
import SIOInspect
import SIORecording
import SIOWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the page needs to know before asking for rows, and the plots.
package struct ViewMeta: Sendable {
    /// `view`, `live` or `report`.
    package var mode: String
    package var files: [String]
    /// Whether the recordings were redacted when written (`false` for `--keep-credentials`).
    package var redacted: Bool
    /// Live: records the proxy produced that the view could not keep up with.
    package var dropped: Int64 = 0

    package init(mode: String, files: [String], redacted: Bool) {
        self.mode = mode
        self.files = files
        self.redacted = redacted
    }
}

extension ViewAPI {
    /// `{"mode":..,"start_wall_us":..,"records":..,"sessions":..,"namespaces":[..],"events":[..],..}`.
    package func meta(_ meta: ViewMeta) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeStaticString("{\"mode\":")
        out.writeJSONString(meta.mode)
        out.writeStaticString(",\"files\":[")
        for (i, file) in meta.files.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            out.writeJSONString(file)
        }
        let store = self.store
        let last = store.entries.last.map { $0.wall - store.start } ?? 0
        out.writeString(
            "],\"redacted\":\(meta.redacted),\"dropped\":\(meta.dropped),\"start_wall_us\":\(store.start)"
                + ",\"end_us\":\(last),\"records\":\(store.nextSequence),\"forgotten\":\(store.forgotten)"
                + ",\"sessions\":\(store.sessions.rows.count),\"namespaces\":[")
        for id in 0..<store.indexer.namespaceCount {
            out.writeStaticString(id > 0 ? ",\"" : "\"")
            out.writeBytes(store.indexer.namespaceBytes(id))
            out.writeStaticString("\"")
        }
        out.writeStaticString("],\"events\":[")
        for id in 0..<store.indexer.eventCount {
            out.writeStaticString(id > 0 ? ",\"" : "\"")
            out.writeBytes(store.indexer.eventBytes(id))
            out.writeStaticString("\"")
        }
        out.writeStaticString("]}")
        return out
    }

    /// `inspect --stats --format jsonl` of everything held, byte for byte.
    package func stats() -> ByteBuffer {
        StatisticsReport.json(self.store.statistics.summary(self.store.indexer))
    }

    /// Event rate over time (EVENT and BINARY_EVENT per time bucket, the eight busiest events
    /// and the rest) and the ack latency distribution per event, of the lines matching `query`.
    ///
    /// `{"start_us":..,"bucket_us":..,"rate":[{"event":..,"counts":[..]}],
    ///   "latency":[{"event":..,"count":..,"p50_us":..,"p90_us":..,"p99_us":..,"max_us":..,"bins":[..]}]}`;
    /// latency bins are quarter decades from 1 µs (bin i holds 10^(i/4) ≤ µs < 10^((i+1)/4)).
    package func plots(_ query: ViewQuery, buckets: Int = 80) -> ByteBuffer {
        let matches = self.matches(query)
        let store = self.store
        var first = Int64.max
        var last = Int64.min
        // Per interned event id (arrays, not dictionaries: this runs over every matching line).
        let events = store.indexer.eventCount
        var perEvent = [Int](repeating: 0, count: events)
        var histograms = [LatencyHistogram?](repeating: nil, count: events)
        var bins = [[Int]](repeating: [], count: events)
        let event = SocketIOPacketType.event.rawValue
        let binaryEvent = SocketIOPacketType.binaryEvent.rawValue
        for sequence in matches {
            guard let entry = store.entry(sequence), entry.kind == .sio, entry.event >= 0 else { continue }
            if entry.socketType == event || entry.socketType == binaryEvent {
                first = min(first, entry.wall)
                last = max(last, entry.wall)
                perEvent[Int(entry.event)] += 1
            } else if entry.ackMicros >= 0 {
                let e = Int(entry.event)
                if histograms[e] == nil {
                    histograms[e] = LatencyHistogram()
                    bins[e] = [Int](repeating: 0, count: Self.latencyBins)
                }
                histograms[e]!.add(entry.ackMicros)
                bins[e][Self.latencyBin(entry.ackMicros)] += 1
            }
        }
        var latencies: [Int32: (histogram: LatencyHistogram, bins: [Int])] = [:]
        for (e, histogram) in histograms.enumerated() {
            if let histogram { latencies[Int32(e)] = (histogram, bins[e]) }
        }
        var out = ByteBuffer()
        guard first <= last else {
            out.writeStaticString("{\"start_us\":0,\"bucket_us\":1,\"rate\":[],\"latency\":[")
            self.writeLatencies(latencies, into: &out)
            out.writeStaticString("]}")
            return out
        }
        let bucket = max(1, (last - first) / Int64(buckets) + 1)
        let top = perEvent.indices.filter { perEvent[$0] > 0 }
            .sorted { perEvent[$0] != perEvent[$1] ? perEvent[$0] > perEvent[$1] : $0 < $1 }.prefix(8).map { Int32($0) }
        var counts = [[Int]?](repeating: nil, count: events)
        for id in top { counts[Int(id)] = [Int](repeating: 0, count: buckets) }
        var other = [Int](repeating: 0, count: buckets)
        for sequence in matches {
            guard let entry = store.entry(sequence), entry.kind == .sio, entry.event >= 0,
                entry.socketType == event || entry.socketType == binaryEvent
            else { continue }
            let b = min(buckets - 1, Int((entry.wall - first) / bucket))
            if counts[Int(entry.event)] != nil { counts[Int(entry.event)]![b] += 1 } else { other[b] += 1 }
        }
        out.writeString("{\"start_us\":\(first - store.start),\"bucket_us\":\(bucket),\"rate\":[")
        for (i, id) in top.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            out.writeStaticString("{\"event\":\"")
            out.writeBytes(store.indexer.eventBytes(Int(id)))
            out.writeString("\",\"counts\":[\(counts[Int(id)]!.map(String.init).joined(separator: ","))]}")
        }
        if other.contains(where: { $0 > 0 }) {
            out.writeString(",{\"event\":null,\"counts\":[\(other.map(String.init).joined(separator: ","))]}")
        }
        out.writeStaticString("],\"latency\":[")
        self.writeLatencies(latencies, into: &out)
        out.writeStaticString("]}")
        return out
    }

    static let latencyBins = 36

    /// Quarter decades from 1 µs: 0 for < 1.78 µs, 35 for ≥ 10^8.75 µs.
    static func latencyBin(_ micros: Int64) -> Int {
        guard micros > 1 else { return 0 }
        return min(Self.latencyBins - 1, Int(log10(Double(micros)) * 4))
    }

    private func writeLatencies(
        _ latencies: [Int32: (histogram: LatencyHistogram, bins: [Int])], into out: inout ByteBuffer
    ) {
        let ordered = latencies.sorted { $0.value.histogram.count > $1.value.histogram.count }
        for (i, (id, slot)) in ordered.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            let h = slot.histogram
            out.writeStaticString("{\"event\":\"")
            out.writeBytes(self.store.indexer.eventBytes(Int(id)))
            out.writeString(
                "\",\"count\":\(h.count),\"p50_us\":\(h.percentile(0.5)),\"p90_us\":\(h.percentile(0.9)),"
                    + "\"p99_us\":\(h.percentile(0.99)),\"max_us\":\(h.max),\"bins\":["
                    + slot.bins.map(String.init).joined(separator: ",") + "]}")
        }
    }
}
