import NIOCore

/// Joins BINARY_EVENT / BINARY_ACK packets with the binary messages that follow them.
/// One per session and direction.
///
/// Attachments travel as separate Engine.IO binary messages right after their packet, so the
/// assembler only has to remember the one packet still waiting. A packet may announce any number
/// of attachments, so the assembler holds at most `maxAttachmentBytes` of them: past that it gives
/// the packet up (`.overLimit`) and drops the rest of its attachments as they arrive.
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
        /// The packet's attachments went over `limit` bytes (`maxAttachmentBytes`): it is returned
        /// with the attachments held before this one, and its remaining attachments are dropped.
        case overLimit(SocketIOPacket, limit: Int)
        /// An attachment of a packet given up with `.overLimit`, dropped.
        case dropped
    }

    public enum AbandonedFollowUp: Hashable, Sendable {
        case complete(SocketIOPacket)
        case waiting
    }

    /// The attachments held for one packet by default: 16 MiB, the capture's limit per message.
    public static let defaultMaxAttachmentBytes = 16 << 20

    /// The most attachment bytes held for one packet.
    public let maxAttachmentBytes: Int
    private var waiting: SocketIOPacket?
    /// Bytes of the attachments `waiting` holds.
    private var waitingBytes = 0
    /// Attachments still announced by a packet given up with `.overLimit`.
    private var toDrop = 0

    public init(maxAttachmentBytes: Int = SocketIOBinaryAssembler.defaultMaxAttachmentBytes) {
        self.maxAttachmentBytes = maxAttachmentBytes
    }

    /// Takes a decoded text packet.
    public mutating func receive(_ packet: SocketIOPacket) -> Action {
        // A new packet: whatever a packet over the limit still announced is not coming.
        self.toDrop = 0
        self.waitingBytes = 0
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
        guard var packet = self.waiting else {
            if self.toDrop > 0 {
                self.toDrop -= 1
                return .dropped
            }
            return .unexpectedAttachment(bytes)
        }
        self.waitingBytes += bytes.readableBytes
        if self.waitingBytes > self.maxAttachmentBytes {
            self.waiting = nil
            self.waitingBytes = 0
            self.toDrop = max(0, packet.attachmentCount - packet.attachments.count - 1)
            return .overLimit(packet, limit: self.maxAttachmentBytes)
        }
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

    /// Neither a packet waits nor are attachments of a packet over the limit still dropped: a
    /// binary message now is no attachment (with the msgpack parser, it is a packet).
    public var isIdle: Bool { self.waiting == nil && self.toDrop == 0 }
}
