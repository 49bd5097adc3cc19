import NIOCore
import SIORecording
import SIOWire

/// The decoding half of a WebSocket connection after its `101`: frames → messages → Engine.IO
/// packets, per direction, on the copy of the bytes. Runs outside the hub's lock; what it finds
/// is handed to the session registry.
struct WebSocketTap {
    /// Something found in the byte stream.
    enum Event {
        /// A text `message` whose Socket.IO packet decoded (what `.packet(.socket(...))` would
        /// be): the common event; the packet is `Found.packets[packet]`.
        case socket(packet: Int, Direction)
        case packet(DecodedPacket, Direction)
        case close(code: Int?, reason: String, Direction)
        case damage(RecordedData, layer: Record.Undecodable.Layer, reason: String, offset: Int, Direction)
    }

    /// What the bytes of a read completed: the events in order, and the Socket.IO packets of the
    /// `.socket` events apart from them, so that the common event is a small value (a packet
    /// taken out of an enum was copied, a packet's worth of retains and releases).
    struct Found {
        var events: [Event] = []
        var packets: [SocketIOPacket] = []

        /// Empties both arrays, keeping their storage for the next read.
        mutating func removeAll() {
            self.events.removeAll(keepingCapacity: true)
            self.packets.removeAll(keepingCapacity: true)
        }
    }

    /// The session, from the URL (upgrade) or learned from the server's handshake frame.
    var sid: String?
    var version: EngineIOVersion { self.decoding.version }
    fileprivate let decoding: Decoding
    /// One decoder per direction, as two properties: an array of them checked its uniqueness on
    /// every access.
    private var clientToServer: WebSocketStreamDecoder
    private var serverToClient: WebSocketStreamDecoder
    /// How much of the offending bytes a damage record keeps.
    fileprivate static let damageSampleBytes = 1024

    /// What turning a message into an event needs; apart from the decoders, so that a decoder can be
    /// mutated while it is read.
    fileprivate struct Decoding {
        let version: EngineIOVersion
        let redactor: Redactor
        let parser: CaptureConfiguration.Parser
    }

    init(
        sid: String?, version: EngineIOVersion, extensions: String?, maxMessageBytes: Int, redactor: Redactor,
        parser: CaptureConfiguration.Parser = .auto
    ) {
        self.sid = sid
        self.decoding = Decoding(version: version, redactor: redactor, parser: parser)
        let deflate = extensions.flatMap { PerMessageDeflate.negotiated(responseHeader: $0) }
        self.clientToServer = WebSocketStreamDecoder(maxMessageSize: maxMessageBytes, deflate: deflate?.clientToServer)
        self.serverToClient = WebSocketStreamDecoder(maxMessageSize: maxMessageBytes, deflate: deflate?.serverToClient)
    }

    /// Feeds bytes of one direction and appends what they completed. Returns whether the events
    /// may hold a client's Socket.IO CONNECT (text or msgpack), whose `auth` values may become
    /// known secrets: `true` for some reads that hold none, never `false` for one that does. Found
    /// on the messages' first bytes, without a look at the events (a copy of each).
    @discardableResult
    mutating func receive(_ bytes: ByteBuffer, direction: Direction, into found: inout Found) -> Bool {
        var mayHoldClientConnect = false
        switch direction {
        case .clientToServer:
            self.decoding.receive(
                bytes, direction: direction, decoder: &self.clientToServer, into: &found,
                mayHoldClientConnect: &mayHoldClientConnect)
        case .serverToClient:
            self.decoding.receive(
                bytes, direction: direction, decoder: &self.serverToClient, into: &found,
                mayHoldClientConnect: &mayHoldClientConnect)
        }
        return mayHoldClientConnect
    }
}

extension WebSocketTap.Decoding {
    typealias Event = WebSocketTap.Event
    typealias Found = WebSocketTap.Found

    func receive(
        _ bytes: ByteBuffer, direction: Direction, decoder: inout WebSocketStreamDecoder, into found: inout Found,
        mayHoldClientConnect: inout Bool
    ) {
        // After an unrecoverable error the rest of a direction is relayed but not decoded.
        guard decoder.isReadable else { return }
        decoder.append(bytes)
        while true {
            do {
                guard let message = try decoder.next() else { return }
                if self.handle(message, direction: direction, into: &found), direction == .clientToServer {
                    mayHoldClientConnect = true
                }
            } catch {
                let sample = bytes.getSlice(
                    at: bytes.readerIndex, length: min(WebSocketTap.damageSampleBytes, bytes.readableBytes)) ?? ByteBuffer()
                found.events.append(.damage(.binary(sample), layer: .webSocket, reason: error.reason, offset: error.offset, direction))
                guard decoder.isReadable else { return }
            }
        }
    }

    /// Whether a message may be a Socket.IO CONNECT: a text `40...`, or any binary message (a
    /// msgpack packet's type is inside it). `handle` tells it of a decoded text packet by its type.
    private static func mayBeConnect(_ message: WebSocketStreamDecoder.Message) -> Bool {
        switch message.kind {
        case .text:
            return message.payload.withUnsafeReadableBytes {
                $0.count >= 2 && $0[0] == UInt8(ascii: "4") && $0[1] == UInt8(ascii: "0")
            }
        case .binary:
            return true
        case .close, .ping, .pong:
            return false
        }
    }

    /// Appends the event `message` makes; returns whether it may be a Socket.IO CONNECT
    /// (`mayBeConnect`), learned from the decoded packet when it decoded. `consuming`: lent, the
    /// message was copied for the decode (a retain and a release, ~65 instructions per message).
    private func handle(
        _ message: consuming WebSocketStreamDecoder.Message, direction: Direction, into found: inout Found
    ) -> Bool {
        switch message.kind {
        case .text:
            // The common message, a Socket.IO packet, decoded with its Engine.IO type in one borrow
            // of the bytes; any other text (another Engine.IO packet, damage) is decoded below.
            do {
                if try SocketIOPacket.decode(
                    engineIOMessage: message.payload, version: self.version.socketIOVersion,
                    appendingTo: &found.packets)
                {
                    found.events.append(.socket(packet: found.packets.count - 1, direction))
                    return found.packets[found.packets.count - 1].type == .connect
                }
            } catch {
                var text = message.payload
                text.moveReaderIndex(forwardBy: 1)
                found.events.append(
                    .packet(
                        DecodedPacket.undecodableSocket(text, error, direction: direction, redactor: self.redactor),
                        direction))
                return Self.mayBeConnect(message)
            }
            let packet: EngineIOPacket
            do {
                packet = try EngineIOPacket.decode(webSocketText: message.payload)
            } catch {
                found.events.append(
                    .damage(
                        RecordedData(textBytes: message.payload), layer: .engineIO,
                        reason: error.reason, offset: error.offset, direction))
                return false
            }
            // Not a `message` (those were decoded above).
            found.events.append(.packet(.engine(packet), direction))
            return false
        case .binary:
            do {
                let packet = try EngineIOPacket.decode(webSocketBinary: message.payload, version: self.version)
                found.events.append(
                    .packet(DecodedPacket(
                        packet, version: self.version, direction: direction, redactor: self.redactor, parser: self.parser), direction))
            } catch {
                found.events.append(
                    .damage(.binary(message.payload), layer: .engineIO, reason: error.reason, offset: error.offset, direction))
            }
            return true
        case .close:
            var payload = message.payload
            // Node may close without a status code: then the payload is empty.
            let code = payload.readableBytes >= 2 ? payload.readInteger(as: UInt16.self).map(Int.init) : nil
            let reason = payload.readString(length: payload.readableBytes) ?? ""
            found.events.append(.close(code: code, reason: reason, direction))
            return false
        case .ping, .pong:
            // WebSocket keep-alives are not part of the Engine.IO session.
            return false
        }
    }
}
