import NIOCore
import SIORecording
import SIOWire

/// What `replay run` does: where to connect, pacing, which sessions, credentials, comparison.
package struct ReplayRunOptions: Sendable {
    package var host: String
    package var port: Int
    /// Pacing factor: 2 plays twice as fast as recorded. Ignored with `fast`.
    package var speed: Double
    /// Send each client packet as soon as the server packets recorded before it have arrived.
    package var fast: Bool
    /// Recorded sids (or session numbers from 0) to replay; empty: all.
    package var sessions: [String]
    /// CONNECT payload for every CONNECT whose recorded payload was redacted.
    package var auth: String?
    /// CONNECT payload per recorded sid or session number; wins over `auth`.
    package var sessionAuth: [String: String]
    /// CONNECT payloads for redacted CONNECTs from `--auth-file`, keyed `SESSION:/ns`, `SESSION`
    /// (number or recorded sid) or `/ns`, the most specific winning; wins over `auth`.
    package var authFile: [String: String]
    /// Handshake query values to set (replacing recorded ones, or added).
    package var query: [(String, String)]
    /// Use this transport instead of the recorded one (and do not upgrade).
    package var transport: EngineIOTransport?
    package var ignores: [JSONPath]
    /// How long to wait for what the recording says should have arrived before moving on.
    package var timeout: TimeAmount
    /// Report packets that arrive against the recorded order (per session and namespace).
    package var checkOrder: Bool
    /// Map server-issued ids (sids, socket ids) from recorded to live in comparisons and in the
    /// packets sent (see `IDMapping`).
    package var mapIDs: Bool
    /// Keep what went over the wire as records of a new recording (`ReplayRunResult.liveRecords`).
    package var recordLive: Bool
    /// What fills the redacted values of replayed plain HTTP requests (`--http`).
    package var httpCredentials: HTTPCredentials

    package init(
        host: String,
        port: Int,
        speed: Double = 1,
        fast: Bool = false,
        sessions: [String] = [],
        auth: String? = nil,
        sessionAuth: [String: String] = [:],
        authFile: [String: String] = [:],
        query: [(String, String)] = [],
        transport: EngineIOTransport? = nil,
        ignores: [JSONPath] = [],
        timeout: TimeAmount = .seconds(5),
        checkOrder: Bool = true,
        mapIDs: Bool = true,
        recordLive: Bool = false,
        httpCredentials: HTTPCredentials = HTTPCredentials()
    ) {
        self.host = host
        self.port = port
        self.speed = speed
        self.fast = fast
        self.sessions = sessions
        self.auth = auth
        self.sessionAuth = sessionAuth
        self.authFile = authFile
        self.query = query
        self.transport = transport
        self.ignores = ignores
        self.timeout = timeout
        self.checkOrder = checkOrder
        self.mapIDs = mapIDs
        self.recordLive = recordLive
        self.httpCredentials = httpCredentials
    }

    /// Whether `session` is one of those asked for.
    func selects(_ session: ScriptSession) -> Bool {
        self.sessions.isEmpty || self.sessions.contains(session.sid) || self.sessions.contains(String(session.index))
    }

    /// The CONNECT payload to send instead of the recorded one, if any.
    func connectPayload(for session: ScriptSession, packet: ScriptPacket) -> String? {
        if let own = self.sessionAuth[session.sid] ?? self.sessionAuth[String(session.index)] { return own }
        guard Self.needsCredentials(packet) else { return nil }
        let ns = packet.namespace
        for key in ["\(session.index):\(ns)", "\(session.sid):\(ns)", String(session.index), session.sid, ns] {
            if let payload = self.authFile[key] { return payload }
        }
        return self.auth
    }

    /// Whether `packet` is a client CONNECT whose payload the recording redacted.
    static func needsCredentials(_ packet: ScriptPacket) -> Bool {
        packet.direction == .clientToServer && packet.type == .connect && packet.redacted
            && packet.dataText?.contains("[redacted]") == true
    }

    /// The redacted CONNECTs of `sessions` that nothing replaces: `(session, namespace)`.
    package func missingCredentials(in sessions: [ScriptSession]) -> [(session: ScriptSession, namespace: String)] {
        sessions.filter { self.selects($0) }.flatMap { session in
            session.packets.filter { Self.needsCredentials($0) && self.connectPayload(for: session, packet: $0) == nil }
                .map { (session, $0.namespace) }
        }
    }
}

/// The outcome of one replayed session.
package struct ReplaySessionResult: Sendable {
    package var session: ScriptSession
    /// The sid the live server issued, when the handshake succeeded.
    package var liveSID: String?
    package var differences: [ReplayDifference]
    /// Things that went wrong on the way that are not differences in themselves.
    package var problems: [String]
    /// Packets received from the live server.
    package var receivedCount: Int
    /// Wall time the session was open, µs.
    package var durationMicros: Int64
}

/// The outcome of one replayed plain HTTP request (`replay run --http`).
package struct ReplayHTTPResult: Sendable {
    /// The request's number among the recording's plain HTTP requests, from 0.
    package var index: Int
    package var exchange: RecordedHTTPExchange
    /// The live status, `nil` when no answer came.
    package var status: Int?
    package var differences: [ReplayDifference]
    /// Request to end of answer, µs.
    package var durationMicros: Int64

    /// `http #3 POST /api/ingest`.
    package var name: String { "http #\(self.index) \(self.exchange.method) \(self.exchange.path)" }
}

/// The outcome of a whole run.
package struct ReplayRunResult: Sendable {
    package var sessions: [ReplaySessionResult]
    /// Set when the run could not be done at all (target unreachable).
    package var error: String?
    /// For every client step sent on schedule: actual gap minus recorded gap (scaled), in ns.
    package var timingErrorsNanos: [Int64]
    /// With `recordLive`: the run as a recording's records, in time order.
    package var liveRecords: [Record] = []
    /// With `--http`: the replayed plain HTTP requests, in recorded order.
    package var http: [ReplayHTTPResult] = []

    package var differenceCount: Int {
        self.sessions.reduce(0) { $0 + $1.differences.count } + self.http.reduce(0) { $0 + $1.differences.count }
    }
}
