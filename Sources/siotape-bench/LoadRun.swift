import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// What every client connection of one load run shares: the measurement window, the stop signal,
/// and the totals each connection hands in when it is done.
final class LoadRun: Sendable {
    struct Totals: Sendable {
        /// Acks received over the whole run (warm-up and drain included): the divisor of CPU per msg.
        var acks = 0
        /// Acks received inside the measurement window.
        var windowAcks = 0
        /// Round-trip times (event sent → ack received) inside the window, microseconds.
        var latencies: [UInt32] = []
        var failures: [String] = []
    }

    let payloads: Payloads
    let window: Int
    /// Whether connections only connect and stay idle (no events).
    let idle: Bool
    /// Rate-limited load: each connection sends one event per `pacing` (open loop, at most `window`
    /// in flight) instead of a new event per ack. `nil`: as fast as the acks come back.
    let pacing: TimeAmount?
    private let windowStart = Atomic<UInt64>(.max)
    private let windowEnd = Atomic<UInt64>(.max)
    private let stopped = Atomic<Bool>(false)
    private let totals = NIOLockedValueBox(Totals())
    /// Connections ready (namespace connected), and connections done.
    let ready = ConditionLock<Int>(value: 0)
    let done = ConditionLock<Int>(value: 0)
    /// The values of `ready` and `done`, each changed only while holding that condition lock.
    private final class Counts: @unchecked Sendable {
        var ready = 0
        var done = 0
    }
    private let counts = Counts()

    init(payloads: Payloads, window: Int, idle: Bool, pacing: TimeAmount? = nil) {
        self.payloads = payloads
        self.window = window
        self.idle = idle
        self.pacing = pacing
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    func startWindow(afterWarmup warmup: Double, duration: Double) -> (start: UInt64, end: UInt64) {
        let start = Self.now() + UInt64(warmup * 1e9)
        let end = start + UInt64(duration * 1e9)
        self.windowStart.store(start, ordering: .relaxed)
        self.windowEnd.store(end, ordering: .relaxed)
        return (start, end)
    }

    @inline(__always)
    func inWindow(_ time: UInt64) -> Bool {
        time >= self.windowStart.load(ordering: .relaxed) && time < self.windowEnd.load(ordering: .relaxed)
    }

    var isStopped: Bool { self.stopped.load(ordering: .relaxed) }

    func stop() { self.stopped.store(true, ordering: .relaxed) }

    func connectionReady() {
        self.ready.lock()
        self.counts.ready += 1
        self.ready.unlock(withValue: self.counts.ready)
    }

    /// A connection finished (drained after the stop, or failed); merges its figures.
    func connectionDone(acks: Int, windowAcks: Int, latencies: [UInt32], failure: String?) {
        self.totals.withLockedValue { totals in
            totals.acks += acks
            totals.windowAcks += windowAcks
            totals.latencies.append(contentsOf: latencies)
            if let failure { totals.failures.append(failure) }
        }
        self.done.lock()
        self.counts.done += 1
        self.done.unlock(withValue: self.counts.done)
    }

    var result: Totals { self.totals.withLockedValue { $0 } }
}

/// Per-connection bookkeeping of events in flight (ids are sequential, at most `window` in flight).
struct InFlight {
    private var sentAt: [UInt64]
    private let mask: UInt64
    private(set) var count = 0
    private(set) var nextID: UInt64 = 1
    var acks = 0
    var windowAcks = 0
    var latencies: [UInt32] = []

    init(window: Int) {
        var size = 1
        while size < window * 4 { size <<= 1 }
        self.sentAt = Array(repeating: 0, count: size)
        self.mask = UInt64(size - 1)
    }

    mutating func sent(at time: UInt64) -> UInt64 {
        let id = self.nextID
        self.nextID += 1
        self.sentAt[Int(id & self.mask)] = time
        self.count += 1
        return id
    }

    mutating func acked(_ id: UInt64, at time: UInt64, run: LoadRun) {
        guard id < self.nextID, self.nextID - id <= self.mask else { return }
        self.count -= 1
        self.acks += 1
        guard run.inWindow(time) else { return }
        self.windowAcks += 1
        let micros = (time &- self.sentAt[Int(id & self.mask)]) / 1_000
        self.latencies.append(UInt32(clamping: micros))
    }
}

/// `43<digits>...` → the ack id.
func ackID(of text: ByteBufferView) -> UInt64? {
    var index = text.startIndex
    guard text.count > 2, text[index] == UInt8(ascii: "4"), text[index + 1] == UInt8(ascii: "3") else { return nil }
    index += 2
    var id: UInt64 = 0
    let start = index
    while index < text.endIndex, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9") {
        id = id &* 10 &+ UInt64(text[index] - UInt8(ascii: "0"))
        index += 1
    }
    return index > start ? id : nil
}
