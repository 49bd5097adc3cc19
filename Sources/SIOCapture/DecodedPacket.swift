import NIOCore
import SIORecording
import SIOWire

/// An Engine.IO packet with the Socket.IO text of a `message` decoded.
///
/// Made by the connection's tap, outside the hub's lock: decoding and validating the JSON is the
/// costly part of a packet, and it needs no session state. The session registry then only does
/// the bookkeeping (acks, attachments, namespaces) under the lock.
enum DecodedPacket: Sendable {
    /// A text `message` whose Socket.IO packet decoded.
    case socket(SocketIOPacket)
    /// A text `message` that is not a valid Socket.IO packet: the text as recorded (a CONNECT's
    /// credentials masked when redacting) and why.
    case undecodableSocket(RecordedData, reason: String, offset: Int)
    /// A binary `message` that is not a msgpack packet (or was not tried as one): an attachment of
    /// the packet waiting in its direction, or a message of a parser siotape does not know.
    case attachment(ByteBuffer)
    /// A binary `message` that decoded as a msgpack-parser packet (`message` kept: in a session
    /// of the default parser it is an attachment after all).
    case msgpack(SocketIOPacket, message: ByteBuffer)
    /// A binary `message` that was tried as a msgpack packet and failed.
    case undecodableMsgPack(ByteBuffer, reason: String, offset: Int)
    /// Any other Engine.IO packet (open, close, ping, pong, upgrade, noop).
    case engine(EngineIOPacket)

    /// Whether a polling body of such packets may take the lines fast path
    /// (`ConnectionTap.pollLines`): a text Socket.IO packet that is not a client's CONNECT (which
    /// may teach secrets), or an Engine.IO packet; not attachments, msgpack or damage.
    func isPollFastPathCandidate(direction: Direction) -> Bool {
        switch self {
        case .socket(let packet): return packet.type != .connect || direction == .serverToClient
        case .engine: return true
        case .undecodableSocket, .attachment, .msgpack, .undecodableMsgPack: return false
        }
    }

    init(
        _ packet: EngineIOPacket, version: EngineIOVersion, direction: Direction, redactor: Redactor,
        parser: CaptureConfiguration.Parser = .auto
    ) {
        guard packet.type == .message else {
            self = .engine(packet)
            return
        }
        if packet.isBinary {
            // Outside the lock, on bytes. A default-parser attachment rarely starts like a map, so
            // the default parser's traffic pays one byte test here.
            if parser == .default || (parser == .auto && !SocketIOPacket.looksLikeMsgPack(packet.data)) {
                self = .attachment(packet.data)
                return
            }
            do {
                self = .msgpack(try SocketIOPacket.decodeMsgPack(packet.data), message: packet.data)
            } catch {
                self = .undecodableMsgPack(packet.data, reason: error.reason, offset: error.offset)
            }
            return
        }
        do {
            self = .socket(try SocketIOPacket.decode(packet.data, version: version.socketIOVersion))
        } catch {
            self = Self.undecodableSocket(packet.data, error, direction: direction, redactor: redactor)
        }
    }

    /// The text of a `message` that failed to decode as a Socket.IO packet with `error`, as recorded.
    static func undecodableSocket(
        _ text: ByteBuffer, _ error: WireError, direction: Direction, redactor: Redactor
    ) -> DecodedPacket {
        let kept = direction == .clientToServer ? redactor.undecodableConnect(text) : text
        return .undecodableSocket(RecordedData(textBytes: kept), reason: error.reason, offset: error.offset)
    }
}
