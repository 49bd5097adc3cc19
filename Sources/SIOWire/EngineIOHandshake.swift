import NIOCore

/// The JSON object of an Engine.IO `open` packet: `{"sid":"…","upgrades":["websocket"],
/// "pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}` (v3 has no `maxPayload`).
///
/// Read on a `JSONCursor`: the capture needs the sid of every handshake it sees, replay the
/// timers and upgrades. Members it does not know are validated and skipped; a member of the wrong
/// type counts as absent.
public struct EngineIOHandshake: Hashable, Sendable {
    /// The session id; `nil` when the object has none (or an empty one).
    public var sid: String?
    /// The transports the server offers to upgrade to, in its order.
    public var upgrades: [String]
    /// Milliseconds between pings.
    public var pingInterval: Int?
    /// Milliseconds the server waits for a pong (v4) or a ping (v3).
    public var pingTimeout: Int?
    /// The largest payload the server accepts, in bytes (v4).
    public var maxPayload: Int?

    public init(
        sid: String?, upgrades: [String] = [], pingInterval: Int? = nil, pingTimeout: Int? = nil, maxPayload: Int? = nil
    ) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    /// Reads the handshake object of `bytes`; throws when they are not one JSON object.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(WireError) {
        self.init(sid: nil)
        var cursor = JSONCursor(bytes)
        try cursor.expect(UInt8(ascii: "{"))
        if !cursor.consume(UInt8(ascii: "}")) {
            repeat {
                let (key, _) = try cursor.memberKey()
                try self.readMember(UnsafeRawBufferPointer(rebasing: bytes[key]), &cursor)
            } while try cursor.continueContainer(closing: UInt8(ascii: "}"))
        }
        cursor.skipWhitespace()
        guard cursor.atEnd else { throw WireError("unexpected bytes after the JSON value", at: cursor.index) }
    }

    /// The handshake in `json`, `nil` when it is not one JSON object.
    public init?(json: ByteBuffer) {
        guard let parsed = json.withUnsafeReadableBytes({ try? EngineIOHandshake(parsing: $0) }) else { return nil }
        self = parsed
    }

    /// The handshake in `json`, `nil` when it is not one JSON object.
    public init?(json: String) {
        var text = json
        guard let parsed = text.withUTF8({ try? EngineIOHandshake(parsing: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    private mutating func readMember(_ key: UnsafeRawBufferPointer, _ cursor: inout JSONCursor) throws(WireError) {
        let start = cursor.index
        let kind = try cursor.skipValue()
        let value = start..<cursor.index
        switch String(decoding: key, as: UTF8.self) {
        case "sid" where kind == .string:
            var string = JSONCursor(cursor.bytes, at: start)
            let sid = try string.readString()
            self.sid = sid.isEmpty ? nil : sid
        case "upgrades" where kind == .array:
            var elements = JSONCursor(cursor.bytes, at: start + 1)
            var upgrades: [String] = []
            if !elements.consume(UInt8(ascii: "]")) {
                repeat {
                    elements.skipWhitespace()
                    if elements.peek() == UInt8(ascii: "\"") {
                        upgrades.append(try elements.readString())
                    } else {
                        try elements.skipValue(depth: 1)
                    }
                } while try elements.continueContainer(closing: UInt8(ascii: "]"))
            }
            self.upgrades = upgrades
        case "pingInterval" where kind == .number:
            self.pingInterval = Self.int(cursor.bytes, value)
        case "pingTimeout" where kind == .number:
            self.pingTimeout = Self.int(cursor.bytes, value)
        case "maxPayload" where kind == .number:
            self.maxPayload = Self.int(cursor.bytes, value)
        default:
            break
        }
    }

    private static func int(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        JSONCursor.int64(bytes, range).flatMap { Int(exactly: $0) }
    }
}
