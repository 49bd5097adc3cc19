import NIOCore

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

    /// Its condition: the queue changed.
    private let mutex = ConditionMutex()
    // Guarded by `mutex`.
    private var items: [Item] = []
    private var head = 0
    private var bytes = 0
    private var cancelled = false
    /// Buffers the reader is done with, for the inflater to fill again.
    private var spares: [ByteBuffer] = []

    /// Starts inflating on a background thread; `inflater` must not be used by anyone else from now on.
    init(_ inflater: MemberInflater) {
        self.items.reserveCapacity(Self.maxItems * 2)
        inflater.spareBuffer = { [self] in self.takeSpare() }
        BackgroundThread.detach { [self] in self.produce(inflater) }
    }


    /// The next item, waiting for it. After `.end` or `.failure` nothing more comes: don't call again.
    func next() -> Item {
        self.mutex.lock()
        while self.head == self.items.count { self.mutex.wait() }
        let item = self.items[self.head]
        self.items[self.head] = .end(inputOffset: 0)  // the queue keeps no reference to the text
        self.head += 1
        if case .event(.text(let text, _), _) = item { self.bytes -= text.readableBytes }
        if self.head == self.items.count {
            self.items.removeAll(keepingCapacity: true)
            self.head = 0
        }
        self.mutex.signal()
        self.mutex.unlock()
        return item
    }

    /// Gives back a buffer of text the reader has finished with.
    func recycle(_ buffer: consuming ByteBuffer) {
        self.mutex.lock()
        if !self.cancelled && self.spares.count < Self.maxItems { self.spares.append(buffer) }
        self.mutex.unlock()
    }

    private func takeSpare() -> ByteBuffer? {
        self.mutex.lock()
        defer { self.mutex.unlock() }
        return self.spares.popLast()
    }

    /// Stops the background thread soon (it is not waited for); queued text is dropped.
    func cancel() {
        self.mutex.lock()
        self.cancelled = true
        self.items.removeAll()
        self.spares.removeAll()
        self.head = 0
        self.bytes = 0
        self.mutex.signal()
        self.mutex.unlock()
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
        self.mutex.lock()
        defer { self.mutex.unlock() }
        return self.cancelled
    }

    /// Queues `item`, waiting while the queue is full; dropped once cancelled.
    private func put(_ item: Item) {
        var size = 0
        if case .event(.text(let text, _), _) = item { size = text.readableBytes }
        self.mutex.lock()
        while !self.cancelled {
            let queued = self.items.count - self.head
            if queued == 0 || (queued < Self.maxItems && self.bytes + size <= Self.maxBytes) { break }
            self.mutex.wait()
        }
        if !self.cancelled {
            self.items.append(item)
            self.bytes += size
            self.mutex.signal()
        }
        self.mutex.unlock()
    }
}
