import NIOCore
import SIORecording
import SIOWire

/// One recorded Socket.IO packet of a session, in either direction.
package struct ScriptPacket: Hashable, Sendable {
    /// Position of the packet in its session's `packets` (both directions counted), from 0.
    package var index: Int
    /// Microseconds since the recording's start.
    package var time: Int64
    package var direction: Direction
    /// The transport it travelled on in the recording.
    package var transport: EngineIOTransport
    /// The decoded packet: type, namespace, ack id, event name, verbatim JSON and attachments.
    package var packet: SocketIOPacket
    /// For ACK and BINARY_ACK: microseconds since the event that asked for it.
    package var ackLatencyMicros: Int64?
    /// The JSON payload's values were replaced before recording (a CONNECT `auth`).
    package var redacted: Bool

    package init(
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

    package var type: SocketIOPacketType { self.packet.type }
    package var namespace: String { self.packet.namespace }
    package var ackID: UInt64? { self.packet.ackID }
    package var eventName: String? { self.packet.eventName }
    package var attachments: [ByteBuffer] { self.packet.attachments }

    /// The JSON payload as recorded (the wire's bytes), `nil` when the packet had none.
    package var dataText: String? {
        self.packet.json.map { String(buffer: $0) }
    }

    /// Whether this is an acknowledgement (ACK or BINARY_ACK).
    package var isAck: Bool { self.packet.type == .ack || self.packet.type == .binaryAck }

    /// Whether this is an event (EVENT or BINARY_EVENT).
    package var isEvent: Bool { self.packet.type == .event || self.packet.type == .binaryEvent }
}
