import NIOCore

/// Joins BINARY_EVENT / BINARY_ACK packets with the binary messages that follow them.
/// One per session and direction.
///
/// Attachments travel as separate Engine.IO binary messages right after their packet, so the
/// assembler only has to remember the one packet still waiting.
public struct SocketIOBinaryAssembler: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        /// A packet is complete (immediately for packets without attachments).
        case complete(SocketIOPacket)
        /// The packet waits for more attachments.
        case waiting
        /// A binary message arrived with no packet waiting for it.
        case unexpectedAttachment(ByteBuffer)
        /// A new packet arrived while the previous one still lacked attachments: the previous one
        /// is returned incomplete, the new one is being handled as usual.
        case abandoned(SocketIOPacket, then: AbandonedFollowUp)
    }

    public enum AbandonedFollowUp: Hashable, Sendable {
        case complete(SocketIOPacket)
        case waiting
    }

    private var waiting: SocketIOPacket?

    public init() {}

    /// Takes a decoded text packet.
    public mutating func receive(_ packet: SocketIOPacket) -> Action {
        let followUp: AbandonedFollowUp
        if packet.type.carriesAttachments && packet.attachments.count < packet.attachmentCount {
            followUp = .waiting
        } else {
            followUp = .complete(packet)
        }
        let previous = self.waiting
        self.waiting = followUp == .waiting ? packet : nil
        if let previous { return .abandoned(previous, then: followUp) }
        switch followUp {
        case .waiting: return .waiting
        case .complete(let packet): return .complete(packet)
        }
    }

    /// Takes a binary message.
    public mutating func receiveAttachment(_ bytes: ByteBuffer) -> Action {
        guard var packet = self.waiting else { return .unexpectedAttachment(bytes) }
        packet.attachments.append(bytes)
        if packet.attachments.count >= packet.attachmentCount {
            self.waiting = nil
            return .complete(packet)
        }
        self.waiting = packet
        return .waiting
    }

    /// The packet still waiting for attachments, if any (to record it when the session ends).
    public var pending: SocketIOPacket? { self.waiting }
}
