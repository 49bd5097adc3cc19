/// The client side of a recording as one ordered list of steps across sessions, each with the
/// recorded server packets and HTTP responses that must have arrived before it runs.
///
/// Waiting on every server packet (and every answer to a plain HTTP request) recorded before a
/// step, in any session, keeps cause and effect across sessions (a broadcast caused by another
/// client, a `join_execution` that needs the execution a `POST /api/ingest` created) without
/// knowing which caused which, and it tolerates races: the order in which those arrive does not
/// matter.
struct ReplayTimeline {
    enum Action: Equatable {
        /// Open session `session` (index into `ReplayScript.sessions`).
        case open(session: Int)
        /// Send the session's packet with this index.
        case send(session: Int, packetIndex: Int)
        case close(session: Int)
        /// Make the recorded plain HTTP request `exchange` (index into the run's exchanges).
        case http(exchange: Int)
    }

    struct Step: Equatable {
        var time: Int64
        var action: Action
        /// How many entries of `expectations` must have arrived (or been given up) first.
        var prerequisites: Int
        /// A close the recorded server did (`websocket closed by server`, a close packet, a dropped
        /// transport): with `ReplayPacer.awaitServerCloses` the step waits for the live server to do it.
        var byServer = false

        /// The session the step belongs to, `nil` for an HTTP request.
        var session: Int? {
            switch self.action {
            case .open(let s), .send(let s, _), .close(let s): return s
            case .http: return nil
            }
        }

        var isSend: Bool { if case .send = self.action { true } else { false } }
    }

    struct Expectation: Equatable {
        enum What: Hashable {
            /// A recorded server packet of a session.
            case packet(session: Int, packetIndex: Int)
            /// The response to a replayed HTTP request.
            case response(exchange: Int)
        }

        var time: Int64
        var what: What
    }

    /// A plain HTTP exchange as the timeline needs it: when its request started and when its
    /// response ended, µs since the recording's start.
    struct HTTPSpan: Equatable {
        var start: Int64
        var end: Int64
    }

    private(set) var steps: [Step] = []
    /// Every recorded server packet of the selected sessions and every HTTP response, by time.
    private(set) var expectations: [Expectation] = []

    init(sessions: [ScriptSession], http: [HTTPSpan] = [], endTime: Int64) {
        // (step, order among steps at the same instant: opens, HTTP requests, sends, closes)
        var steps: [(Step, Int)] = []
        for session in sessions {
            let s = session.index
            // Client packets recorded after the close were in flight when the client closed (a
            // DISCONNECT written as the WebSocket closed): they go out just before the close.
            // Server packets recorded after it are not waited for (see `SessionMatcher`).
            let end = session.closedAt ?? max(endTime, session.packets.last?.time ?? session.openedAt)
            steps.append((Step(time: session.openedAt, action: .open(session: s), prerequisites: 0), 0))
            for packet in session.packets {
                if packet.direction == .clientToServer {
                    let time = min(packet.time, end)
                    steps.append((Step(time: time, action: .send(session: s, packetIndex: packet.index), prerequisites: 0), 2))
                } else if packet.time <= end {
                    self.expectations.append(Expectation(time: packet.time, what: .packet(session: s, packetIndex: packet.index)))
                }
            }
            let byServer = session.closeCause?.contains("server") == true
            steps.append((Step(time: end, action: .close(session: s), prerequisites: 0, byServer: byServer), 3))
        }
        for (i, span) in http.enumerated() {
            steps.append((Step(time: span.start, action: .http(exchange: i), prerequisites: 0), 1))
            self.expectations.append(Expectation(time: max(span.end, span.start), what: .response(exchange: i)))
        }
        steps.sort { a, b in
            let (x, y) = (Self.order(a.0.action), Self.order(b.0.action))
            return (a.0.time, a.1, x.0, x.1) < (b.0.time, b.1, y.0, y.1)
        }
        self.expectations.sort { a, b in
            let (x, y) = (Self.order(a.what), Self.order(b.what))
            return (a.time, x.0, x.1) < (b.time, y.0, y.1)
        }
        var k = 0
        self.steps = steps.map { entry in
            var step = entry.0
            while k < self.expectations.count && self.expectations[k].time < step.time { k += 1 }
            // A session's close also waits for its own packets recorded at the same instant.
            var n = k
            if case .close = step.action {
                while n < self.expectations.count && self.expectations[n].time <= step.time { n += 1 }
            }
            step.prerequisites = n
            return step
        }
    }

    private static func order(_ action: Action) -> (Int, Int) {
        switch action {
        case .open(let s), .close(let s): return (s, 0)
        case .send(let s, let i): return (s, i)
        case .http(let i): return (i, 0)
        }
    }

    private static func order(_ what: Expectation.What) -> (Int, Int) {
        switch what {
        case .packet(let s, let i): return (s, i)
        case .response(let i): return (Int.max, i)
        }
    }
}
