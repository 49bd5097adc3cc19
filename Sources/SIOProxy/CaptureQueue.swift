import NIOCore
import SIOCapture
import SIORecording
import SIOWire
import Synchronization

/// The taps' work, off the event loops: what `ProxyConnection`s tell their `ConnectionTap`s is
/// queued with the time it happened, and a capture thread of lower priority decodes and records it.
///
/// Why: the capture must neither hold up the relay nor take the CPU a peer needs. Run on the event
/// loop, even after the flush, the tap's CPU (~20 µs per message while cold, at one connection)
/// ran on the core that a woken upstream or client wanted, and added 16-26 µs to every round trip
/// on two shared cores (`tools/bench/RESULTS.md`, session 9). The capture thread runs at a lower
/// priority (`Platform.lowerPriorityOfCurrentThread`), so a woken peer or event loop takes the core
/// from it, and in batches, with its code and tables warm; an event loop pays a lock and a copy
/// of the read's bytes per event.
///
/// **Order.** One queue for every connection. Whoever runs events (the capture thread, or an
/// event loop, below) holds `running` and takes the whole queue under it, so the records come out
/// in the order the events were queued, and a tap is used by one thread at a time. A connection's
/// events are queued from its one event loop, in the order they happened.
///
/// **Bounds.** An event loop that finds the queue over `Limits` (events, bytes held, or the oldest
/// event's age) runs it itself, unless the capture thread is running it at that moment; past
/// `hardFactor` times the limits it waits for the thread and then runs it. So a capture thread
/// that gets little CPU (the machine is saturated) costs bounded memory and delay, never records:
/// the event loops then do the capture, as they did before the queue. `maxAge` (100 ms) is far
/// below the recording's flush interval (1 s), so a recording killed with the proxy still loses at
/// most about its last flush interval.
///
/// **Large reads at once.** A read of at least `atOnceBytes` is run by its event loop at once,
/// uncopied, after whatever is queued (unless someone is running the queue at that moment: then it
/// is queued, and the next run takes it first). Bytes that waited in the socket long enough to
/// come in one large read mean that the proxy is behind and every core is busy: handing them to
/// another thread then only adds work (the copy, the queue, the hand-over between cores) and
/// frees no core for anyone. At saturation this took ~5% less CPU per message than queueing, and
/// at one connection, where a read is one message, nothing changes (`tools/bench/RESULTS.md`,
/// session 14).
///
/// **Waking.** While events arrive, the capture thread looks every `tick` (an event loop wakes it
/// early only when `wakeEvents` are waiting); after `idleTicks` empty looks it sleeps until the
/// next event signals it. An idle proxy has no thread waking up.
package final class CaptureQueue: @unchecked Sendable {
    // @unchecked: the mutable state below is guarded by `mutex`; the taps in `items` are run only
    // under `running`.

    package struct Limits: Sendable {
        /// Events queued before an event loop runs the queue itself, if nobody is running it.
        package var maxEvents = 512
        /// Bytes held by the queued events (copied, or their own buffers' storage) before an
        /// event loop runs the queue itself, if nobody is running it.
        package var maxBytes = 4 << 20
        /// Microseconds the oldest event may wait before an event loop runs the queue itself, if
        /// nobody is running it.
        package var maxAge: Int64 = 100_000
        /// Past `hardFactor` times a limit, an event loop waits for whoever runs the queue, then runs it.
        package var hardFactor = 4
        /// Events queued before an event loop wakes the capture thread ahead of its tick.
        package var wakeEvents = 128
        /// Microseconds between the capture thread's looks at the queue while events arrive.
        package var tick = 2_000
        /// Empty looks after which the capture thread sleeps until an event signals it.
        package var idleTicks = 50
        /// A read of at least this many bytes runs at once on its event loop instead of being
        /// queued (the proxy is behind: data waited in the socket).
        package var atOnceBytes = 512
        /// Whether events are queued at all: `false` runs each at once, on the event loop.
        package var deferred = true
        /// Whether a capture thread runs the queue. Without one (tests), it runs when an event
        /// loop finds it over its limits, and at `finish()`.
        package var captureThread = true
    }

    /// One connection's event.
    enum Work {
        case opened(peer: String)
        case event(ProxyConnectionStateMachine.TapEvent)
    }

    fileprivate struct Item {
        let tap: ConnectionTap
        let time: Int64
        let payload: Payload
    }

    /// An event as queued: the bytes of the common ones copied into the queue's arena (a read's
    /// buffer kept would make the event loop allocate a new one for its next read).
    fileprivate enum Payload {
        case copied(Copied, start: Int, count: Int)
        case work(Work)
    }

    fileprivate enum Copied {
        case webSocket(Direction)
        case requestBody
        case responseBody
    }

    private let hub: CaptureHub
    private let limits: Limits
    private let mutex = ConditionMutex()
    /// Guarded by `mutex`: events waiting, oldest first.
    private var items: [Item] = []
    /// Guarded by `mutex`: the bytes `items` copied (`Payload.copied`), from its reader index.
    private var arena = ByteBuffer()
    /// Guarded by `mutex`: bytes held by `items`' own buffers (`Payload.work`).
    private var bytes = 0
    /// Guarded by `mutex`: the capture thread waits for a signal, not for its tick.
    private var sleeping = false
    /// Guarded by `mutex`: the capture thread was signalled and has not taken the queue since.
    private var signalled = false
    /// Guarded by `mutex`: `finish()` was called; events run at once from now on.
    private var finished = false
    /// Held while events run; keeps the emptied array and arena of the last run for the next one.
    private let running = Mutex<([Item], ByteBuffer)>(([], ByteBuffer()))
    private let thread = Mutex<BackgroundThread?>(nil)

    package init(hub: CaptureHub, limits: Limits = .standard) {
        self.hub = hub
        self.limits = limits
        self.finished = !limits.deferred
        if limits.deferred && limits.captureThread {
            self.thread.withLock { $0 = BackgroundThread { self.runThread() } }
        }
    }

    /// The capture's clock, in microseconds: what an event is stamped with.
    func now() -> Int64 { self.hub.now() }

    /// Queues one event of `tap`'s connection, stamped now.
    func tell(_ tap: ConnectionTap, _ work: Work) {
        self.tell(tap, work, at: self.hub.now())
    }

    /// Queues one event of `tap`'s connection that happened at `time` (`now()` then). Bytes a
    /// connection read are stamped when they were read, before they were relayed: a frame stamped
    /// after its relay could be stamped after an answer it caused on another connection, read by
    /// another event loop in between.
    func tell(_ tap: ConnectionTap, _ work: Work, at time: Int64) {
        if work.readBytes >= self.limits.atOnceBytes,
            self.running.withLockIfAvailable({ self.runAtOnce(tap, work, at: time, spare: &$0) }) != nil
        {
            return
        }
        switch work {
        case .event(.webSocketBytes(let bytes, let direction)):
            self.queue(tap, time, copying: bytes, as: .webSocket(direction))
        case .event(.requestBody(let bytes)):
            self.queue(tap, time, copying: bytes, as: .requestBody)
        case .event(.responseBody(let bytes)):
            self.queue(tap, time, copying: bytes, as: .responseBody)
        default:
            let held = work.heldBytes
            self.mutex.lock()
            self.items.append(Item(tap: tap, time: time, payload: .work(work)))
            self.bytes += held
            self.queued(at: time)
        }
    }

    private func queue(_ tap: ConnectionTap, _ time: Int64, copying bytes: ByteBuffer, as copied: Copied) {
        self.mutex.lock()
        let start = self.arena.writerIndex - self.arena.readerIndex
        let count = self.arena.writeImmutableBuffer(bytes)
        self.items.append(Item(tap: tap, time: time, payload: .copied(copied, start: start, count: count)))
        self.queued(at: time)
    }

    /// After an event was appended, with the mutex held: releases it, having woken the capture
    /// thread if it should, and runs the queue here if it is over its limits.
    private func queued(at time: Int64) {
        let over = self.overLimits(at: time)
        if over == nil, self.sleeping || (self.items.count >= self.limits.wakeEvents && !self.signalled) {
            self.signalled = true
            self.mutex.signal()
        }
        self.mutex.unlock()
        switch over {
        case nil: break
        case .soft:
            // Whoever runs the queue now (the capture thread) takes these events too, soon: no
            // event loop waits for a thread of lower priority unless it must.
            self.runQueued(waiting: false)
        case .hard: self.runQueued(waiting: true)
        }
    }

    private enum Over { case soft, hard }

    /// Whether the queue is over its limits (hard: `hardFactor` times over). With the mutex held.
    private func overLimits(at time: Int64) -> Over? {
        if self.finished { return .hard }
        let count = self.items.count
        let bytes = self.bytes + self.arena.readableBytes
        let age = time - self.items[0].time
        let limits = self.limits
        guard count >= limits.maxEvents || bytes >= limits.maxBytes || age >= limits.maxAge else { return nil }
        let factor = limits.hardFactor
        if count >= factor * limits.maxEvents || bytes >= factor * limits.maxBytes
            || age >= Int64(factor) * limits.maxAge
        {
            return .hard
        }
        return .soft
    }

    /// Queues a WebSocket read of `tap`'s connection, as `ProxyConnection` does (for `siotape-bench capture --queue`).
    package func tellWebSocketBytes(_ tap: ConnectionTap, _ bytes: ByteBuffer, direction: Direction) {
        self.tell(tap, .event(.webSocketBytes(bytes, direction)))
    }

    /// Runs what is queued and stops the capture thread; events told afterwards run at once. Call
    /// once no event loop tells events any more (after the event loops have shut down), before the
    /// recording is closed.
    package func finish() {
        self.mutex.lock()
        self.finished = true
        self.mutex.signal()
        self.mutex.unlock()
        let thread = self.thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        thread?.join()
        self.runQueued()
    }

    /// Runs every queued event, in order; returns how many ran (`nil`: someone else is running
    /// the queue, and `waiting` was false).
    @discardableResult
    private func runQueued(waiting: Bool = true) -> Int? {
        if waiting {
            return self.running.withLock { self.runQueued(spare: &$0) }
        }
        return self.running.withLockIfAvailable { self.runQueued(spare: &$0) }
    }

    /// Runs what is queued, then `work`, its bytes uncopied; with `running` held.
    private func runAtOnce(_ tap: ConnectionTap, _ work: Work, at time: Int64, spare: inout ([Item], ByteBuffer)) {
        _ = self.runQueued(spare: &spare)
        work.run(on: tap, at: time)
    }

    private func runQueued(spare: inout ([Item], ByteBuffer)) -> Int {
        self.mutex.lock()
        if self.items.isEmpty {
            self.signalled = false
            self.mutex.unlock()
            return 0
        }
        var (batch, arena) = spare
        spare = ([], ByteBuffer())
        swap(&batch, &self.items)
        swap(&arena, &self.arena)
        self.bytes = 0
        self.signalled = false
        self.mutex.unlock()
        // By index: `for item in batch` would copy every item out of the array first.
        for index in batch.indices {
            batch[index].run(arena: arena)
        }
        let count = batch.count
        batch.removeAll(keepingCapacity: true)
        arena.clear()
        spare = (
            batch.capacity <= 2 * self.limits.hardFactor * self.limits.maxEvents ? batch : [],
            arena.capacity <= self.limits.maxBytes ? arena : ByteBuffer()
        )
        return count
    }

    private func runThread() {
        Platform.lowerPriorityOfCurrentThread()
        var emptyLooks = 0
        while true {
            emptyLooks = self.runQueued()! == 0 ? emptyLooks + 1 : 0
            self.mutex.lock()
            if self.finished && self.items.isEmpty {
                self.mutex.unlock()
                return
            }
            if !self.finished && self.items.count < self.limits.wakeEvents {
                if self.items.isEmpty && emptyLooks >= self.limits.idleTicks {
                    self.sleeping = true
                    while self.items.isEmpty && !self.finished { self.mutex.wait() }
                    self.sleeping = false
                    emptyLooks = 0
                }
                // Let a few events gather: taken one at a time, each would cost a wake-up.
                if !self.finished && self.items.count < self.limits.wakeEvents {
                    self.mutex.wait(microseconds: self.limits.tick)
                }
            }
            self.mutex.unlock()
        }
    }
}

extension CaptureQueue.Limits {
    /// The limits `record` runs with.
    package static let standard = Self()
}

extension CaptureQueue.Work {
    /// The bytes a read brought, for a read's event (0 for the others).
    fileprivate var readBytes: Int {
        switch self {
        case .event(.webSocketBytes(let bytes, _)), .event(.requestBody(let bytes)), .event(.responseBody(let bytes)):
            bytes.readableBytes
        default: 0
        }
    }

    /// What the event's buffers hold of memory, for the queue's bound: the whole storage a buffer
    /// shares (a read's), not only the bytes the event needs.
    fileprivate var heldBytes: Int {
        switch self {
        case .opened: 64
        case .event(let event):
            switch event {
            case .webSocketBytes(let bytes, _), .requestBody(let bytes), .responseBody(let bytes),
                .httpUndecodable(let bytes, _, _, _):
                bytes.storageCapacity
            case .requestHead(let head), .responseHead(let head), .webSocketAccepted(let head):
                head.raw.storageCapacity
            case .requestEnd, .responseEnd, .upstreamUnreachable, .connectionClosed:
                64
            }
        }
    }
}

extension CaptureQueue.Item {
    /// Tells the tap the event, with the time it happened; `arena` holds the copied bytes.
    fileprivate func run(arena: ByteBuffer) {
        switch self.payload {
        case .copied(let copied, let start, let count):
            let bytes = arena.getSlice(at: arena.readerIndex + start, length: count)!
            switch copied {
            case .webSocket(let direction): self.tap.webSocketBytes(bytes, direction: direction, at: self.time)
            case .requestBody: self.tap.requestBody(bytes, at: self.time)
            case .responseBody: self.tap.responseBody(bytes, at: self.time)
            }
        case .work(let work): work.run(on: self.tap, at: self.time)
        }
    }
}

extension CaptureQueue.Work {
    /// Tells `tap` the event, with the time it happened.
    fileprivate func run(on tap: ConnectionTap, at time: Int64) {
        switch self {
        case .opened(let peer): tap.connectionOpened(peer: peer, at: time)
        case .event(let event):
            switch event {
            case .requestHead(let head): tap.requestHead(head, at: time)
            case .requestBody(let bytes): tap.requestBody(bytes, at: time)
            case .requestEnd: tap.requestEnd(at: time)
            case .responseHead(let head): tap.responseHead(head, at: time)
            case .webSocketAccepted(let head): tap.webSocketAccepted(head, at: time)
            case .responseBody(let bytes): tap.responseBody(bytes, at: time)
            case .responseEnd: tap.responseEnd(at: time)
            case .webSocketBytes(let bytes, let direction): tap.webSocketBytes(bytes, direction: direction, at: time)
            case .httpUndecodable(let bytes, let reason, let offset, let direction):
                tap.httpUndecodable(bytes, reason: reason, offset: offset, direction: direction, at: time)
            case .upstreamUnreachable(let reason): tap.upstreamUnreachable(reason: reason, at: time)
            case .connectionClosed(let cause): tap.connectionClosed(cause: cause, at: time)
            }
        }
    }
}
