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
    /// The first line of the recording.
    public private(set) var header: RecordingHeader
    /// Set once reading stopped early, or ended without the `end` trailer.
    public private(set) var damage: RecordingDamage?
    /// Records read so far (unknown kinds included; header and trailer not).
    public private(set) var recordsRead = 0
    /// The record count of the `end` trailer, once it has been read: the recording was closed cleanly.
    public private(set) var endRecordCount: Int?
    /// Whether the last `next()` reached the end of the data (with or without damage).
    public private(set) var isFinished = false

    private let path: String
    private var fd: Int32
    private let fileSize: Int
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
    /// Checked text waiting to be split into lines.
    private var lines = ByteBuffer()
    /// File offset of the member the text in `lines` came from, for error messages.
    private var linesOffset = 0
    private var lineNumber = 0

    /// Opens `path` and reads the header.
    ///
    /// - Throws: `RecordingReadError`: the file cannot be opened, is empty, is not a recording, is
    ///   of a newer format version, or is damaged before the end of its header.
    public init(path: String) throws {
        self.path = path
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
    }

    deinit {
        if self.fd >= 0 { closeDescriptor(self.fd) }
    }

    /// The next record, or `nil` at the end of the data or at the first damage (see `damage`).
    ///
    /// - Throws: `RecordingReadError` only when reading the file itself fails (an I/O error);
    ///   damaged data is not an error but `damage`.
    public func next() throws -> Record? {
        while let line = try self.nextLine() {
            let decoded: DecodedLine
            do {
                decoded = try self.decoder.decode(line)
            } catch {
                self.stop(
                    .corrupt,
                    offset: self.linesOffset,
                    reason: "line \(self.lineNumber) of the text is not a valid record: \(error)"
                )
                return nil
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

    // MARK: - Lines

    private func nextLine() throws -> ByteBuffer? {
        while true {
            if let newline = self.lines.readableBytesView.firstIndex(of: 0x0A) {
                var line = self.lines.readSlice(length: newline - self.lines.readerIndex)!
                self.lines.moveReaderIndex(forwardBy: 1)
                self.lineNumber += 1
                if line.readableBytesView.last == 0x0D { line.moveWriterIndex(to: line.writerIndex - 1) }
                if line.readableBytes == 0 { continue }
                return line
            }
            if self.isFinished { return nil }
            if try !self.pump() {
                self.isFinished = true
                if self.damage == nil && self.lines.readableBytes > 0 {
                    // A last line without its newline: only foreign files end that way.
                    self.lineNumber += 1
                    let line = self.lines
                    self.lines.clear()
                    return line
                }
                if self.damage == nil && self.endRecordCount == nil && self.lineNumber > 0 {
                    self.damage = RecordingDamage(
                        kind: .truncated,
                        offset: self.inputOffset,
                        recordsRead: self.recordsRead,
                        reason:
                            "no end trailer: the recorder did not close the file (killed, crashed, or still recording)"
                    )
                }
                return nil
            }
        }
    }

    private func stop(_ kind: RecordingDamage.Kind, offset: Int, reason: String) {
        if self.damage == nil {
            self.damage = RecordingDamage(kind: kind, offset: offset, recordsRead: self.recordsRead, reason: reason)
        }
        self.isFinished = true
        self.lines.clear()
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

    /// Moves more checked text into `lines`. Returns `false` when there is no more (end or damage).
    private func pump() throws -> Bool {
        if self.lines.readerIndex > 0 { self.lines.discardReadBytes() }
        guard self.compressed else {
            if self.input.readableBytes == 0 { try self.readChunk() }
            guard self.input.readableBytes > 0 else { return false }
            self.linesOffset = self.inputOffset
            self.inputOffset += self.input.readableBytes
            self.lines.writeBuffer(&self.input)
            return true
        }
        while true {
            if self.input.readableBytes == 0 { try self.readChunk() }
            guard self.input.readableBytes > 0 else {
                guard let start = self.memberStart else { return false }
                if self.possiblyEnded && self.probeEnded() {
                    self.completeMember()
                    return true
                }
                if let next = self.memberHeader(after: start + 10) {
                    // A cut file cannot hold a later member: this one is damaged, not cut.
                    self.stop(
                        .corrupt,
                        offset: start,
                        reason: "bad gzip data in the member that starts at byte \(start): it does not end "
                            + "before the next member at byte \(next)"
                    )
                    return false
                }
                self.stop(
                    .truncated,
                    offset: start,
                    reason: "the file ends inside the gzip member that starts at byte \(start) "
                        + "(file size \(self.fileSize)); the records of that member are lost"
                )
                return false
            }
            if self.memberStart == nil {
                self.memberStart = self.inputOffset
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
                self.stop(
                    .corrupt,
                    offset: start,
                    reason: "bad gzip data in the member that starts at byte \(start) "
                        + "(zlib: \(failure), noticed at byte \(self.inputOffset))"
                )
                return false
            }
            self.possiblyEnded = false
            if returned {
                // zlib reports the end of a member by returning without consuming everything; when a
                // member ends exactly at the end of the input, the next call (or `probeEnded`) tells.
                if self.input.readableBytes > 0 {
                    self.completeMember()
                    return true
                }
                self.possiblyEnded = true
            }
            if self.memberText.readableBytes > Self.holdBackLimit {
                self.linesOffset = self.memberStart!
                self.lines.writeBuffer(&self.memberText)
                self.memberText.clear()
                return true
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
        self.linesOffset = self.memberStart ?? self.inputOffset
        self.lines.writeBuffer(&self.memberText)
        self.memberText.clear()
        self.memberStart = nil
        self.possiblyEnded = false
    }
}
