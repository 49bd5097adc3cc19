/// One way the live server's answers differ from the recording.
package struct ReplayDifference: Hashable, Sendable, CustomStringConvertible {
    package enum Kind: String, Hashable, Sendable {
        /// A recorded server packet did not arrive.
        case missing
        /// The server sent a packet the recording does not have.
        case extra
        /// The packet arrived but its payload or attachments differ.
        case changed
        /// The packet arrived, but before packets the recording has before it.
        case outOfOrder = "out of order"
        /// The session itself failed (handshake refused, connection lost).
        case session
    }

    package var kind: Kind
    /// The recorded session: its position in the recording and its recorded sid.
    package var sessionIndex: Int
    package var sid: String
    package var namespace: String?
    /// The recorded packet's index in its session (`ScriptPacket.index`), when there is one.
    package var packetIndex: Int?
    /// The recorded packet, rendered for people.
    package var recorded: String?
    /// The received packet, rendered for people.
    package var received: String?
    /// What differs.
    package var detail: String
    /// For a plain HTTP request (`replay run --http`): `http #N METHOD /path`, N counting the
    /// recording's plain HTTP requests from 0; the session fields are then unused.
    package var request: String?

    package init(
        kind: Kind,
        sessionIndex: Int,
        sid: String,
        namespace: String? = nil,
        packetIndex: Int? = nil,
        recorded: String? = nil,
        received: String? = nil,
        detail: String,
        request: String? = nil
    ) {
        self.kind = kind
        self.sessionIndex = sessionIndex
        self.sid = sid
        self.namespace = namespace
        self.packetIndex = packetIndex
        self.recorded = recorded
        self.received = received
        self.detail = detail
        self.request = request
    }

    /// A short title: `session 2 (bqqi…) / packet #7: changed`, or `http #3 POST /api/ingest: changed`.
    package var title: String {
        if let request = self.request { return "\(request): \(self.kind.rawValue)" }
        var s = "session \(self.sessionIndex) (\(self.sid))"
        if let ns = self.namespace { s += " \(ns)" }
        if let i = self.packetIndex { s += " packet #\(i)" }
        return s + ": \(self.kind.rawValue)"
    }

    /// The readable diff: title, detail, then `-` recorded and `+` received lines.
    package var description: String {
        var lines = [self.title + " — " + self.detail]
        if let r = self.recorded { lines.append("  - recorded: \(r)") }
        if let r = self.received { lines.append("  + received: \(r)") }
        return lines.joined(separator: "\n")
    }
}
