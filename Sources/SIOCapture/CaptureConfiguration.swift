/// What the capture decodes and what it hides.
public struct CaptureConfiguration: Sendable {
    /// Replace `Authorization`/`Cookie`/`Set-Cookie` header values, CONNECT auth values and
    /// token-like query values with `[redacted]`.
    public var redactCredentials: Bool = true
    /// Polling bodies larger than this are not decoded (recorded as a note and the body's head).
    public var maxBodyBytes: Int = 16 << 20
    /// `--body-limit`: bytes kept of each body of an HTTP exchange that is not Engine.IO (`body`
    /// records); past it the head is kept with the full size. 0 records no such bodies.
    public var bodyLimit: Int = 1 << 20
    /// `--redact NAME`: body member and form field names redacted besides `BodyRedactor.defaultNames`.
    public var redactNames: [String] = []
    /// WebSocket messages larger than this (after inflation) are not decoded; also the inflate cap
    /// and the cap on the attachments a Socket.IO packet may hold while it waits for the rest.
    public var maxWebSocketMessageBytes: Int = 16 << 20
    /// Sessions tracked at once; past this the least recently active session is closed with cause
    /// `evicted`, so a proxy whose clients vanish without closing keeps bounded memory.
    public var maxSessions: Int = 10_000
    /// Events waiting for their ack, per session; past this the oldest is forgotten.
    public var maxPendingAcksPerSession: Int = 1_024
    /// How binary Engine.IO messages are read (`record --parser`).
    public var parser: Parser = .auto

    public init() {}

    /// Which Socket.IO parser to decode with.
    public enum Parser: String, Sendable, CaseIterable {
        /// Per session: msgpack once a binary message decodes as a msgpack packet in a session that
        /// has sent no text Socket.IO packet; the default parser otherwise.
        case auto
        /// socket.io-parser only: binary messages are attachments.
        case `default`
        /// socket.io-msgpack-parser only: every binary message is a msgpack packet.
        case msgpack
    }
}
