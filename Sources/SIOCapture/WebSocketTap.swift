import NIOCore
import SIORecording
import SIOWire

/// The decoding half of a WebSocket connection after its `101`: frames → messages → Engine.IO
/// packets, per direction, on the copy of the bytes. Runs outside the hub's lock; what it finds
/// is handed to the session registry.
struct WebSocketTap {
    /// Something found in the byte stream.
    enum Event {
        case packet(DecodedPacket, Direction)
        case close(code: Int?, reason: String, Direction)
        case damage(RecordedData, layer: Record.Undecodable.Layer, reason: String, offset: Int, Direction)
    }

    /// The session, from the URL (upgrade) or learned from the server's handshake frame.
    var sid: String?
    let version: EngineIOVersion
    private let redactor: Redactor
    private let parser: CaptureConfiguration.Parser
    private var decoders: [WebSocketStreamDecoder]
    /// How much of the offending bytes a damage record keeps.
    private static let damageSampleBytes = 1024

    init(
        sid: String?, version: EngineIOVersion, extensions: String?, maxMessageBytes: Int, redactor: Redactor,
        parser: CaptureConfiguration.Parser = .auto
    ) {
        self.sid = sid
        self.version = version
        self.redactor = redactor
        self.parser = parser
        let deflate = extensions.flatMap { PerMessageDeflate.negotiated(responseHeader: $0) }
        self.decoders = [
            WebSocketStreamDecoder(maxMessageSize: maxMessageBytes, deflate: deflate?.clientToServer),
            WebSocketStreamDecoder(maxMessageSize: maxMessageBytes, deflate: deflate?.serverToClient),
        ]
    }

    /// Feeds bytes of one direction and appends what they completed.
    mutating func receive(_ bytes: ByteBuffer, direction: Direction, into events: inout [Event]) {
        let d = direction.index
        // After an unrecoverable error the rest of a direction is relayed but not decoded.
        guard self.decoders[d].isReadable else { return }
        self.decoders[d].append(bytes)
        while true {
            do {
                guard let message = try self.decoders[d].next() else { return }
                self.handle(message, direction: direction, into: &events)
            } catch {
                let sample = bytes.getSlice(
                    at: bytes.readerIndex, length: min(Self.damageSampleBytes, bytes.readableBytes)) ?? ByteBuffer()
                events.append(.damage(.binary(sample), layer: .webSocket, reason: error.reason, offset: error.offset, direction))
                guard self.decoders[d].isReadable else { return }
            }
        }
    }

    private func handle(_ message: WebSocketStreamDecoder.Message, direction: Direction, into events: inout [Event]) {
        switch message.kind {
        case .text:
            do {
                let packet = try EngineIOPacket.decode(webSocketText: message.payload)
                events.append(
                    .packet(DecodedPacket(
                        packet, version: self.version, direction: direction, redactor: self.redactor, parser: self.parser), direction))
            } catch {
                events.append(
                    .damage(
                        RecordedData(textBytes: message.payload), layer: .engineIO,
                        reason: error.reason, offset: error.offset, direction))
            }
        case .binary:
            do {
                let packet = try EngineIOPacket.decode(webSocketBinary: message.payload, version: self.version)
                events.append(
                    .packet(DecodedPacket(
                        packet, version: self.version, direction: direction, redactor: self.redactor, parser: self.parser), direction))
            } catch {
                events.append(
                    .damage(.binary(message.payload), layer: .engineIO, reason: error.reason, offset: error.offset, direction))
            }
        case .close:
            var payload = message.payload
            // Node may close without a status code: then the payload is empty.
            let code = payload.readableBytes >= 2 ? payload.readInteger(as: UInt16.self).map(Int.init) : nil
            let reason = payload.readString(length: payload.readableBytes) ?? ""
            events.append(.close(code: code, reason: reason, direction))
        case .ping, .pong:
            // WebSocket keep-alives are not part of the Engine.IO session.
            break
        }
    }
}
