import CompressNIO
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

        public init(resynchronize: Bool = false, follow: Bool = false) {
            self.resynchronize = resynchronize
            self.follow = follow
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
    public private(set) var isWaiting = false
    /// Bytes of the file consumed so far (for progress).
    public var bytesRead: Int { self.inputOffset }
    /// The size of the file when it was opened.
    public let fileSize: Int
    public let options: Options
    /// Records read so far (unknown kinds included; header and trailer not).
    public private(set) var recordsRead = 0
    /// The record count of the `end` trailer, once it has been read: the recording was closed cleanly.
    public private(set) var endRecordCount: Int?
    /// Whether the last `next()` reached the end of the data (with or without damage).
    public private(set) var isFinished = false

    private let path: String
    private var fd: Int32
    private var compressed: Bool
    private let decompressor: ZlibDecompressor
    private var decoder = RecordDecoder()
    private static let chunkSize = 64 * 1024
    /// A member whose text grows past this is released line by line before its CRC is checked, so
    /// that foreign single-member files do not have to fit in memory.
    private static let holdBackLimit = 8 * 1024 * 1024

    private var input = ByteBuffer()
    /// File offset of `input.readerIndex`.
    private var inputOffset = 0
    private var eof = false
    /// File offset of the gzip member being inflated, `nil` between members.
    private var memberStart: Int?
    /// The last inflate call consumed all input and returned normally: the member may have ended.
    private var possiblyEnded = false
    private var memberText = ByteBuffer()
    /// Text of the current member already moved to `lines` (past `holdBackLimit`).
    private var releasedText = 0
    /// Checked text waiting to be split into lines.
    private var lines = ByteBuffer()
    /// File offset of the member the text in `lines` came from, for error messages.
    private var linesOffset = 0
    private var lineNumber = 0
    /// The options take effect after the header: a damaged header is never skipped.
    private var resynchronizing = false
    private var following = false

    /// Opens `path` and reads the header.
    ///
    /// - Throws: `RecordingReadError`: the file cannot be opened, is empty, is not a recording, is
    ///   of a newer format version, or is damaged before the end of its header.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        self.options = options
        self.fd = open(path, O_RDONLY | O_CLOEXEC)
        guard self.fd >= 0 else { throw RecordingReadError.cannotOpen(path, errno: errno) }
        var info = stat()
        self.fileSize = fstat(self.fd, &info) == 0 ? Int(info.st_size) : 0
        self.decompressor = try ZlibDecompressor(algorithm: .gzip)
        self.header = RecordingHeader(startedAtMicros: 0, tool: "")
        self.compressed = true
        try self.readChunk()
        guard self.input.readableBytes > 0 else {
            closeDescriptor(self.fd)
            self.fd = -1
            throw RecordingReadError.empty(path)
        }
        let first = self.input.readableBytesView.first!
        if first != 0x1F {
            guard first == UInt8(ascii: "{") else {
                throw RecordingReadError.notARecording("\(path) is neither gzip data nor JSON lines")
            }
            self.compressed = false
        }
        guard let line = try self.nextLine() else {
            throw RecordingReadError.damagedHeader(
                self.damage
                    ?? RecordingDamage(kind: .truncated, offset: 0, recordsRead: 0, reason: "no complete first line")
            )
        }
        self.header = try self.decoder.decodeHeader(line)
        self.resynchronizing = options.resynchronize
        self.following = options.follow
    }

    deinit {
        if self.fd >= 0 { closeDescriptor(self.fd) }
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
                self.recordsRead += 1
                return record
            case .unknown:
                self.recordsRead += 1
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
        while let line = try self.nextLine() {
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
            self.recordsRead += 1
            return line
        }
        return nil
    }

    /// Reports the line last returned by `nextRecordLine()` as not a valid record: damage at the
    /// start of its gzip member. Reading stops there unless resynchronising.
    public func reportInvalidLine(_ message: String) {
        self.recordsRead -= 1
        self.invalidLine(message)
    }

    private func invalidLine(_ message: String) {
        self.stop(
            .corrupt,
            offset: self.linesOffset,
            reason: "line \(self.lineNumber) of the text is not a valid record: \(message)"
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
        self.isWaiting = false
        while true {
            if var line = Self.splitLine(&self.lines) {
                self.lineNumber += 1
                if line.readableBytesView.last == 0x0D { line.moveWriterIndex(to: line.writerIndex - 1) }
                if line.readableBytes == 0 { continue }
                return line
            }
            if self.isFinished { return nil }
            switch try self.pump() {
            case .more:
                continue
            case .wait:
                self.isWaiting = true
                return nil
            case .end:
                self.isFinished = true
                if self.lines.readableBytes > 0 {
                    // A last line without its newline: only foreign files end that way.
                    self.lineNumber += 1
                    let line = self.lines
                    self.lines.clear()
                    return line
                }
                if self.endRecordCount == nil && self.lineNumber > 0
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
            RecordingDamage(kind: kind, offset: offset, recordsRead: self.recordsRead, reason: reason)
        )
    }

    /// Damage: reading stops there, unless resynchronising (then only the damaged part is skipped).
    private func stop(_ kind: RecordingDamage.Kind, offset: Int, reason: String) {
        self.addDamage(kind, offset: offset, reason: reason)
        guard !self.resynchronizing else { return }
        self.isFinished = true
        self.lines.clear()
    }

    /// Damage in the gzip member that starts at `start`; returns whether reading goes on (at the
    /// next member header, when resynchronising).
    private func damagedMember(_ kind: RecordingDamage.Kind, start: Int, reason: String) -> Bool {
        self.stop(kind, offset: start, reason: reason)
        self.memberText.clear()
        self.memberStart = nil
        self.possiblyEnded = false
        guard self.resynchronizing, kind == .corrupt, let next = self.memberHeader(after: start + 1) else {
            return false
        }
        _ = lseek(self.fd, off_t(next), SEEK_SET)
        self.input.clear()
        self.inputOffset = next
        self.eof = false
        return true
    }

    private enum Pump {
        /// More text is in `lines`.
        case more
        /// Following: no more data for now.
        case wait
        /// The end of the data, or damage that stops reading.
        case end
    }

    private func endOfData() -> Pump {
        guard self.following && self.endRecordCount == nil else { return .end }
        self.eof = false
        return .wait
    }

    // MARK: - Decompression

    private func readChunk() throws {
        guard !self.eof else { return }
        if self.input.readerIndex > 0 && self.input.readableBytes < self.input.readerIndex {
            self.input.discardReadBytes()
        }
        let fd = self.fd
        var failure: Int32?
        let n = self.input.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.chunkSize) { out -> Int in
            while true {
                let n = read(fd, out.baseAddress!, min(out.count, Self.chunkSize))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = errno }
                return max(n, 0)
            }
        }
        if let failure { throw RecordingReadError.cannotOpen(self.path, errno: failure) }
        if n == 0 { self.eof = true }
    }

    /// Moves more checked text into `lines`.
    private func pump() throws -> Pump {
        if self.lines.readerIndex > 0 { self.lines.discardReadBytes() }
        guard self.compressed else {
            if self.input.readableBytes == 0 { try self.readChunk() }
            guard self.input.readableBytes > 0 else { return self.endOfData() }
            self.linesOffset = self.inputOffset
            self.inputOffset += self.input.readableBytes
            self.lines.writeBuffer(&self.input)
            return .more
        }
        while true {
            if self.input.readableBytes == 0 { try self.readChunk() }
            guard self.input.readableBytes > 0 else {
                guard let start = self.memberStart else { return self.endOfData() }
                if self.possiblyEnded && self.probeEnded() {
                    self.completeMember()
                    return .more
                }
                if self.following && self.endRecordCount == nil { return self.endOfData() }
                if let next = self.memberHeader(after: start + 10) {
                    // A cut file cannot hold a later member: this one is damaged, not cut.
                    let reason =
                        "bad gzip data in the member that starts at byte \(start): it does not end "
                        + "before the next member at byte \(next)"
                    if self.damagedMember(.corrupt, start: start, reason: reason) { continue }
                    return .end
                }
                _ = self.damagedMember(
                    .truncated,
                    start: start,
                    reason: "the file ends inside the gzip member that starts at byte \(start) "
                        + "(file size \(self.fileSize)); the records of that member are lost"
                )
                return .end
            }
            if self.memberStart == nil {
                self.memberStart = self.inputOffset
                self.releasedText = 0
                self.possiblyEnded = false
                try? self.decompressor.reset()
            }
            self.memberText.reserveCapacity(minimumWritableBytes: Self.chunkSize)
            let inputBefore = self.input.readerIndex
            var returned = false
            var failure: CompressNIOError?
            do {
                try self.decompressor.inflate(from: &self.input, to: &self.memberText)
                returned = true
            } catch let error as CompressNIOError where error == .bufferOverflow || error == .inputBufferOverflow {
                // Output full or more input needed: go round again.
            } catch let error as CompressNIOError {
                failure = error
            }
            let consumed = self.input.readerIndex - inputBefore
            self.inputOffset += consumed
            if let failure {
                // Report the member's start: everything before it was read, nothing after it.
                let start = self.memberStart!
                let reason =
                    "bad gzip data in the member that starts at byte \(start) "
                    + "(zlib: \(failure), noticed at byte \(self.inputOffset))"
                if self.damagedMember(.corrupt, start: start, reason: reason) { continue }
                return .end
            }
            self.possiblyEnded = false
            if returned {
                // zlib reports the end of a member by returning without consuming everything; when a
                // member ends exactly at the end of the input, the next call (or `probeEnded`) tells.
                if self.input.readableBytes > 0 {
                    self.completeMember()
                    return .more
                }
                self.possiblyEnded = self.trailerMayEndHere()
            }
            if self.memberText.readableBytes > Self.holdBackLimit {
                self.linesOffset = self.memberStart!
                self.releasedText += self.memberText.readableBytes
                self.lines.writeBuffer(&self.memberText)
                self.memberText.clear()
                return .more
            }
        }
    }

    /// The offset of the first gzip member header (`1f 8b 08`) at or after `offset`, if any.
    private func memberHeader(after offset: Int) -> Int? {
        var position = offset
        var chunk = [UInt8](repeating: 0, count: Self.chunkSize)
        while position < self.fileSize {
            let n = chunk.withUnsafeMutableBytes { pread(self.fd, $0.baseAddress!, $0.count, off_t(position)) }
            guard n >= 3 else { return nil }
            for i in 0..<(n - 2) where chunk[i] == 0x1F && chunk[i + 1] == 0x8B && chunk[i + 2] == 0x08 {
                return position + i
            }
            position += n - 2
        }
        return nil
    }

    /// Whether the input consumed so far can end with the member's gzip trailer: its last four
    /// bytes are the member's text length (ISIZE). `probeEnded` feeds zlib a byte, which would
    /// damage a member that goes on (a file being written, when following), so it is only used
    /// when this holds.
    private func trailerMayEndHere() -> Bool {
        let end = self.input.readerIndex
        guard end >= 4 else { return !self.following }
        // The consumed bytes are before the reader index, still in the storage.
        let isize = self.input.withVeryUnsafeBytes { storage -> UInt32 in
            var value: UInt32 = 0
            for i in 0..<4 { value |= UInt32(storage[end - 4 + i]) << (8 * UInt32(i)) }
            return value
        }
        return isize == UInt32(truncatingIfNeeded: self.releasedText + self.memberText.readableBytes)
    }

    /// Whether the current member has ended: a finished inflate stream consumes nothing more.
    private func probeEnded() -> Bool {
        var probe = ByteBuffer(bytes: [0])
        var sink = ByteBuffer()
        sink.reserveCapacity(64)
        do {
            try self.decompressor.inflate(from: &probe, to: &sink)
        } catch {
            return false
        }
        return probe.readableBytes == 1
    }

    private func completeMember() {
        self.releasedText = 0
        self.linesOffset = self.memberStart ?? self.inputOffset
        self.lines.writeBuffer(&self.memberText)
        self.memberText.clear()
        self.memberStart = nil
        self.possiblyEnded = false
    }
}
