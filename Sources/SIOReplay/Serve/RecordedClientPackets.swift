import NIOCore
import SIOWire

/// The client packets of one recorded session that no live packet has matched yet, grouped by what
/// a live packet must share with them: kind (EVENT and BINARY_EVENT alike, ACK and BINARY_ACK alike),
/// namespace, and the event name or the ack id. Matching a live packet costs a dictionary lookup,
/// however long the session.
struct RecordedClientPackets {
    struct Key: Hashable {
        var kind: SocketIOPacketType
        var namespace: String
        var event: String?
        var ackID: UInt64?

        init(_ packet: SocketIOPacket) {
            switch packet.type {
            case .event, .binaryEvent:
                self.kind = .event
                self.event = packet.eventName
            case .ack, .binaryAck:
                self.kind = .ack
                self.ackID = packet.ackID
            default:
                self.kind = packet.type
            }
            self.namespace = packet.namespace
        }
    }

    /// How many candidates are compared byte for byte before settling for the first one.
    static let payloadScanLimit = 64

    private var pending: [Key: CircularBuffer<Int>] = [:]

    init(_ session: ScriptSession) {
        for packet in session.packets where packet.direction == .clientToServer {
            self.pending[Key(packet.packet), default: CircularBuffer()].append(packet.index)
        }
    }

    /// The recorded packet a live one stands for, now matched: the first unmatched one with the same
    /// key, preferring (among the first few) one with the very same JSON payload; `exact` says
    /// whether it has.
    mutating func take(matching packet: SocketIOPacket, in session: ScriptSession) -> (packet: ScriptPacket, exact: Bool)? {
        let key = Key(packet)
        guard var queue = self.pending[key], !queue.isEmpty else { return nil }
        var chosen = queue.startIndex
        var exact = false
        var scanned = 0
        for position in queue.indices {
            guard scanned < Self.payloadScanLimit else { break }
            if session.packets[queue[position]].packet.json == packet.json {
                chosen = position
                exact = true
                break
            }
            scanned += 1
        }
        let index = queue.remove(at: chosen)
        self.pending[key] = queue
        return (session.packets[index], exact)
    }

    /// Takes every unmatched DISCONNECT (the client left without sending them).
    mutating func takeDisconnects(in session: ScriptSession) -> [ScriptPacket] {
        var taken: [Int] = []
        for key in self.pending.keys where key.kind == .disconnect {
            taken += self.pending.removeValue(forKey: key).map(Array.init) ?? []
        }
        return taken.sorted().map { session.packets[$0] }
    }
}
