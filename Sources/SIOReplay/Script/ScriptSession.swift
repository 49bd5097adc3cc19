import SIORecording
import SIOWire

/// One recorded Engine.IO session with its Socket.IO packets, as replay needs it.
package struct ScriptSession: Hashable, Sendable {
    /// Position of the session in the recording (by open time), from 0.
    package var index: Int
    /// The Engine.IO sid the recorded server issued.
    package var sid: String
    package var engineIOVersion: EngineIOVersion
    /// The transport of the handshake request.
    package var initialTransport: EngineIOTransport
    /// When the client completed the polling→WebSocket upgrade, `nil` when it did not.
    package var upgradedAt: Int64?
    /// The handshake request's path without the query (`/socket.io/`).
    package var path: String
    /// The handshake query in wire order; redacted values stay `[redacted]`.
    package var query: [Record.KeyValue]
    /// Selected request headers of the handshake.
    package var headers: [Record.KeyValue]
    /// The server's handshake JSON object, verbatim.
    package var handshake: String
    /// Microseconds since the recording's start when the handshake was seen.
    package var openedAt: Int64
    /// When the session ended, `nil` when the recording ends with the session still open.
    package var closedAt: Int64?
    /// Why it ended (`client close packet`, `websocket closed by server`, ...), when it did.
    package var closeCause: String?
    /// The Socket.IO packets of both directions, in recorded order; `packets[i].index == i`.
    package var packets: [ScriptPacket]
    /// The time of the last record of this session (packet, close, or anything else with its sid).
    package var lastActivityAt: Int64

    package init(
        index: Int,
        sid: String,
        engineIOVersion: EngineIOVersion,
        initialTransport: EngineIOTransport,
        upgradedAt: Int64? = nil,
        path: String,
        query: [Record.KeyValue],
        headers: [Record.KeyValue] = [],
        handshake: String,
        openedAt: Int64,
        closedAt: Int64? = nil,
        closeCause: String? = nil,
        packets: [ScriptPacket] = [],
        lastActivityAt: Int64? = nil
    ) {
        self.index = index
        self.sid = sid
        self.engineIOVersion = engineIOVersion
        self.initialTransport = initialTransport
        self.upgradedAt = upgradedAt
        self.path = path
        self.query = query
        self.headers = headers
        self.handshake = handshake
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.closeCause = closeCause
        self.packets = packets
        self.lastActivityAt = lastActivityAt ?? openedAt
    }

    /// Whether the client upgraded from polling to WebSocket.
    package var upgraded: Bool { self.upgradedAt != nil }

    /// The packets the client sent.
    package var clientPackets: [ScriptPacket] { self.packets.filter { $0.direction == .clientToServer } }

    /// The packets the server sent.
    package var serverPackets: [ScriptPacket] { self.packets.filter { $0.direction == .serverToClient } }

    /// The namespaces the packets use, in order of first appearance.
    package var namespaces: [String] {
        var seen: [String] = []
        for packet in self.packets where !seen.contains(packet.namespace) { seen.append(packet.namespace) }
        return seen
    }

    /// The recorded handshake's `pingInterval` in milliseconds, when it has one.
    package var pingIntervalMillis: Int? { EngineIOHandshake(json: self.handshake)?.pingInterval }

    /// The recorded handshake's `pingTimeout` in milliseconds, when it has one.
    package var pingTimeoutMillis: Int? { EngineIOHandshake(json: self.handshake)?.pingTimeout }

    /// A query value of the handshake, the first with that name.
    package func queryValue(_ name: String) -> String? {
        self.query.first { $0.name == name }?.value
    }
}
