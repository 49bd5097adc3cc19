/// The client side of a recording as one ordered list of steps across sessions, each with the
/// recorded server packets that must have arrived before it runs.
///
/// Waiting on every server packet recorded before a step, in any session, keeps cause and effect
/// across sessions (a broadcast caused by another client) without knowing which caused which,
/// and it tolerates races: the order in which those packets arrive does not matter.
struct ReplayTimeline {
    enum Action: Equatable {
        case open
        /// Send the session's packet with this index.
        case send(packetIndex: Int)
        case close
    }

    struct Step: Equatable {
        var time: Int64
        /// Index into `ReplayScript.sessions`.
        var session: Int
        var action: Action
        /// How many entries of `expectations` must have arrived (or been given up) first.
        var prerequisites: Int
    }

    struct Expectation: Equatable {
        var time: Int64
        var session: Int
        var packetIndex: Int
    }

    private(set) var steps: [Step] = []
    /// Every recorded server packet of the selected sessions, by time.
    private(set) var expectations: [Expectation] = []

    init(sessions: [ScriptSession], endTime: Int64) {
        var steps: [(Step, Int)] = []
        for session in sessions {
            let s = session.index
            // Client packets recorded after the close were in flight when the client closed (a
            // DISCONNECT written as the WebSocket closed): they go out just before the close.
            // Server packets recorded after it are not waited for (see `SessionMatcher`).
            let end = session.closedAt ?? max(endTime, session.packets.last?.time ?? session.openedAt)
            steps.append((Step(time: session.openedAt, session: s, action: .open, prerequisites: 0), 0))
            for packet in session.packets {
                if packet.direction == .clientToServer {
                    let time = min(packet.time, end)
                    steps.append(
                        (Step(time: time, session: s, action: .send(packetIndex: packet.index), prerequisites: 0), 1)
                    )
                } else if packet.time <= end {
                    self.expectations.append(Expectation(time: packet.time, session: s, packetIndex: packet.index))
                }
            }
            steps.append((Step(time: end, session: s, action: .close, prerequisites: 0), 2))
        }
        steps.sort { a, b in
            (a.0.time, a.1, a.0.session, Self.packetOrder(a.0.action))
                < (b.0.time, b.1, b.0.session, Self.packetOrder(b.0.action))
        }
        self.expectations.sort { ($0.time, $0.session, $0.packetIndex) < ($1.time, $1.session, $1.packetIndex) }
        var k = 0
        self.steps = steps.map { entry in
            var step = entry.0
            while k < self.expectations.count && self.expectations[k].time < step.time { k += 1 }
            // A session's close also waits for its own packets recorded at the same instant.
            var n = k
            if step.action == .close {
                while n < self.expectations.count && self.expectations[n].time <= step.time { n += 1 }
            }
            step.prerequisites = n
            return step
        }
    }

    private static func packetOrder(_ action: Action) -> Int {
        if case .send(let i) = action { return i }
        return 0
    }
}
