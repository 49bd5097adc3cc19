import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a recording sequentially with bounded memory.
///
/// ```swift
/// let reader = try RecordingReader(path: "rec.jsonl.gz")
/// print(reader.header.startedAtMicros)
/// while let record = try reader.next() { ... }
/// if let damage = reader.damage { print(damage) }
/// ```
///
/// The file is a sequence of gzip members (one per flush of the writer); records of a member are
/// returned once the whole member has been read and its CRC checked, so a damaged member never
/// yields garbage. Reading stops at the first damage, which is reported with its byte offset in
/// the file. Plain (uncompressed) JSON lines are read as well, for hand-written fixtures.
/// Unknown kinds are skipped.
public final class RecordingReader {
    /// How to read past the end of the data and past damage.
    public struct Options: Hashable, Sendable {
        /// After damage, continue at the next gzip member header (`1f 8b 08`) or the next line
        /// instead of stopping, so that every damaged place is reported (`damages`) and every
        /// readable record is returned. A random `1f 8b 08` inside deflate data can cause a false
        /// start, which is then reported as one more damage.
        public var resynchronize: Bool
        /// At the end of the file, wait for more (`next()` returns `nil` with `isWaiting` set; call
        /// it again later) until the `end` trailer has been read: for a recording still being written.
        public var follow: Bool
        /// Without `follow`, inflate gzip members on a background thread while the caller scans the
        /// lines of earlier ones (a small bounded queue between the two). The records and damages
        /// returned are the same either way.
        public var inflateInBackground: Bool

        public init(resynchronize: Bool = false, follow: Bool = false, inflateInBackground: Bool = true) {
            self.resynchronize = resynchronize
            self.follow = follow
            self.inflateInBackground = inflateInBackground
        }
    }

    /// The first line of the recording.
    public private(set) var header: RecordingHeader
    /// Set once reading stopped early, or ended without the `end` trailer: the first damage.
    public var damage: RecordingDamage? { self.damages.first }
    /// Every damage found, in file order (more than one only with `Options.resynchronize`; at
    /// most `maxDamages`).
    public private(set) var damages: [RecordingDamage] = []
    /// The most damages `damages` keeps; later ones are counted in `moreDamages`.
    public static let maxDamages = 100
    /// Damages found beyond `maxDamages`.
    public private(set) var moreDamages = 0
    /// With `Options.follow`: the last `next()` returned `nil` because the file has no more data yet.
    public var isWaiting: Bool { self.state.isWaiting }
    /// Bytes of the file consumed so far (for progress).
    public var bytesRead: Int { self.inputOffset }
    /// The size of the file when it was opened.
    public let fileSize: Int
    public let options: Options
    /// Records read so far (unknown kinds included; header and trailer not).
    public var recordsRead: Int { self.state.recordsRead }
    /// The record count of the `end` trailer, once it has been read: the recording was closed cleanly.
    public private(set) var endRecordCount: Int?
    /// Whether the last `next()` reached the end of the data (with or without damage).
    public private(set) var isFinished = false

    private let inflater: MemberInflater
    /// Set once the inflater runs on a thread of its own (batch reads, after the header).
    private var pipeline: InflatingPipeline?
    /// The I/O error the pipeline ended with: thrown again by every later read.
    private var pipelineFailure: (any Error)?
    private var decoder = RecordDecoder()
    /// File offset up to which the file has been consumed (for progress and messages).
    private var inputOffset = 0
    /// What changes with every line, in one stored property: taking a line is one access to it
    /// (one exclusivity check), not one per counter.
    private struct LineState {
        /// Checked text waiting to be split into lines.
        var lines = ByteBuffer()
        var lineNumber = 0
        var recordsRead = 0
        var isWaiting = false
    }

    private var state = LineState()
    /// File offset of the member the text in `state.lines` came from, for error messages.
    private var linesOffset = 0
    /// The options take effect after the header: a damaged header is never skipped.
    private var resynchronizing = false

    /// Opens `path` and reads the header.
    ///
    /// - Throws: `RecordingReadError`: the file cannot be opened, is empty, is not a recording, is
    ///   of a newer format version, or is damaged before the end of its header.
    public init(path: String, options: Options = Options()) throws {
        self.options = options
        let inflater = try MemberInflater(path: path)
        self.inflater = inflater
        self.fileSize = inflater.fileSize
        self.header = RecordingHeader(startedAtMicros: 0, tool: "")
        guard let first = inflater.firstByte else { throw RecordingReadError.empty(path) }
        if first != 0x1F {
            guard first == UInt8(ascii: "{") else {
                throw RecordingReadError.notARecording("\(path) is neither gzip data nor JSON lines")
            }
            inflater.compressed = false
        }
        guard let line = try self.nextLine() else {
            throw RecordingReadError.damagedHeader(
                self.damage
                    ?? RecordingDamage(kind: .truncated, offset: 0, recordsRead: 0, reason: "no complete first line")
            )
        }
        self.header = try self.decoder.decodeHeader(line)
        self.resynchronizing = options.resynchronize
        inflater.resynchronizing = options.resynchronize
        inflater.following = options.follow
        if options.inflateInBackground && !options.follow && inflater.compressed && !self.isFinished {
            self.pipeline = InflatingPipeline(inflater)
        }
    }

    deinit {
        self.pipeline?.cancel()
    }

    /// The next record, or `nil` at the end of the data, at the first damage (see `damage`) or,
    /// when following, when there is no more data yet (`isWaiting`).
    ///
    /// - Throws: `RecordingReadError` only when reading the file itself fails (an I/O error);
    ///   damaged data is not an error but `damage`.
    public func next() throws -> Record? {
        while let line = try self.nextLine() {
            let decoded: DecodedLine
            do {
                decoded = try self.decoder.decode(line)
            } catch {
                self.invalidLine("\(error)")
                continue
            }
            switch decoded {
            case .record(let record):
                self.state.recordsRead += 1
                return record
            case .unknown:
                self.state.recordsRead += 1
            case .end(_, let records):
                self.endRecordCount = records
            }
        }
        return nil
    }

    /// The next record line as it is in the file (without its `\n`), not decoded: for scanners
    /// that pick fields from the bytes themselves. The `end` trailer is consumed here (see
    /// `endRecordCount`); every line returned counts in `recordsRead` until the caller reports it
    /// invalid with `reportInvalidLine(_:)`. `nil` as for `next()`.
    public func nextRecordLine() throws -> ByteBuffer? {
        while true {
            let line: ByteBuffer
            if let (split, counted) = Self.splitRecordLine(&self.state) {
                if counted { return split }
                line = split
            } else {
                guard let next = try self.nextLine() else { return nil }
                line = next
            }
            if Self.mayBeEndTrailer(line) {
                do {
                    if case .end(_, let records) = try self.decoder.decode(line) {
                        self.endRecordCount = records
                        continue
                    }
                } catch {
                    self.invalidLine("\(error)")
                    continue
                }
            }
            self.state.recordsRead += 1
            return line
        }
    }

    /// The next line of the text already inflated, in one access to `state`: counted as a record
    /// (`counted`) unless it may be the trailer; `nil` when the text holds no complete line.
    @inline(__always)
    private static func splitRecordLine(_ state: inout LineState) -> (ByteBuffer, counted: Bool)? {
        while var line = Self.splitLine(&state.lines) {
            state.isWaiting = false
            state.lineNumber += 1
            if line.readableBytesView.last == 0x0D { line.moveWriterIndex(to: line.writerIndex - 1) }
            if line.readableBytes == 0 { continue }
            if Self.mayBeEndTrailer(line) { return (line, false) }
            state.recordsRead += 1
            return (line, true)
        }
        return nil
    }

    /// Reports the line last returned by `nextRecordLine()` as not a valid record: damage at the
    /// start of its gzip member. Reading stops there unless resynchronising.
    public func reportInvalidLine(_ message: String) {
        self.state.recordsRead -= 1
        self.invalidLine(message)
    }

    private func invalidLine(_ message: String) {
        self.stop(
            .corrupt,
            offset: self.linesOffset,
            reason: "line \(self.state.lineNumber) of the text is not a valid record: \(message)"
        )
    }

    /// Whether `line` can be the `end` trailer: `{"t":N,"k":"end"...` as siotape writes it, or any
    /// other line mentioning `"end"` (decoded to be sure).
    private static func mayBeEndTrailer(_ line: ByteBuffer) -> Bool {
        line.withUnsafeReadableBytes { bytes in
            let prefix: StaticString = "{\"t\":"
            let n = prefix.utf8CodeUnitCount
            var canonical = bytes.count > n
            if canonical {
                for i in 0..<n where bytes[i] != prefix.utf8Start[i] { canonical = false }
            }
            if canonical {
                var i = n
                while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
                let kind: StaticString = ",\"k\":\""
                if i + kind.utf8CodeUnitCount + 4 <= bytes.count {
                    var matches = true
                    for j in 0..<kind.utf8CodeUnitCount where bytes[i + j] != kind.utf8Start[j] { matches = false }
                    if matches {
                        let v = i + kind.utf8CodeUnitCount
                        return bytes[v] == UInt8(ascii: "e") && bytes[v + 1] == UInt8(ascii: "n")
                            && bytes[v + 2] == UInt8(ascii: "d") && bytes[v + 3] == UInt8(ascii: "\"")
                    }
                }
            }
            // Another writer's key order: look for the word.
            guard bytes.count >= 5 else { return false }
            for i in 0...(bytes.count - 5)
            where bytes[i] == UInt8(ascii: "\"") && bytes[i + 1] == UInt8(ascii: "e")
                && bytes[i + 2] == UInt8(ascii: "n") && bytes[i + 3] == UInt8(ascii: "d")
                && bytes[i + 4] == UInt8(ascii: "\"")
            {
                return true
            }
            return false
        }
    }

    // MARK: - Lines

    private func nextLine() throws -> ByteBuffer? {
        self.state.isWaiting = false
        while true {
            if var line = Self.splitLine(&self.state.lines) {
                self.state.lineNumber += 1
                if line.readableBytesView.last == 0x0D { line.moveWriterIndex(to: line.writerIndex - 1) }
                if line.readableBytes == 0 { continue }
                return line
            }
            if self.isFinished { return nil }
            switch try self.pump() {
            case .more:
                continue
            case .wait:
                self.state.isWaiting = true
                return nil
            case .end:
                self.isFinished = true
                if self.state.lines.readableBytes > 0 {
                    // A last line without its newline: only foreign files end that way.
                    self.state.lineNumber += 1
                    let line = self.state.lines
                    self.state.lines.clear()
                    return line
                }
                if self.endRecordCount == nil && self.state.lineNumber > 0
                    && (self.damages.isEmpty || (self.resynchronizing && self.damages.last?.kind != .truncated))
                {
                    self.addDamage(
                        .truncated,
                        offset: self.inputOffset,
                        reason:
                            "no end trailer: the recorder did not close the file (killed, crashed, or still recording)"
                    )
                }
                return nil
            }
        }
    }

    /// The next line of `text` (without its `\n`), consumed; `nil` when it holds no complete line.
    /// One access to `text` per line: this runs for every record.
    @inline(__always)
    private static func splitLine(_ text: inout ByteBuffer) -> ByteBuffer? {
        let newline: Int? = text.withUnsafeReadableBytes { bytes in
            guard bytes.count > 0, let found = memchr(bytes.baseAddress!, 0x0A, bytes.count) else { return nil }
            return bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
        }
        guard let newline else { return nil }
        let line = text.readSlice(length: newline)!
        text.moveReaderIndex(forwardBy: 1)
        return line
    }

    private func addDamage(_ kind: RecordingDamage.Kind, offset: Int, reason: String) {
        guard self.damages.count < Self.maxDamages else {
            self.moreDamages += 1
            return
        }
        self.damages.append(
            RecordingDamage(kind: kind, offset: offset, recordsRead: self.state.recordsRead, reason: reason)
        )
    }

    /// Damage: reading stops there, unless resynchronising (then only the damaged part is skipped).
    private func stop(_ kind: RecordingDamage.Kind, offset: Int, reason: String) {
        self.addDamage(kind, offset: offset, reason: reason)
        guard !self.resynchronizing else { return }
        self.isFinished = true
        self.state.lines.clear()
        self.pipeline?.cancel()
    }

    private enum Pump {
        /// More text is in `lines`.
        case more
        /// Following: no more data for now.
        case wait
        /// The end of the data, or damage that stops reading.
        case end
    }

    // MARK: - Text

    /// Moves more checked text into `lines` (or applies damage) from the inflater or the pipeline.
    private func pump() throws -> Pump {
        if self.state.lines.readerIndex > 0 { self.state.lines.discardReadBytes() }
        guard let pipeline = self.pipeline else {
            let outcome = try self.inflater.pump(trailerRead: self.endRecordCount != nil) { event in
                switch event {
                case .text(var text, let offset):
                    self.linesOffset = offset
                    self.state.lines.writeBuffer(&text)
                case .damage(let kind, let offset, let reason):
                    self.stop(kind, offset: offset, reason: reason)
                }
            }
            self.inputOffset = self.inflater.inputOffset
            switch outcome {
            case .more: return .more
            case .wait: return .wait
            case .end: return .end
            }
        }
        if let failure = self.pipelineFailure { throw failure }
        while true {
            switch pipeline.next() {
            case .event(.text(var text, let offset), let inputOffset):
                self.inputOffset = inputOffset
                self.linesOffset = offset
                // Either way one buffer goes back to be filled again: no allocation per member.
                if self.state.lines.readableBytes == 0 {
                    swap(&text, &self.state.lines)
                } else {
                    self.state.lines.writeBuffer(&text)
                }
                pipeline.recycle(text)
                return .more
            case .event(.damage(let kind, let offset, let reason), let inputOffset):
                self.inputOffset = inputOffset
                self.stop(kind, offset: offset, reason: reason)
                if self.isFinished { return .end }
            case .end(let inputOffset):
                self.inputOffset = inputOffset
                return .end
            case .failure(let error):
                self.pipelineFailure = error
                throw error
            }
        }
    }
}
