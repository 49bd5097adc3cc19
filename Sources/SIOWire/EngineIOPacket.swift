import NIOCore

/// The Engine.IO protocol revision, as announced by the `EIO=` query parameter of the handshake.
public enum EngineIOVersion: Int, Hashable, Sendable, CaseIterable {
    case v3 = 3
    case v4 = 4

    /// The Socket.IO protocol revision carried on top of this Engine.IO revision.
    public var socketIOVersion: SocketIOVersion {
        switch self {
        case .v3: return .v4
        case .v4: return .v5
        }
    }
}

/// The Engine.IO transport a packet travelled on.
public enum EngineIOTransport: String, Hashable, Sendable {
    case polling
    case websocket
}

/// The direction a packet or byte travelled in, seen from the proxy.
public enum Direction: String, Hashable, Sendable {
    /// From the client to the upstream server.
    case clientToServer = "c2s"
    /// From the upstream server to the client.
    case serverToClient = "s2c"
}

/// The seven Engine.IO packet types (the leading digit of a text packet).
public enum EngineIOPacketType: UInt8, Hashable, Sendable, CaseIterable {
    case open = 0
    case close = 1
    case ping = 2
    case pong = 3
    case message = 4
    case upgrade = 5
    case noop = 6

    /// The lower-case name used in recordings and the live view (`open`, `ping`, ...).
    public var name: String {
        switch self {
        case .open: return "open"
        case .close: return "close"
        case .ping: return "ping"
        case .pong: return "pong"
        case .message: return "message"
        case .upgrade: return "upgrade"
        case .noop: return "noop"
        }
    }

    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}

/// One Engine.IO packet.
///
/// `data` holds the bytes after the type: for a text packet the UTF-8 text that follows the type
/// digit (`"hello"` for `4hello`), for a binary packet the raw bytes of the message (without the
/// Engine.IO v3 type byte, without base64).
public struct EngineIOPacket: Hashable, Sendable {
    public var type: EngineIOPacketType
    public var isBinary: Bool
    public var data: ByteBuffer

    public init(type: EngineIOPacketType, isBinary: Bool = false, data: ByteBuffer = ByteBuffer()) {
        self.type = type
        self.isBinary = isBinary
        self.data = data
    }
}

/// How the packets of one HTTP long-polling body are framed.
public enum EngineIOPayloadEncoding: String, Hashable, Sendable {
    /// Engine.IO v4: packets joined by `\x1e`, binary packets as `b` + base64.
    case v4Text = "v4"
    /// Engine.IO v3 text: `<length in UTF-16 units>:<packet>` records; binary as `b<type>` + base64.
    case v3Text = "v3-text"
    /// Engine.IO v3 XHR2 binary: `<0|1><length digits><0xFF><packet>` records.
    case v3Binary = "v3-binary"
}

/// The result of decoding a long-polling body: the packets read up to the first damage, and the
/// damage, if any.
///
/// A decoder never throws a body away: what came before the damage is returned, and the error
/// says where (byte offset in the body) and why.
public struct EngineIOPayloadDecoding: Hashable, Sendable {
    public var packets: [EngineIOPacket]
    public var error: WireError?

    public init(packets: [EngineIOPacket], error: WireError?) {
        self.packets = packets
        self.error = error
    }
}
