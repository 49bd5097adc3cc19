/// How `replay serve` behaves.
package struct ServeConfiguration: Hashable, Sendable {
    /// How a live client session is paired with a recorded one.
    package enum Matching: String, Hashable, Sendable, CaseIterable {
        /// Every recorded session consistent with what the client has sent so far, narrowed as its
        /// packets diverge; recorded order where the recording cannot tell them apart.
        case auto
        /// The next recorded session not served yet, in recorded order.
        case order
        /// The first unserved recorded session whose client connected to the same namespace first.
        case namespace
        /// Like `namespace`, and the CONNECT `auth` payload has the same keys (values too when the
        /// recording is not redacted).
        case auth
        /// The first unserved recorded session whose first client event has the same name.
        case events
    }

    /// What to do with a client packet that has no counterpart in the recording.
    package enum UnmatchedPolicy: String, Hashable, Sendable, CaseIterable {
        /// Report it on stderr and go on.
        case ignore
        /// Report it and close that client's session.
        case close
        /// Report it, go on, and exit 1 at the end.
        case fail
    }

    package var host: String
    package var port: Int
    /// Recorded delays are divided by this.
    package var speed: Double
    /// Send everything as soon as its trigger has happened (no recorded delays).
    package var fast: Bool
    /// Serve only these recorded sessions (Engine.IO sids), in recorded order; empty: all.
    package var sessions: [String]
    package var matching: Matching
    package var onUnmatched: UnmatchedPolicy
    /// Client actions at most this far apart from a server action may have caused it.
    package var causalityWindowMicros: Int64
    /// Heartbeat settings announced in the handshake and enforced live.
    package var pingIntervalMillis: Int64
    package var pingTimeoutMillis: Int64
    package var maxPayload: Int
    /// Bodies for plain HTTP requests, by `METHOD /path`; several for one key are used in turn.
    package var httpBodies: [String: [String]]
    /// Stop once every recorded session has been served and every client has gone.
    package var exitWhenDone: Bool
    /// An HTTP connection without a complete request head for this long is closed.
    package var headTimeoutMillis: Int64 = 60_000
    /// Map the recorded server-issued ids (sids, socket ids) to the live ones in the packets sent
    /// and in those compared (`IDMapping`); off: recorded payloads go out as recorded.
    package var mapIDs = true

    package init(
        host: String = "127.0.0.1", port: Int = 8080, speed: Double = 1, fast: Bool = false, sessions: [String] = [],
        matching: Matching = .auto, onUnmatched: UnmatchedPolicy = .ignore,
        causalityWindowMicros: Int64 = ServePlan.defaultWindowMicros, pingIntervalMillis: Int64 = 25_000,
        pingTimeoutMillis: Int64 = 20_000, maxPayload: Int = 1_000_000, httpBodies: [String: [String]] = [:],
        exitWhenDone: Bool = true
    ) {
        self.host = host
        self.port = port
        self.speed = speed
        self.fast = fast
        self.sessions = sessions
        self.matching = matching
        self.onUnmatched = onUnmatched
        self.causalityWindowMicros = causalityWindowMicros
        self.pingIntervalMillis = pingIntervalMillis
        self.pingTimeoutMillis = pingTimeoutMillis
        self.maxPayload = maxPayload
        self.httpBodies = httpBodies
        self.exitWhenDone = exitWhenDone
    }

    /// A recorded delay as it is replayed.
    func scaled(_ delay: Int64) -> Int64 {
        if self.fast { return 0 }
        return Int64((Double(delay) / self.speed).rounded())
    }
}
