import NIOCore

/// The Socket.IO protocol revision: v5 rides on Engine.IO v4, v4 on Engine.IO v3.
public enum SocketIOVersion: Int, Hashable, Sendable {
    case v4 = 4
    case v5 = 5
}

/// The seven Socket.IO packet types. In Socket.IO v4 type 4 is `ERROR`; it is reported as
/// `connectError` for both revisions.
public enum SocketIOPacketType: UInt8, Hashable, Sendable, CaseIterable {
    case connect = 0
    case disconnect = 1
    case event = 2
    case ack = 3
    case connectError = 4
    case binaryEvent = 5
    case binaryAck = 6

    /// The upper-case name used in recordings and the live view (`EVENT`, `BINARY_ACK`, ...).
    public var name: String {
        switch self {
        case .connect: return "CONNECT"
        case .disconnect: return "DISCONNECT"
        case .event: return "EVENT"
        case .ack: return "ACK"
        case .connectError: return "CONNECT_ERROR"
        case .binaryEvent: return "BINARY_EVENT"
        case .binaryAck: return "BINARY_ACK"
        }
    }

    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// Whether packets of this type are followed by binary attachments.
    public var carriesAttachments: Bool { self == .binaryEvent || self == .binaryAck }
}

/// One decoded Socket.IO packet (the text of an Engine.IO `message` packet), with its binary
/// attachments once they have all arrived.
///
/// The JSON payload is kept verbatim: `json` holds exactly the bytes of the wire text from the
/// first byte of the JSON value to the end, never re-serialised.
public struct SocketIOPacket: Hashable, Sendable {
    public var type: SocketIOPacketType
    /// The namespace, `/` when the wire text omits it.
    public var namespace: String
    /// The ack id, when the sender asked for (or this packet is) an acknowledgement.
    public var ackID: UInt64?
    /// The number of attachments the header announced (`452-...` announces 2).
    public var attachmentCount: Int
    /// The JSON payload exactly as on the wire, or `nil` when the packet has none.
    public var json: ByteBuffer? {
        didSet { self.jsonIsCompact = false }
    }
    /// The binary attachments, in order; filled in by `SocketIOBinaryAssembler`.
    public var attachments: [ByteBuffer]
    /// For EVENT and BINARY_EVENT: the event name (the first argument, JSON string decoded).
    public var eventName: String?
    /// The header text as it appeared on the wire when it differs from the canonical form that
    /// `encode` would produce (for example `40/admin` without the trailing comma, sent by the
    /// Python 4.x client, or `0/admin?token=1,` with a v4 query). `nil` when canonical.
    public var rawHeader: String?
    /// Set by `decode`: `json` is one valid JSON value with no whitespace around it and no line
    /// break in it, so a JSON-lines writer may embed it as it is without scanning it again. A
    /// fact about `json` learned while decoding, not part of the packet: `==` and `hash` ignore
    /// it, and setting `json` clears it.
    public var jsonIsCompact = false
    /// The parser that wrote the packet. For `.msgpack`, `json` is the payload's `data` converted
    /// by `MsgPackJSON`, and there are no attachments (binaries are inside `data`).
    public var parser: SocketIOParser = .default
    /// For a msgpack packet whose fields do not give back its bytes (extra keys, another key
    /// order, wider headers): the Engine.IO binary message as it was (credentials masked).
    public var wire: ByteBuffer?

    public init(
        type: SocketIOPacketType,
        namespace: String = "/",
        ackID: UInt64? = nil,
        attachmentCount: Int = 0,
        json: ByteBuffer? = nil,
        attachments: [ByteBuffer] = [],
        eventName: String? = nil,
        rawHeader: String? = nil
    ) {
        self.type = type
        self.namespace = namespace
        self.ackID = ackID
        self.attachmentCount = attachmentCount
        self.json = json
        self.attachments = attachments
        self.eventName = eventName
        self.rawHeader = rawHeader
    }

    /// Every field a decoded text packet has, set at once (`decode`: no copy of the packet made
    /// to set `jsonIsCompact` after the rest).
    init(
        type: SocketIOPacketType, namespace: String, ackID: UInt64?, attachmentCount: Int, json: ByteBuffer?,
        jsonIsCompact: Bool, eventName: String?, rawHeader: String?
    ) {
        self.type = type
        self.namespace = namespace
        self.ackID = ackID
        self.attachmentCount = attachmentCount
        self.json = json
        self.jsonIsCompact = jsonIsCompact
        self.attachments = []
        self.eventName = eventName
        self.rawHeader = rawHeader
    }
}

extension SocketIOPacket {
    public static func == (lhs: SocketIOPacket, rhs: SocketIOPacket) -> Bool {
        lhs.type == rhs.type && lhs.namespace == rhs.namespace && lhs.ackID == rhs.ackID
            && lhs.attachmentCount == rhs.attachmentCount && lhs.json == rhs.json && lhs.attachments == rhs.attachments
            && lhs.eventName == rhs.eventName && lhs.rawHeader == rhs.rawHeader && lhs.parser == rhs.parser
            && lhs.wire == rhs.wire
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.type)
        hasher.combine(self.namespace)
        hasher.combine(self.ackID)
        hasher.combine(self.attachmentCount)
        hasher.combine(self.json)
        hasher.combine(self.attachments)
        hasher.combine(self.eventName)
        hasher.combine(self.rawHeader)
        hasher.combine(self.parser)
        hasher.combine(self.wire)
    }
}
