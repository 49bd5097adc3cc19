import CompressNIO
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams a recording to disk: many event-loop threads `append`, one background thread
/// compresses and writes.
///
/// `append` only encodes the record into an in-memory buffer under a lock; it never touches the
/// disk and never blocks on it. The background thread writes each batch as one complete gzip
/// member, so a file cut at any point (`kill -9`, power loss, a full disk) still holds every
/// earlier member intact, readable by `zcat` and by `RecordingReader`.
///
/// Storage failures (disk full, I/O errors, the file deleted) never crash or block callers: the
/// first one is reported through `onFailure`, later records are counted and dropped, and
/// `close()` throws it so the command can exit non-zero.
///
/// Call `close()` exactly once at the end: it writes the `end` trailer, flushes and fsyncs.
public final class RecordingWriter: Sendable {
    /// How often and how much to write.
    public struct Configuration: Sendable {
        /// Everything older than this is on disk (crash-safety guarantee). Default 1 s.
        public var flushInterval: Duration
        /// Write as soon as this many uncompressed bytes are pending. Default 256 KiB.
        public var flushThreshold: Int
        /// Hard cap on pending bytes if the disk cannot keep up; records beyond it are dropped
        /// (and counted) so that memory stays bounded. Default 32 MiB.
        public var maxPendingBytes: Int
        /// zlib level, 1 (fastest) to 9. Default 3, the best ratio of zlib's fast levels 1-3
        /// (measurements in `docs/recording-format.md`).
        public var compressionLevel: Int
        /// Whether a background thread flushes by itself. Tests turn it off and call `flush()`
        /// or `flushIfDue()` to stay deterministic.
        public var backgroundFlushing: Bool

        public init(
            flushInterval: Duration = .seconds(1),
            flushThreshold: Int = 256 * 1024,
            maxPendingBytes: Int = 32 * 1024 * 1024,
            compressionLevel: Int = 3,
            backgroundFlushing: Bool = true
        ) {
            self.flushInterval = flushInterval
            self.flushThreshold = flushThreshold
            self.maxPendingBytes = maxPendingBytes
            self.compressionLevel = compressionLevel
            self.backgroundFlushing = backgroundFlushing
        }
    }

    /// Counters for the summary and for tests.
    public struct Statistics: Hashable, Sendable {
        /// Records accepted (in the file once flushed), the header and trailer not counted.
        public var records: Int = 0
        /// Records dropped after a storage failure or because the pending buffer was full.
        public var droppedRecords: Int = 0
        /// Uncompressed bytes written to the file (header and trailer included).
        public var uncompressedBytes: Int = 0
        /// Bytes written to the file.
        public var compressedBytes: Int = 0
        /// gzip members written.
        public var members: Int = 0
        /// Encoded bytes waiting to be written now.
        public var pendingBytes: Int = 0
        /// The largest `pendingBytes` seen.
        public var peakPendingBytes: Int = 0
        /// The largest capacity of the pending buffer seen (memory actually held).
        public var peakPendingCapacity: Int = 0
        /// Capacity of the buffers the writer holds now (pending, spare and compression output):
        /// back near the flush threshold once a backlog has been written.
        public var heldBufferBytes: Int = 0
    }

    private struct State: ~Copyable {
        var pending: ByteBuffer
        var spare: ByteBuffer?
        var pendingRecords = 0
        /// Clock reading at the first record of the pending batch.
        var oldestPending: Duration?
        var lastTime: Int64 = 0
        var statistics = Statistics()
        var failure: RecordingWriteError?
        var wakeRequested = false
        var closed = false
    }

    private struct IO {
        var fd: Int32
        let compressor: ZlibCompressor
        var output: ByteBuffer
        /// File size after the last complete member: a failed write is cut back to it, so the file
        /// never ends inside a member.
        var committed: off_t = 0
    }

    private let configuration: Configuration
    private let encoder = RecordEncoder()
    private let state: Mutex<State>
    private let io: Mutex<IO?>
    private let now: @Sendable () -> Duration
    private let onFailure: (@Sendable (RecordingWriteError) -> Void)?
    /// `true` asks the background thread to look at the pending buffer now.
    private let wake = ConditionLock<Bool>(value: false)
    /// `true` once the background thread has exited.
    private let threadDone = ConditionLock<Bool>(value: false)

    /// Creates `path` (mode 0600; an existing file is never overwritten) and writes the header.
    ///
    /// - Throws: `RecordingWriteError` with code `.exists` or `.cannotCreate`.
    public convenience init(
        path: String,
        header: RecordingHeader,
        configuration: Configuration = .init(),
        onFailure: (@Sendable (RecordingWriteError) -> Void)? = nil
    ) throws(RecordingWriteError) {
        try self.init(
            path: path,
            header: header,
            configuration: configuration,
            clock: ContinuousClock(),
            onFailure: onFailure
        )
    }

    /// Creates `path` with a clock of your choice (tests use a manual one to drive `flushIfDue`).
    public convenience init<C: Clock>(
        path: String,
        header: RecordingHeader,
        configuration: Configuration = .init(),
        clock: C,
        onFailure: (@Sendable (RecordingWriteError) -> Void)? = nil
    ) throws(RecordingWriteError) where C.Duration == Duration {
        var fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 && errno == EEXIST && !isRegularFile(path) {
            // A device or a pipe (`/dev/stdout`, a FIFO, `/dev/full`): written to, not overwritten.
            fd = open(path, O_WRONLY | O_CLOEXEC)
        }
        if fd < 0 {
            let code = errno
            if code == EEXIST {
                throw RecordingWriteError(
                    code: .exists,
                    description: "\(path) exists already; siotape never overwrites a recording. Choose another name."
                )
            }
            throw RecordingWriteError(
                code: .cannotCreate,
                description: "cannot create \(path): \(systemErrorMessage(code))"
            )
        }
        try self.init(
            fileDescriptor: fd,
            header: header,
            configuration: configuration,
            clock: clock,
            onFailure: onFailure
        )
    }

    /// Writes to an open file descriptor, which the writer owns from now on (closes it in `close()`).
    public init<C: Clock>(
        fileDescriptor: Int32,
        header: RecordingHeader,
        configuration: Configuration = .init(),
        clock: C,
        onFailure: (@Sendable (RecordingWriteError) -> Void)? = nil
    ) throws(RecordingWriteError) where C.Duration == Duration {
        let compressor: ZlibCompressor
        do {
            let level = Int32(min(max(configuration.compressionLevel, 0), 9))
            // memLevel 5, not zlib's default 8: a hash table of 4,096 heads instead of 32,768, slid
            // every 32 KiB of input, costs ~20% fewer instructions on the recording's lines, and their
            // compressed size is the same (`tools/bench/zlib-levels --mem-levels`, RESULTS.md,
            // session 12). The window stays 32 KiB: smaller ones cost more and compress less.
            compressor = try ZlibCompressor(
                algorithm: .gzip,
                configuration: ZlibConfiguration(windowSize: 15, compressionLevel: level, memoryLevel: 5)
            )
        } catch {
            closeDescriptor(fileDescriptor)
            throw RecordingWriteError(code: .compression, description: "cannot set up zlib: \(error)")
        }
        self.configuration = configuration
        let start = clock.now
        self.now = { start.duration(to: clock.now) }
        self.onFailure = onFailure
        self.state = Mutex(State(pending: ByteBuffer()))
        self.io = Mutex(IO(fd: fileDescriptor, compressor: compressor, output: ByteBuffer()))

        // The header goes out at once as its own member, so that the file says what it is even if
        // the recorder dies before the first flush.
        var headerLine = ByteBuffer()
        self.encoder.encode(header, into: &headerLine)
        self.state.withLock { $0.pending = headerLine }
        self.flush()

        if configuration.backgroundFlushing {
            // The thread keeps the writer alive until `close()` stops it.
            BackgroundThread.detach { self.runBackgroundLoop() }
        }
    }

    /// Appends one record. Cheap and non-blocking: it encodes into memory and returns.
    public func append(_ record: Record) {
        self.appendRecords(CollectionOfOne(record))
    }

    /// Appends records in order, taking the lock once: what one read of a connection produced.
    /// (The concrete entry point the capture calls; the generic one, called from another module,
    /// would copy each record through value witnesses.)
    public func append(contentsOf records: [Record]) {
        self.appendRecords(records)
    }

    /// Appends records in order, taking the lock once (a proxied read often yields several).
    public func append<Records: Collection<Record>>(contentsOf records: Records) {
        self.appendRecords(records)
    }

    /// Lets `write` append complete record lines (encoded by `RecordEncoder`, each ending in `\n`)
    /// straight to the pending buffer, under the lock; it returns how many it wrote and the latest
    /// time stamped on them. The capture's fast path: its lines are written where they are
    /// compressed from, with no `Record` and no copy. While records are dropped (closed, failed,
    /// `maxPendingBytes` reached), `write` gets a buffer that is thrown away and its lines are
    /// counted as dropped, as `append(contentsOf:)`'s records are.
    public func appendLines(_ write: (inout ByteBuffer) -> (count: Int, lastTime: Int64)) {
        let shouldWake = self.state.withLock { state -> Bool in
            guard !state.closed, state.failure == nil,
                state.pending.readableBytes < self.configuration.maxPendingBytes
            else {
                var discarded = ByteBuffer()
                state.statistics.droppedRecords += write(&discarded).count
                return false
            }
            let written = write(&state.pending)
            guard written.count > 0 else { return false }
            if state.oldestPending == nil { state.oldestPending = self.now() }
            return self.counted(written.count, lastTime: written.lastTime, state: &state)
        }
        if shouldWake && self.configuration.backgroundFlushing {
            self.wake.lock()
            self.wake.unlock(withValue: true)
        }
    }

    /// Counts records just encoded into the pending buffer; returns whether the background thread
    /// should be woken (the flush threshold was reached).
    private func counted(_ count: Int, lastTime: Int64, state: inout State) -> Bool {
        state.pendingRecords += count
        state.statistics.records += count
        state.lastTime = max(state.lastTime, lastTime)
        let pending = state.pending.readableBytes
        if pending > state.statistics.peakPendingBytes { state.statistics.peakPendingBytes = pending }
        if state.pending.capacity > state.statistics.peakPendingCapacity {
            state.statistics.peakPendingCapacity = state.pending.capacity
        }
        guard pending >= self.configuration.flushThreshold && !state.wakeRequested else { return false }
        state.wakeRequested = true
        return true
    }

    /// Encodes the records straight into the pending buffer, under the lock. The capture calls
    /// this while it holds its own session lock, so appends are serialised there anyway: encoding
    /// first into a buffer of its own and copying that in under this lock cost an allocation and a
    /// copy of every line, and shortened no wait. The background thread only takes the lock to
    /// swap the buffer out.
    private func appendRecords<Records: Collection<Record>>(_ records: Records) {
        guard !records.isEmpty else { return }
        let shouldWake = self.state.withLock { state -> Bool in
            guard !state.closed, state.failure == nil,
                state.pending.readableBytes < self.configuration.maxPendingBytes
            else {
                state.statistics.droppedRecords += records.count
                return false
            }
            if state.oldestPending == nil { state.oldestPending = self.now() }
            var lastTime = state.lastTime
            // By index: `for record in records` would copy (retain and release) every record.
            var index = records.startIndex
            while index != records.endIndex {
                self.encoder.encode(records[index], into: &state.pending)
                lastTime = max(lastTime, records[index].time)
                records.formIndex(after: &index)
            }
            return self.counted(records.count, lastTime: lastTime, state: &state)
        }
        if shouldWake && self.configuration.backgroundFlushing {
            self.wake.lock()
            self.wake.unlock(withValue: true)
        }
    }

    /// Writes what is pending if the oldest pending record has waited long enough or enough bytes
    /// are pending. Returns whether it wrote. The background thread calls this on every tick.
    @discardableResult
    public func flushIfDue() -> Bool {
        let due = self.state.withLock { state -> Bool in
            guard let oldest = state.oldestPending else { return false }
            if state.pending.readableBytes >= self.configuration.flushThreshold { return true }
            // Flushing at 3/4 of the interval, on ticks of 1/4, keeps every record's wait under it.
            return self.now() - oldest >= self.configuration.flushInterval * 3 / 4
        }
        if due { self.flush() }
        return due
    }

    /// Compresses everything pending into one gzip member and writes it now.
    public func flush() {
        var reported: RecordingWriteError?
        self.io.withLock { io in
            guard io != nil else { return }
            // Swapped out, not copied: the batch must be this function's only reference to its
            // storage. zlib reads it through a mutable view (compress-nio's `deflate(from:)`), and
            // while a second reference was alive NIO copied the whole pending buffer into a fresh
            // ~256 KiB allocation first (up to ~1,300 instructions per message; RESULTS.md, session 13).
            var batch = ByteBuffer()
            let count = self.state.withLock { state -> Int in
                swap(&batch, &state.pending)
                state.pending = state.spare ?? ByteBuffer()
                state.spare = nil
                let count = state.pendingRecords
                state.pendingRecords = 0
                state.oldestPending = nil
                state.wakeRequested = false
                return count
            }
            defer {
                // A buffer that grew during a backlog is given back, not kept as the spare.
                batch.clear()
                let keep = batch.capacity <= self.keptCapacity
                self.state.withLock { $0.spare = keep ? batch : nil }
            }
            guard batch.readableBytes > 0 else { return }
            if self.state.withLock({ $0.failure != nil }) {
                self.state.withLock { $0.statistics.droppedRecords += count }
                return
            }
            let uncompressed = batch.readableBytes
            switch self.writeMember(&batch, io: &io!) {
            case .success(let written):
                self.state.withLock {
                    $0.statistics.compressedBytes += written
                    $0.statistics.uncompressedBytes += uncompressed
                    $0.statistics.members += 1
                }
            case .failure(let error):
                reported = self.state.withLock { state -> RecordingWriteError? in
                    state.statistics.droppedRecords += count
                    state.statistics.records -= count
                    guard state.failure == nil else { return nil }
                    state.failure = error
                    return error
                }
            }
        }
        if let reported { self.onFailure?(reported) }
    }

    private func writeMember(_ batch: inout ByteBuffer, io: inout IO) -> Result<Int, RecordingWriteError> {
        do {
            try io.compressor.reset()
            io.output.clear()
            io.output.reserveCapacity(io.compressor.maxSize(from: batch))
            try io.compressor.deflate(from: &batch, to: &io.output, flush: .finish)
        } catch {
            return .failure(RecordingWriteError(code: .compression, description: "compression failed: \(error)"))
        }
        let fd = io.fd
        let written = io.output.readableBytes
        let failure = io.output.withUnsafeReadableBytes { bytes -> Int32? in
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failure {
            // Leave whole members only (disk full mid-write): every tool then reads the file cleanly
            // up to the last complete flush. Fails harmlessly on devices and pipes.
            _ = ftruncate(fd, io.committed)
            return .failure(
                RecordingWriteError(
                    code: .writeFailed,
                    description: "writing the recording failed: \(systemErrorMessage(failure)); "
                        + "later records are dropped"
                )
            )
        }
        // Writes to a deleted file succeed on POSIX systems and vanish at close: catch it here.
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & 0o170000) == 0o100000, info.st_nlink == 0 {
            return .failure(
                RecordingWriteError(
                    code: .deleted,
                    description: "the recording file was deleted while being written; later records are dropped"
                )
            )
        }
        io.committed += off_t(written)
        if io.output.capacity > self.keptCapacity { io.output = ByteBuffer() }
        return .success(written)
    }

    /// Writes the `end` trailer, flushes, fsyncs and closes the file. Idempotent.
    ///
    /// - Throws: the first storage failure of the whole recording, if there was one.
    public func close() throws(RecordingWriteError) {
        let firstClose = self.state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        if firstClose {
            if self.configuration.backgroundFlushing {
                self.wake.lock()
                self.wake.unlock(withValue: true)
                self.threadDone.lock(whenValue: true)
                self.threadDone.unlock()
            }
            self.state.withLock { state in
                guard state.failure == nil else { return }
                self.encoder.encodeEnd(time: state.lastTime, records: state.statistics.records, into: &state.pending)
            }
            self.flush()
            let syncError: RecordingWriteError? = self.io.withLock { io in
                guard let fd = io?.fd else { return nil }
                io = nil
                defer { closeDescriptor(fd) }
                if fsync(fd) != 0 && errno != EINVAL {
                    return RecordingWriteError(
                        code: .writeFailed,
                        description: "fsync failed: \(systemErrorMessage(errno))"
                    )
                }
                return nil
            }
            if let syncError {
                let isFirst = self.state.withLock { state -> Bool in
                    guard state.failure == nil else { return false }
                    state.failure = syncError
                    return true
                }
                if isFirst { self.onFailure?(syncError) }
            }
        }
        if let failure = self.failure { throw failure }
    }

    /// The first storage failure, if writing has failed.
    public var failure: RecordingWriteError? { self.state.withLock { $0.failure } }

    /// Counters so far.
    public var statistics: Statistics {
        let output = self.io.withLock { $0?.output.capacity ?? 0 }
        return self.state.withLock { state in
            var s = state.statistics
            s.pendingBytes = state.pending.readableBytes
            s.heldBufferBytes = state.pending.capacity + (state.spare?.capacity ?? 0) + output
            return s
        }
    }

    /// The most capacity a buffer keeps between flushes; past it (after a backlog) it is freed.
    private var keptCapacity: Int { max(4 * self.configuration.flushThreshold, 1 << 20) }

    private func runBackgroundLoop() {
        let tick =
            Double(self.configuration.flushInterval.components.seconds)
            + Double(self.configuration.flushInterval.components.attoseconds) / 1e18
        while true {
            if self.wake.lock(whenValue: true, timeoutSeconds: max(tick / 4, 0.001)) {
                self.wake.unlock(withValue: false)
            }
            if self.state.withLock({ $0.closed }) { break }
            self.flushIfDue()
        }
        self.threadDone.lock()
        self.threadDone.unlock(withValue: true)
    }
}

private func isRegularFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}
