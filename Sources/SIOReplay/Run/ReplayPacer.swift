/// When each step of a `ReplayTimeline` runs, as a plain state machine (no clock, no I/O): the
/// runner tells it what happened (a session opened or ended, a recorded server packet or an HTTP
/// response arrived) and asks it, with the current time, what to do next.
///
/// A step runs when (1) its recorded gap to the previous step has passed (scaled by `speed`; not
/// with `fast`), and (2) everything recorded before it has arrived, or `timeout` has passed since
/// it was due (what did not arrive is then given up, not waited for again). A server packet that a
/// step of another session gave up is still awaited by the later steps of its own session: across
/// sessions a recording's order can be wrong (an imported HAR stamps each socket on its own
/// baseline, so a broadcast can precede the client packet that caused it; the step then waits in
/// vain), within a session it is not, and a client must not close before what its server sent
/// first. With
/// `awaitServerCloses` (replay run `--http`, which replays what made the server end a session, such
/// as an admin `POST`), a session the recorded server ended is closed when the live server ends it,
/// or after `timeout` (reported). Times are nanoseconds on any monotonic clock.
struct ReplayPacer {
    enum Decision: Equatable {
        /// Run this step now.
        case run(ReplayTimeline.Step)
        /// The step waited `timeout` for what was recorded before it, which is given up; ask again.
        /// `sessionNotOpen`: the step is a send of a session that never opened, which the runner
        /// reports and ends. `serverDidNotClose`: the step is a close the recorded server did and
        /// the live one has not, which the runner reports.
        case gaveUp(ReplayTimeline.Step, sessionNotOpen: Bool, serverDidNotClose: Bool = false)
        /// Nothing to do before this time; ask again then, or earlier when something arrives while
        /// `isWaitingForArrivals`.
        case wait(until: Int64)
        /// Every step has run.
        case finished
    }

    let timeline: ReplayTimeline
    let speed: Double
    let fast: Bool
    let timeoutNanos: Int64
    let awaitServerCloses: Bool
    /// Sessions whose close by the server was waited for in vain.
    private var closeGivenUp = Set<Int>()
    /// The next step to run.
    private(set) var next = 0
    /// Expectations before this index have arrived or were given up.
    private var satisfied = 0
    private var givenUp = Set<Int>()
    /// Per session: its server packets (indices into `expectations`) that a step of another session
    /// gave up, which its own steps still wait for.
    private var owed: [Int: Set<Int>] = [:]
    private var waitingSince: Int64?
    private var lastStep: (recorded: Int64, actual: Int64)?
    private var opened = Set<Int>()
    private var ended = Set<Int>()
    private var arrived = Set<ReplayTimeline.Expectation.What>()
    /// For every send that went out on schedule: actual gap minus recorded gap (scaled), in ns.
    private(set) var timingErrors: [Int64] = []

    init(
        timeline: ReplayTimeline, speed: Double = 1, fast: Bool = false, timeoutNanos: Int64,
        awaitServerCloses: Bool = false
    ) {
        self.timeline = timeline
        self.awaitServerCloses = awaitServerCloses
        self.speed = speed
        self.fast = fast
        self.timeoutNanos = timeoutNanos
    }

    /// Whether the current step waits for something to arrive (rather than for its time).
    var isWaitingForArrivals: Bool { self.waitingSince != nil }

    // MARK: - Events

    mutating func sessionOpened(_ session: Int) { self.opened.insert(session) }

    /// The session ended: its recorded packets are no longer waited for.
    mutating func sessionEnded(_ session: Int) { self.ended.insert(session) }

    /// A recorded server packet was paired with a live one, or an HTTP response came.
    mutating func arrived(_ what: ReplayTimeline.Expectation.What) { self.arrived.insert(what) }

    // MARK: - Deciding

    mutating func next(now: Int64) -> Decision {
        guard self.next < self.timeline.steps.count else { return .finished }
        let step = self.timeline.steps[self.next]
        let due = self.due(step)
        if now < due { return .wait(until: due) }
        if !self.isReady(for: step) {
            let since = self.waitingSince ?? now
            self.waitingSince = since
            guard now >= since + self.timeoutNanos else { return .wait(until: since + self.timeoutNanos) }
            for i in self.satisfied..<max(self.satisfied, step.prerequisites) {
                self.givenUp.insert(i)
                if case .packet(let s, _) = self.timeline.expectations[i].what, s != step.session,
                    !self.hasArrived(self.timeline.expectations[i].what)
                {
                    self.owed[s, default: []].insert(i)
                }
            }
            // Its own session's packets that other sessions gave up are given up now as well.
            if let s = step.session { self.owed[s] = self.owed[s]?.filter { $0 >= step.prerequisites } }
            self.waitingSince = nil
            var notOpen = false
            var notClosed = false
            switch step.action {
            case .send(let s, _):
                notOpen = !self.opened.contains(s) && !self.ended.contains(s)
            case .close(let s) where self.awaitsClose(step, s):
                notClosed = true
                self.closeGivenUp.insert(s)
            default:
                break
            }
            return .gaveUp(step, sessionNotOpen: notOpen, serverDidNotClose: notClosed)
        }
        let waited = self.waitingSince != nil
        self.waitingSince = nil
        if !waited, !self.fast, step.isSend, let last = self.lastStep {
            let recordedGap = Double(step.time - last.recorded) * 1000 / self.speed
            self.timingErrors.append(now - last.actual - Int64(recordedGap))
        }
        self.lastStep = (step.time, now)
        self.next += 1
        return .run(step)
    }

    private func due(_ step: ReplayTimeline.Step) -> Int64 {
        guard !self.fast, let last = self.lastStep else { return .min }
        let gap = Double(max(0, step.time - last.recorded)) * 1000 / self.speed
        return last.actual + Int64(gap)
    }

    private mutating func isReady(for step: ReplayTimeline.Step) -> Bool {
        while self.satisfied < step.prerequisites {
            let what = self.timeline.expectations[self.satisfied].what
            guard self.givenUp.contains(self.satisfied) || self.hasArrived(what) else { return false }
            self.satisfied += 1
        }
        if let s = step.session, var owed = self.owed[s] {
            owed = owed.filter { !self.hasArrived(self.timeline.expectations[$0].what) }
            self.owed[s] = owed
            guard !owed.contains(where: { $0 < step.prerequisites }) else { return false }
        }
        switch step.action {
        case .send(let s, _): return self.opened.contains(s) || self.ended.contains(s)
        case .close(let s) where self.awaitsClose(step, s): return self.ended.contains(s)
        default: return true
        }
    }

    /// Whether the close step still waits for the live server to end the session.
    private func awaitsClose(_ step: ReplayTimeline.Step, _ session: Int) -> Bool {
        self.awaitServerCloses && step.byServer && self.opened.contains(session) && !self.closeGivenUp.contains(session)
    }

    private func hasArrived(_ what: ReplayTimeline.Expectation.What) -> Bool {
        if case .packet(let s, _) = what, self.ended.contains(s) { return true }
        return self.arrived.contains(what)
    }
}
