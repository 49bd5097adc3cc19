import Synchronization

/// The capture's clock during `import har`: set to each step's time in the HAR before the step is fed.
final class StepClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Self { .init(offset: self.offset + duration) }
        func duration(to other: Self) -> Duration { other.offset - self.offset }
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex<Duration>(.zero)

    var now: Instant { Instant(offset: self.current.withLock { $0 }) }
    var minimumResolution: Duration { .microseconds(1) }

    func set(microseconds: Int64) { self.current.withLock { $0 = .microseconds(microseconds) } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {}
}
