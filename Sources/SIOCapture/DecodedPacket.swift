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
    /// A binary `message`: an attachment of the packet waiting in its direction.
    case attachment(ByteBuffer)
    /// Any other Engine.IO packet (open, close, ping, pong, upgrade, noop).
    case engine(EngineIOPacket)

    init(_ packet: EngineIOPacket, version: EngineIOVersion, direction: Direction, redactor: Redactor) {
        guard packet.type == .message else {
            self = .engine(packet)
            return
        }
        if packet.isBinary {
            self = .attachment(packet.data)
            return
        }
        do {
            self = .socket(try SocketIOPacket.decode(packet.data, version: version.socketIOVersion))
        } catch {
            let kept = direction == .clientToServer ? redactor.undecodableConnect(packet.data) : packet.data
            self = .undecodableSocket(RecordedData(textBytes: kept), reason: error.reason, offset: error.offset)
        }
    }
}
