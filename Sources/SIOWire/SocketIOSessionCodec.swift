import NIOCore

/// Socket.IO packets over the Engine.IO messages of one session, for a peer that takes part in it
/// (replay serve's server, replay run's client): the fan-out of a packet into the messages that
/// carry it, and the reassembly of the messages the other side sends into packets. One per session;
/// the capture, which only watches, detects the parser per session instead (SIOCapture).
///
/// - Default parser (socket.io-parser): a packet is one text message (`<type>[nsp,][id]<JSON>` for
///   the session's Socket.IO version), then one binary message per attachment.
/// - msgpack parser (socket.io-msgpack-parser): a packet is one binary message, a msgpack map.
///   A binary message is read as such a packet when no packet is waiting for attachments and it
///   decodes as one; otherwise it is an attachment.
public struct SocketIOSessionCodec: Hashable, Sendable {
    /// The Socket.IO version of the session's text messages (v4 over Engine.IO v3, v5 over v4).
    public let version: SocketIOVersion
    /// Joins the received packets with their attachments, up to its `maxAttachmentBytes`.
    public private(set) var assembler: SocketIOBinaryAssembler

    public init(
        version: SocketIOVersion, maxAttachmentBytes: Int = SocketIOBinaryAssembler.defaultMaxAttachmentBytes
    ) {
        self.version = version
        self.assembler = SocketIOBinaryAssembler(maxAttachmentBytes: maxAttachmentBytes)
    }

    /// The Engine.IO messages that carry `packet`, in the parser it was written with
    /// (`packet.parser`): the default parser's text then one binary message per attachment; a
    /// msgpack packet as one binary message built from its fields (`wire` is not used: the fields
    /// may have been changed, as replay does with server-issued ids). Empty when a msgpack
    /// packet's JSON does not encode as msgpack: such a packet cannot be sent.
    public func messages(for packet: SocketIOPacket) -> [EngineIOPacket] {
        guard packet.parser == .msgpack else {
            return [EngineIOPacket(type: .message, data: packet.encodeText(version: self.version))]
                + packet.attachments.map { EngineIOPacket(type: .message, isBinary: true, data: $0) }
        }
        var fields = packet
        fields.wire = nil
        guard let message = try? fields.encodeMsgPack() else { return [] }
        return [EngineIOPacket(type: .message, isBinary: true, data: message)]
    }

    /// Takes one Engine.IO `message` packet from the other side. Throws when a text message is no
    /// Socket.IO packet; a binary message that is neither an awaited attachment nor a msgpack
    /// packet comes back as `.unexpectedAttachment`.
    public mutating func receive(_ message: EngineIOPacket) throws(WireError) -> SocketIOBinaryAssembler.Action {
        guard message.isBinary else {
            return self.assembler.receive(try SocketIOPacket.decode(message.data, version: self.version))
        }
        if self.assembler.isIdle, SocketIOPacket.looksLikeMsgPack(message.data),
            let packet = try? SocketIOPacket.decodeMsgPack(message.data)
        {
            return .complete(packet)
        }
        return self.assembler.receiveAttachment(message.data)
    }
}
