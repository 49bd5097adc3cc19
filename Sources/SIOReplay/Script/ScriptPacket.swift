import NIOCore
import SIORecording
import SIOWire

/// One recorded Socket.IO packet of a session, in either direction.
public struct ScriptPacket: Hashable, Sendable {
    /// Position of the packet in its session's `packets` (both directions counted), from 0.
    public var index: Int
    /// Microseconds since the recording's start.
    public var time: Int64
    public var direction: Direction
    /// The transport it travelled on in the recording.
    public var transport: EngineIOTransport
    /// The decoded packet: type, namespace, ack id, event name, verbatim JSON and attachments.
    public var packet: SocketIOPacket
    /// For ACK and BINARY_ACK: microseconds since the event that asked for it.
    public var ackLatencyMicros: Int64?
    /// The JSON payload's values were replaced before recording (a CONNECT `auth`).
    public var redacted: Bool

    public init(
        index: Int,
        time: Int64,
        direction: Direction,
        transport: EngineIOTransport,
        packet: SocketIOPacket,
        ackLatencyMicros: Int64? = nil,
        redacted: Bool = false
    ) {
        self.index = index
        self.time = time
        self.direction = direction
        self.transport = transport
        self.packet = packet
        self.ackLatencyMicros = ackLatencyMicros
        self.redacted = redacted
    }

    public var type: SocketIOPacketType { self.packet.type }
    public var namespace: String { self.packet.namespace }
    public var ackID: UInt64? { self.packet.ackID }
    public var eventName: String? { self.packet.eventName }
    public var attachments: [ByteBuffer] { self.packet.attachments }

    /// The JSON payload as recorded (the wire's bytes), `nil` when the packet had none.
    public var dataText: String? {
        self.packet.json.map { String(buffer: $0) }
    }

    /// Whether this is an acknowledgement (ACK or BINARY_ACK).
    public var isAck: Bool { self.packet.type == .ack || self.packet.type == .binaryAck }

    /// Whether this is an event (EVENT or BINARY_EVENT).
    public var isEvent: Bool { self.packet.type == .event || self.packet.type == .binaryEvent }
}
