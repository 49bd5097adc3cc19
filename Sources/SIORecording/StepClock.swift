import Synchronization

/// A clock moved by hand: the capture's clock during `import har` (set to each step's time in the
/// HAR before the step is fed), and the clock of tests that say when things happened (the
/// recording writer's flush interval, the capture's times).
package final class StepClock: Clock, Sendable {
    package struct Instant: InstantProtocol {
        var offset: Duration
        package func advanced(by duration: Duration) -> Self { .init(offset: self.offset + duration) }
        package func duration(to other: Self) -> Duration { other.offset - self.offset }
        package static func < (lhs: Self, rhs: Self) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex<Duration>(.zero)

    package init() {}

    package var now: Instant { Instant(offset: self.current.withLock { $0 }) }
    package var minimumResolution: Duration { .microseconds(1) }

    package func set(_ offset: Duration) { self.current.withLock { $0 = offset } }

    package func set(microseconds: Int64) { self.set(.microseconds(microseconds)) }

    package func advance(by duration: Duration) { self.current.withLock { $0 += duration } }

    package func sleep(until deadline: Instant, tolerance: Duration?) async throws {}
}
