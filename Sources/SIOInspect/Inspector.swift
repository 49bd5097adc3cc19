import NIOCore
import SIORecording

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What `siotape inspect` does, without the command line: reads recordings (merged by time),
/// filters, and writes text, JSON lines, HAR or statistics.
///
/// ```swift
/// let inspector = try Inspector(paths: ["rec.siotape.gz"], options: options)
/// let outcome = try inspector.run { chunk in write(1, chunk) }
/// ```
public final class Inspector {
    public enum Format: String, Hashable, Sendable, CaseIterable {
        case text, jsonl, har
    }

    public struct Options: Sendable {
        public var format: Format = .text
        /// Statistics instead of packets (`format` then chooses text or one JSON object).
        public var stats = false
        public var filter = PacketFilter()
        public var since: TimeBound?
        public var until: TimeBound?
        /// Wait for more data at the end of the (single) recording until its `end` trailer.
        public var follow = false
        /// Text view: wall-clock UTC times instead of seconds since the start.
        public var wallClock = false
        public var colors = false
        /// Text view: the widest rendering of arguments (`Int.max`: everything).
        public var argumentWidth = Int.max
        /// The tool's version, for HAR's `creator`.
        public var toolVersion = "0.1.0"

        public init() {}
    }

    public struct Outcome: Sendable {
        /// Records read, over all recordings.
        public var records = 0
        /// Lines written (packets shown; 1 for stats or HAR).
        public var shown = 0
        /// Damage found, by recording path.
        public var damages: [(path: String, damage: RecordingDamage)] = []
        /// Whether any damage is more than a missing end trailer (records were lost).
        public var lostRecords: Bool {
            self.damages.contains { !$0.damage.reason.hasPrefix("no end trailer") }
        }
    }

    private let options: Options
    private let merger: RecordingMerger
    private var matcher: PacketMatcher
    private let indexer = LineIndexer()
    private var statistics = RecordingStatistics()
    private var decoder = RecordDecoder()
    private var har: HARWriter?
    private var text: LiveFormatter
    private var out = ByteBuffer()
    private let multiple: Bool
    /// No filter: the matcher is skipped.
    private let everything: Bool

    /// Opens every recording (and reads its header).
    ///
    /// - Throws: `RecordingReadError` for a file that cannot be read as a recording.
    public init(paths: [String], options: Options) throws {
        precondition(!paths.isEmpty)
        self.options = options
        let readers = try paths.map { path in
            (path, try RecordingReader(path: path, options: .init(resynchronize: true, follow: options.follow)))
        }
        self.merger = RecordingMerger(readers: readers)
        self.multiple = paths.count > 1
        var filter = options.filter
        filter.since = options.since?.resolve(start: self.merger.start)
        filter.until = options.until?.resolve(start: self.merger.start)
        self.matcher = PacketMatcher(filter)
        self.everything = filter.isEmpty
        self.text = LiveFormatter(mode: .text, colors: options.colors, argumentWidth: options.argumentWidth)
        if options.wallClock { self.text.wallClockAnchor = self.merger.start }
        if options.format == .har && !options.stats {
            let header = readers[0].1.header
            self.har = HARWriter(host: HARWriter.host(ofURL: header.upstream ?? header.listen ?? "localhost"))
        }
        self.out.reserveCapacity(Self.flushSize + 4096)
    }

    private static let flushSize = 256 * 1024

    /// Reads everything, calling `write` with chunks of output and `progress` (bytes read, total
    /// bytes, records read) now and then.
    public func run(
        write: (ByteBuffer) throws -> Void,
        progress: ((Int, Int, Int) -> Void)? = nil
    ) throws -> Outcome {
        var outcome = Outcome()
        if let har = self.har { har.start(into: &self.out, version: self.options.toolVersion) }
        var sinceProgress = 0
        while true {
            guard let source = try self.merger.next() else {
                guard self.merger.isWaiting else { break }
                if self.out.readableBytes > 0 {
                    try write(self.out)
                    self.out.clear()
                }
                usleep(100_000)
                continue
            }
            let shown = self.merger.consume(source) { line, fields, wall in
                self.handle(line, fields, wall: wall, source: source)
            }
            if shown { outcome.shown += 1 }
            if self.out.readableBytes >= Self.flushSize {
                try write(self.out)
                self.out.clear()
            }
            sinceProgress += 1
            if sinceProgress >= 65_536, let progress {
                sinceProgress = 0
                progress(self.merger.bytesRead, self.merger.totalBytes, self.merger.recordsRead)
            }
        }
        if self.options.stats {
            let summary = self.statistics.summary(self.indexer)
            if self.options.format == .text {
                self.out.writeString(StatisticsReport.text(summary))
            } else {
                var json = StatisticsReport.json(summary)
                self.out.writeBuffer(&json)
            }
            outcome.shown = 1
        } else if self.har != nil {
            self.har!.finish(into: &self.out)
        }
        if self.out.readableBytes > 0 { try write(self.out) }
        self.out.clear()
        outcome.records = self.merger.recordsRead
        for source in self.merger.sources {
            for damage in source.reader.damages { outcome.damages.append((source.path, damage)) }
        }
        return outcome
    }

    /// The statistics of what was read so far (for tests and library users; `run` prints them).
    public func summary() -> StatisticsSummary { self.statistics.summary(self.indexer) }

    private func handle(_ line: ByteBuffer, _ fields: RecordLine, wall: Int64, source: Int) -> Bool {
        line.withUnsafeReadableBytes { bytes -> Bool in
            let info = self.indexer.index(fields, bytes, wall: wall)
            let hideEngine = !self.options.stats && self.options.format != .har
            if self.everything {
                if hideEngine && !self.options.filter.engine && info.kind.isEngineLevel { return false }
            } else {
                guard self.matcher.matches(info, fields, bytes, indexer: self.indexer, hideEngine: hideEngine) else {
                    return false
                }
            }
            if self.options.stats {
                self.statistics.add(info, fields, bytes)
                return true
            }
            switch self.options.format {
            case .jsonl:
                self.jsonl(bytes, info, source: source)
            case .text:
                guard case .record(var record) = try? self.decoder.decode(line) else { return false }
                record.time = info.wall - self.merger.start
                self.text.format(record, into: &self.out)
            case .har:
                guard case .record(let record) = try? self.decoder.decode(line) else { return false }
                self.har!.add(record, wall: info.wall, into: &self.out)
            }
            return true
        }
    }

    /// `{"wall_us":W,"rel_us":R,["file":N,]["ack_event":"name",]` + the recording's line after its `{`.
    private func jsonl(_ bytes: UnsafeRawBufferPointer, _ info: LineInfo, source: Int) {
        self.out.writeStaticString("{\"wall_us\":")
        self.writeInt(info.wall)
        self.out.writeStaticString(",\"rel_us\":")
        self.writeInt(info.wall - self.merger.start)
        if self.multiple {
            self.out.writeStaticString(",\"file\":")
            self.writeInt(Int64(source))
        }
        if info.event >= 0, info.socketType == .ack || info.socketType == .binaryAck {
            self.out.writeStaticString(",\"ack_event\":\"")
            self.out.writeBytes(self.indexer.eventBytes(info.event))
            self.out.writeStaticString("\"")
        }
        // The line is an object (checked by the parse); an empty object adds nothing more.
        let rest = UnsafeRawBufferPointer(rebasing: bytes[1...])
        if rest.first != UInt8(ascii: "}") { self.out.writeStaticString(",") }
        self.out.writeBytes(rest)
        self.out.writeStaticString("\n")
    }

    /// Decimal digits without a `String`.
    @inline(__always)
    private func writeInt(_ value: Int64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var v = value.magnitude
        if value < 0 { self.out.writeStaticString("-") }
        withUnsafeMutableBytes(of: &digits) { buffer in
            var i = buffer.count
            repeat {
                i -= 1
                buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v > 0
            self.out.writeBytes(UnsafeRawBufferPointer(rebasing: buffer[i...]))
        }
    }
}
