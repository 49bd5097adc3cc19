import CompressNIO
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The producing half of `RecordingReader`: reads the file and inflates its gzip members, handing
/// out checked text and damage in file order through `pump(trailerRead:_:)`.
///
/// Used by one thread at a time: the reader's own, or, for batch reads, a background thread it is
/// handed to once the header has been read (`InflatingPipeline`); hence `@unchecked Sendable`.
final class MemberInflater: @unchecked Sendable {
    enum Event: Sendable {
        /// Checked text; `offset` is the file offset of the gzip member it came from.
        case text(ByteBuffer, offset: Int)
        /// Damage. Reading stops there unless `resynchronizing` (then only the damaged part is skipped).
        case damage(RecordingDamage.Kind, offset: Int, reason: String)
    }

    enum Outcome: Sendable {
        /// More text was handed out.
        case more
        /// Following: no more data for now.
        case wait
        /// The end of the data, or damage that stops reading.
        case end
    }

    let path: String
    /// The size of the file when it was opened.
    let fileSize: Int
    /// Whether the file is gzip data (otherwise plain JSON lines).
    var compressed = true
    var resynchronizing = false
    var following = false
    /// File offset of `input.readerIndex`: bytes of the file consumed so far.
    private(set) var inputOffset = 0
    /// A buffer for the next member's text once one has been handed out, if there is one to reuse
    /// (the pipeline recycles the reader's), so that handing text to another thread allocates nothing.
    var spareBuffer: () -> ByteBuffer? = { nil }

    private let fd: Int32
    private let decompressor: ZlibDecompressor
    private static let chunkSize = 64 * 1024
    /// A member whose text grows past this is released line by line before its CRC is checked, so
    /// that foreign single-member files do not have to fit in memory.
    private static let holdBackLimit = 8 * 1024 * 1024

    private var input = ByteBuffer()
    private var eof = false
    /// File offset of the gzip member being inflated, `nil` between members.
    private var memberStart: Int?
    /// The last inflate call consumed all input and returned normally: the member may have ended.
    private var possiblyEnded = false
    private var memberText = ByteBuffer()
    /// Text of the current member already handed out (past `holdBackLimit`).
    private var releasedText = 0

    /// Opens `path` and reads its first chunk (see `firstByte`).
    init(path: String) throws {
        self.path = path
        self.fd = open(path, O_RDONLY | O_CLOEXEC)
        guard self.fd >= 0 else { throw RecordingReadError.cannotOpen(path, errno: errno) }
        var info = stat()
        self.fileSize = fstat(self.fd, &info) == 0 ? Int(info.st_size) : 0
        do {
            self.decompressor = try ZlibDecompressor(algorithm: .gzip)
            try self.readChunk()
        } catch {
            closeDescriptor(self.fd)
            throw error
        }
    }

    deinit {
        closeDescriptor(self.fd)
    }

    /// The first byte of the file, `nil` when it is empty.
    var firstByte: UInt8? { self.input.readableBytesView.first }

    /// Hands out more text or damage through `emit`. `trailerRead`: the reader has seen the `end`
    /// trailer (a followed file is then complete).
    func pump(trailerRead: Bool, _ emit: (Event) -> Void) throws -> Outcome {
        guard self.compressed else {
            if self.input.readableBytes == 0 { try self.readChunk() }
            guard self.input.readableBytes > 0 else { return self.endOfData(trailerRead: trailerRead) }
            let offset = self.inputOffset
            self.inputOffset += self.input.readableBytes
            emit(.text(self.input, offset: offset))
            self.input.clear()
            return .more
        }
        while true {
            if self.input.readableBytes == 0 { try self.readChunk() }
            guard self.input.readableBytes > 0 else {
                guard let start = self.memberStart else { return self.endOfData(trailerRead: trailerRead) }
                if self.possiblyEnded && self.probeEnded() {
                    self.completeMember(emit)
                    return .more
                }
                if self.following && !trailerRead { return self.endOfData(trailerRead: trailerRead) }
                if let next = self.memberHeader(after: start + 10) {
                    // A cut file cannot hold a later member: this one is damaged, not cut.
                    let reason =
                        "bad gzip data in the member that starts at byte \(start): it does not end "
                        + "before the next member at byte \(next)"
                    if self.damagedMember(.corrupt, start: start, reason: reason, emit) { continue }
                    return .end
                }
                _ = self.damagedMember(
                    .truncated,
                    start: start,
                    reason: "the file ends inside the gzip member that starts at byte \(start) "
                        + "(file size \(self.fileSize)); the records of that member are lost",
                    emit
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
                if self.damagedMember(.corrupt, start: start, reason: reason, emit) { continue }
                return .end
            }
            self.possiblyEnded = false
            if returned {
                // zlib reports the end of a member by returning without consuming everything; when a
                // member ends exactly at the end of the input, the next call (or `probeEnded`) tells.
                if self.input.readableBytes > 0 {
                    self.completeMember(emit)
                    return .more
                }
                self.possiblyEnded = self.trailerMayEndHere()
            }
            if self.memberText.readableBytes > Self.holdBackLimit {
                self.releasedText += self.memberText.readableBytes
                emit(.text(self.memberText, offset: self.memberStart!))
                self.renewMemberText()
                return .more
            }
        }
    }

    private func endOfData(trailerRead: Bool) -> Outcome {
        guard self.following && !trailerRead else { return .end }
        self.eof = false
        return .wait
    }

    /// Damage in the gzip member that starts at `start`; returns whether reading goes on (at the
    /// next member header, when resynchronising).
    private func damagedMember(
        _ kind: RecordingDamage.Kind,
        start: Int,
        reason: String,
        _ emit: (Event) -> Void
    ) -> Bool {
        emit(.damage(kind, offset: start, reason: reason))
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

    private func completeMember(_ emit: (Event) -> Void) {
        self.releasedText = 0
        emit(.text(self.memberText, offset: self.memberStart ?? self.inputOffset))
        self.renewMemberText()
        self.memberStart = nil
        self.possiblyEnded = false
    }

    private func renewMemberText() {
        if let spare = self.spareBuffer() { self.memberText = spare }
        self.memberText.clear()
    }
}
