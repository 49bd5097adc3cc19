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
    /// Time 0 of the merged recordings, µs since the epoch.
    private let start: Int64
    /// What changes with every line. `run` works on a local copy (so the per-line accesses are
    /// checked for exclusivity when compiling, not at run time) and stores it back at the end.
    private struct LineState {
        var lines: MergedLines
        var index = LineIndex()
        var matcher: PacketMatcher
        var statistics = RecordingStatistics()
        var decoder = RecordDecoder()
        var har: HARWriter?
        var text: RecordLineFormatter
        var out = ByteBuffer()
    }

    private var state: LineState
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
        var lines = MergedLines(readers: readers)
        self.start = lines.start
        self.multiple = paths.count > 1
        var filter = options.filter
        filter.since = options.since?.resolve(start: lines.start)
        filter.until = options.until?.resolve(start: lines.start)
        self.everything = filter.isEmpty
        // Text and HAR decode or format each line they show: without a filter, nearly every line,
        // so one parse, the decoder's, serves the index too. A filter may drop most lines, which the
        // index's unchecked scan reads for less than half the cost; so do statistics and JSON lines,
        // which read the index's ranges only.
        lines.validating = self.everything && !options.stats && options.format != .jsonl
        var text = LiveFormatter(colors: options.colors, argumentWidth: options.argumentWidth)
        if options.wallClock { text.wallClockAnchor = lines.start }
        self.state = LineState(lines: lines, matcher: PacketMatcher(filter), text: RecordLineFormatter(text))
        if options.format == .har && !options.stats {
            let header = readers[0].1.header
            self.state.har = HARWriter(host: HARWriter.host(ofURL: header.upstream ?? header.listen ?? "localhost"))
        }
    }

    private static let flushSize = 256 * 1024

    /// Reads everything, calling `write` with chunks of output and `progress` (bytes read, total
    /// bytes, records read) now and then.
    public func run(
        write: (ByteBuffer) throws -> Void,
        progress: ((Int, Int, Int) -> Void)? = nil
    ) throws -> Outcome {
        var state = self.state
        defer { self.state = state }
        state.out.reserveCapacity(Self.flushSize + 4096)
        var outcome = Outcome()
        if state.har != nil { state.har!.start(into: &state.out, version: self.options.toolVersion) }
        var sinceProgress = 0
        while true {
            guard let source = try state.lines.next() else {
                guard state.lines.isWaiting else { break }
                if state.out.readableBytes > 0 {
                    try write(state.out)
                    state.out.clear()
                }
                usleep(100_000)
                continue
            }
            let (line, fields, wall, validated) = state.lines.take(source)
            if self.handle(line, fields, validated: validated, wall: wall, source: source, &state) {
                outcome.shown += 1
            }
            if state.out.readableBytes >= Self.flushSize {
                try write(state.out)
                state.out.clear()
            }
            sinceProgress += 1
            if sinceProgress >= 65_536, let progress {
                sinceProgress = 0
                progress(state.lines.bytesRead, state.lines.totalBytes, state.lines.recordsRead)
            }
        }
        if self.options.stats {
            let summary = state.statistics.summary(state.index)
            if self.options.format == .text {
                state.out.writeString(StatisticsReport.text(summary))
            } else {
                var json = StatisticsReport.json(summary)
                state.out.writeBuffer(&json)
            }
            outcome.shown = 1
        } else if state.har != nil {
            state.har!.finish(into: &state.out)
        }
        if state.out.readableBytes > 0 { try write(state.out) }
        state.out.clear()
        outcome.records = state.lines.recordsRead
        for source in state.lines.sources {
            for damage in source.reader.damages { outcome.damages.append((source.path, damage)) }
        }
        return outcome
    }

    /// The statistics of what was read so far (for tests and library users; `run` prints them).
    public func summary() -> StatisticsSummary { self.state.statistics.summary(self.state.index) }

    /// `validated`: `fields` were found by the decoder's scan (`MergedLines`), so the text and
    /// the record are made from them instead of parsing the line again.
    private func handle(
        _ line: ByteBuffer, _ fields: RecordLine, validated: Bool, wall: Int64, source: Int, _ state: inout LineState
    ) -> Bool {
        line.withUnsafeReadableBytes { bytes -> Bool in
            let info = state.index.index(fields, bytes, wall: wall)
            let hideEngine = !self.options.stats && self.options.format != .har
            if self.everything {
                if hideEngine && !self.options.filter.engine && info.kind.isEngineLevel { return false }
            } else {
                guard state.matcher.matches(info, fields, bytes, index: state.index, hideEngine: hideEngine) else {
                    return false
                }
            }
            if self.options.stats {
                state.statistics.add(info, fields, bytes)
                return true
            }
            switch self.options.format {
            case .jsonl:
                self.jsonl(bytes, info, source: source, index: state.index, into: &state.out)
            case .text:
                let time = info.wall - self.start
                let outcome =
                    validated
                    ? state.text.format(line, fields: fields, time: time, into: &state.out)
                    : state.text.format(line, time: time, into: &state.out)
                guard outcome == .shown else { return false }
            case .har:
                let decoded =
                    validated ? try? state.decoder.decode(line, fields: fields) : try? state.decoder.decode(line)
                guard case .record(let record) = decoded else { return false }
                state.har!.add(record, wall: info.wall, into: &state.out)
            }
            return true
        }
    }

    /// `{"wall_us":W,"rel_us":R,["file":N,]["ack_event":"name",]` + the recording's line after its `{`.
    private func jsonl(
        _ bytes: UnsafeRawBufferPointer, _ info: LineInfo, source: Int, index: LineIndex, into out: inout ByteBuffer
    ) {
        out.writeStaticString("{\"wall_us\":")
        out.writeDecimal(info.wall)
        out.writeStaticString(",\"rel_us\":")
        out.writeDecimal(info.wall - self.start)
        if self.multiple {
            out.writeStaticString(",\"file\":")
            out.writeDecimal(source)
        }
        if info.event >= 0, info.socketType == .ack || info.socketType == .binaryAck {
            out.writeStaticString(",\"ack_event\":\"")
            out.writeBytes(index.eventBytes(info.event))
            out.writeStaticString("\"")
        }
        // The line is an object (checked by the parse); an empty object adds nothing more.
        let rest = UnsafeRawBufferPointer(rebasing: bytes[1...])
        if rest.first != UInt8(ascii: "}") { out.writeStaticString(",") }
        out.writeBytes(rest)
        out.writeStaticString("\n")
    }
}
