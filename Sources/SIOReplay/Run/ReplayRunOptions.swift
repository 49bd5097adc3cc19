import NIOCore
import SIORecording
import SIOWire

/// What `replay run` does: where to connect, pacing, which sessions, credentials, comparison.
public struct ReplayRunOptions: Sendable {
    public var host: String
    public var port: Int
    /// Pacing factor: 2 plays twice as fast as recorded. Ignored with `fast`.
    public var speed: Double
    /// Send each client packet as soon as the server packets recorded before it have arrived.
    public var fast: Bool
    /// Recorded sids (or session numbers from 0) to replay; empty: all.
    public var sessions: [String]
    /// CONNECT payload for every CONNECT whose recorded payload was redacted.
    public var auth: String?
    /// CONNECT payload per recorded sid or session number; wins over `auth`.
    public var sessionAuth: [String: String]
    /// CONNECT payloads for redacted CONNECTs from `--auth-file`, keyed `SESSION:/ns`, `SESSION`
    /// (number or recorded sid) or `/ns`, the most specific winning; wins over `auth`.
    public var authFile: [String: String]
    /// Handshake query values to set (replacing recorded ones, or added).
    public var query: [(String, String)]
    /// Use this transport instead of the recorded one (and do not upgrade).
    public var transport: EngineIOTransport?
    public var ignores: [JSONPath]
    /// How long to wait for what the recording says should have arrived before moving on.
    public var timeout: TimeAmount
    /// Report packets that arrive against the recorded order (per session and namespace).
    public var checkOrder: Bool
    /// Map server-issued ids (sids, socket ids) from recorded to live in comparisons and in the
    /// packets sent (see `IDMapping`).
    public var mapIDs: Bool
    /// Keep what went over the wire as records of a new recording (`ReplayRunResult.liveRecords`).
    public var recordLive: Bool

    public init(
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
        recordLive: Bool = false
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
    public func missingCredentials(in sessions: [ScriptSession]) -> [(session: ScriptSession, namespace: String)] {
        sessions.filter { self.selects($0) }.flatMap { session in
            session.packets.filter { Self.needsCredentials($0) && self.connectPayload(for: session, packet: $0) == nil }
                .map { (session, $0.namespace) }
        }
    }
}

/// The outcome of one replayed session.
public struct ReplaySessionResult: Sendable {
    public var session: ScriptSession
    /// The sid the live server issued, when the handshake succeeded.
    public var liveSID: String?
    public var differences: [ReplayDifference]
    /// Things that went wrong on the way that are not differences in themselves.
    public var problems: [String]
    /// Packets received from the live server.
    public var receivedCount: Int
    /// Wall time the session was open, µs.
    public var durationMicros: Int64
}

/// The outcome of a whole run.
public struct ReplayRunResult: Sendable {
    public var sessions: [ReplaySessionResult]
    /// Set when the run could not be done at all (target unreachable).
    public var error: String?
    /// For every client step sent on schedule: actual gap minus recorded gap (scaled), in ns.
    public var timingErrorsNanos: [Int64]
    /// With `recordLive`: the run as a recording's records, in time order.
    public var liveRecords: [Record] = []

    public var differenceCount: Int { self.sessions.reduce(0) { $0 + $1.differences.count } }
}
