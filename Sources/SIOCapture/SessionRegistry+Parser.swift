import NIOCore
import SIORecording
import SIOWire

/// Binary Engine.IO messages: attachments of the default parser, packets of the msgpack parser,
/// or messages of a parser siotape does not know, decided per session.
extension SessionRegistry {
    /// What the once-per-session report of an unknown parser says.
    static let unknownParserMessage = "binary Engine.IO messages not decodable as Socket.IO: parser unknown"

    /// A binary message that is not a msgpack packet.
    mutating func binary(_ bytes: ByteBuffer, context: PacketContext, into records: inout [Record]) {
        guard self.configuration.parser == .auto, let index = self.touch(context, into: &records) else {
            return self.attachment(bytes, context: context, into: &records)
        }
        switch self.sessions.values[index].parser {
        case .default:
            self.attachment(bytes, context: context, into: &records)
        case .msgpack:
            // Cannot be a msgpack packet (the tap tried maps only): say why.
            let reason: String
            do {
                _ = try SocketIOPacket.decodeMsgPack(bytes)
                reason = "msgpack packet: not decodable"
            } catch {
                reason = error.reason
            }
            self.undecodableBinary(bytes, reason: reason, offset: 0, context: context, into: &records)
        case .undetermined, .unknown:
            self.unknownParser(bytes, index: index, context: context, into: &records)
        }
    }

    /// A binary message that decoded as a msgpack packet: a packet, unless the session has shown
    /// it uses the default parser (then it is an attachment that happens to look like one).
    mutating func msgpack(_ packet: SocketIOPacket, message: ByteBuffer, context: PacketContext, into records: inout [Record]) {
        if let index = self.touch(context, into: &records) {
            if self.configuration.parser == .auto, self.sessions.values[index].parser == .default {
                return self.attachment(message, context: context, into: &records)
            }
            self.sessions.values[index].parser = .msgpack
        }
        self.socket(packet, context: context, into: &records)
    }

    /// A binary message that was tried as a msgpack packet and failed.
    mutating func undecodableMsgPack(
        _ message: ByteBuffer, reason: String, offset: Int, context: PacketContext, into records: inout [Record]
    ) {
        if self.configuration.parser == .auto, let index = self.touch(context, into: &records) {
            switch self.sessions.values[index].parser {
            case .default:
                return self.attachment(message, context: context, into: &records)
            case .undetermined, .unknown:
                return self.unknownParser(message, index: index, context: context, into: &records)
            case .msgpack:
                break
            }
        }
        self.undecodableBinary(message, reason: reason, offset: offset, context: context, into: &records)
    }

    /// A `raw` record of a binary message of a msgpack session. Sent by a client and redacting, its
    /// values are masked and the bytes from the damage on left out: it may be a CONNECT.
    private mutating func undecodableBinary(
        _ message: ByteBuffer, reason: String, offset: Int, context: PacketContext, into records: inout [Record]
    ) {
        var kept = message
        var reason = reason
        if context.direction == .clientToServer, self.redactor.enabled {
            let (masked, dropped) = MsgPackMasker.maskUndecodable(message, with: Redactor.mask)
            kept = masked
            reason += "; values masked (credentials)" + (dropped > 0 ? ", the \(dropped) bytes from the damage on left out" : "")
        }
        self.undecodable(.binary(kept), layer: .socketIO, reason: reason, offset: offset, context: context, into: &records)
    }

    /// A binary message in a session with no Socket.IO packet of a known parser: reported once per
    /// session (a `note`), recorded raw every time.
    private mutating func unknownParser(
        _ message: ByteBuffer, index: [String: SessionMachine].Index, context: PacketContext,
        into records: inout [Record]
    ) {
        if self.sessions.values[index].parser != .unknown {
            self.sessions.values[index].parser = .unknown
            records.append(
                Record(
                    time: context.time,
                    event: .note(
                        .init(
                            level: "warning",
                            message: "session \(context.sid ?? "?"): \(Self.unknownParserMessage); they are recorded raw",
                            connection: context.connection))))
        }
        self.undecodable(
            .binary(message), layer: .socketIO, reason: "parser unknown", offset: 0, context: context, into: &records)
    }
}
