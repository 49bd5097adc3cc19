import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a `MemberInflater` on a thread of its own, so that a batch read inflates the next gzip
/// members while the reader's caller scans the lines of the previous one (two cores).
///
/// The inflater's events arrive in file order through a small bounded queue (at most `maxItems`
/// pieces and, beyond the first, `maxBytes` of text), so memory stays flat however fast either side
/// is. The reader applies them exactly as it applies the events of an inflater it pumps itself.
final class InflatingPipeline: @unchecked Sendable {
    enum Item: Sendable {
        /// An event, with the inflater's `inputOffset` right after it.
        case event(MemberInflater.Event, inputOffset: Int)
        /// The end of the data, or damage that stops reading.
        case end(inputOffset: Int)
        /// Reading the file failed (an I/O error).
        case failure(any Error)
    }

    static let maxItems = 4
    static let maxBytes = 4 * 1024 * 1024

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var items: [Item] = []
    private var head = 0
    private var bytes = 0
    private var cancelled = false
    /// Buffers the reader is done with, for the inflater to fill again.
    private var spares: [ByteBuffer] = []

    /// Starts inflating on a background thread; `inflater` must not be used by anyone else from now on.
    init(_ inflater: MemberInflater) {
        pthread_mutex_init(self.mutex, nil)
        pthread_cond_init(self.changed, nil)
        self.items.reserveCapacity(Self.maxItems * 2)
        inflater.spareBuffer = { [self] in self.takeSpare() }
        BackgroundThread.detach { [self] in self.produce(inflater) }
    }

    deinit {
        pthread_cond_destroy(self.changed)
        pthread_mutex_destroy(self.mutex)
        self.changed.deallocate()
        self.mutex.deallocate()
    }

    /// The next item, waiting for it. After `.end` or `.failure` nothing more comes: don't call again.
    func next() -> Item {
        pthread_mutex_lock(self.mutex)
        while self.head == self.items.count { pthread_cond_wait(self.changed, self.mutex) }
        let item = self.items[self.head]
        self.items[self.head] = .end(inputOffset: 0)  // the queue keeps no reference to the text
        self.head += 1
        if case .event(.text(let text, _), _) = item { self.bytes -= text.readableBytes }
        if self.head == self.items.count {
            self.items.removeAll(keepingCapacity: true)
            self.head = 0
        }
        pthread_cond_signal(self.changed)
        pthread_mutex_unlock(self.mutex)
        return item
    }

    /// Gives back a buffer of text the reader has finished with.
    func recycle(_ buffer: consuming ByteBuffer) {
        pthread_mutex_lock(self.mutex)
        if !self.cancelled && self.spares.count < Self.maxItems { self.spares.append(buffer) }
        pthread_mutex_unlock(self.mutex)
    }

    private func takeSpare() -> ByteBuffer? {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        return self.spares.popLast()
    }

    /// Stops the background thread soon (it is not waited for); queued text is dropped.
    func cancel() {
        pthread_mutex_lock(self.mutex)
        self.cancelled = true
        self.items.removeAll()
        self.spares.removeAll()
        self.head = 0
        self.bytes = 0
        pthread_cond_signal(self.changed)
        pthread_mutex_unlock(self.mutex)
    }

    private func produce(_ inflater: MemberInflater) {
        while true {
            let outcome: MemberInflater.Outcome
            do {
                outcome = try inflater.pump(trailerRead: false) { event in
                    self.put(.event(event, inputOffset: inflater.inputOffset))
                }
            } catch {
                self.put(.failure(error))
                return
            }
            if outcome != .more {
                // `.wait` only happens when following, which does not use a pipeline.
                self.put(.end(inputOffset: inflater.inputOffset))
                return
            }
            if self.isCancelled { return }
        }
    }

    private var isCancelled: Bool {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        return self.cancelled
    }

    /// Queues `item`, waiting while the queue is full; dropped once cancelled.
    private func put(_ item: Item) {
        var size = 0
        if case .event(.text(let text, _), _) = item { size = text.readableBytes }
        pthread_mutex_lock(self.mutex)
        while !self.cancelled {
            let queued = self.items.count - self.head
            if queued == 0 || (queued < Self.maxItems && self.bytes + size <= Self.maxBytes) { break }
            pthread_cond_wait(self.changed, self.mutex)
        }
        if !self.cancelled {
            self.items.append(item)
            self.bytes += size
            pthread_cond_signal(self.changed)
        }
        pthread_mutex_unlock(self.mutex)
    }
}
