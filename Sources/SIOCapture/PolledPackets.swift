import NIOCore
import SIORecording
import SIOWire

/// The packets of one long-polling body, decoded outside the hub's lock, in order. A text
/// Socket.IO packet (the common one) is kept in `packets` and named by its index; any other packet
/// is a `DecodedPacket`. Apart, as `WebSocketTap.Found` keeps a read's packets: the common packet
/// is lent to the registry where it lies, never copied out of an array of enums (an array of
/// `DecodedPacket`s cost ~8,500 instructions of copies and releases per body).
struct PolledPackets {
    enum Item {
        /// A text `message` whose Socket.IO packet decoded: `packets[index]`.
        case socket(Int)
        case other(DecodedPacket)
    }

    var items: [Item] = []
    var packets: [SocketIOPacket] = []
    /// Whether every packet may take the lines fast path (`DecodedPacket.isPollFastPathCandidate`).
    private(set) var areFastPathCandidates = true

    /// Decodes one Engine.IO packet of the body and appends it.
    mutating func append(
        _ packet: EngineIOPacket, version: EngineIOVersion, direction: Direction, redactor: Redactor,
        parser: CaptureConfiguration.Parser
    ) {
        guard packet.type == .message, !packet.isBinary else {
            let decoded = DecodedPacket(
                packet, version: version, direction: direction, redactor: redactor, parser: parser)
            if !decoded.isPollFastPathCandidate(direction: direction) { self.areFastPathCandidates = false }
            self.items.append(.other(decoded))
            return
        }
        // What `DecodedPacket(packet, ...)` does with a text message, its Socket.IO packet kept apart.
        do {
            // Appended as it is returned: a `let` of it was copied into the array and destroyed.
            self.packets.append(try SocketIOPacket.decode(packet.data, version: version.socketIOVersion))
            let index = self.packets.count - 1
            if self.packets[index].type == .connect, direction == .clientToServer { self.areFastPathCandidates = false }
            self.items.append(.socket(index))
        } catch {
            self.areFastPathCandidates = false
            self.items.append(
                .other(DecodedPacket.undecodableSocket(packet.data, error, direction: direction, redactor: redactor)))
        }
    }

    /// The packets as `DecodedPacket`s, for `SessionRegistry.poll` (off the fast path).
    var decoded: [DecodedPacket] {
        self.items.map { item in
            switch item {
            case .socket(let index): return .socket(self.packets[index])
            case .other(let packet): return packet
            }
        }
    }

    /// Empties both arrays, keeping their storage for the next body.
    mutating func removeAll() {
        self.items.removeAll(keepingCapacity: true)
        self.packets.removeAll(keepingCapacity: true)
        self.areFastPathCandidates = true
    }

    /// Whether the arrays are small enough to keep for the next body.
    var isWorthKeeping: Bool { self.items.capacity <= 256 && self.packets.capacity <= 256 }
}
