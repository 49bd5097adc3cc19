// API CONTRACT STUBS — replaced by the real implementations (same signatures) in their own files.
import NIOCore

extension EngineIOPacket {
    /// Decodes one WebSocket text message (`4hello`, `2probe`, ...).
    public static func decode(webSocketText text: ByteBuffer) throws(WireError) -> EngineIOPacket {
        fatalError("unimplemented")
    }

    /// Decodes one WebSocket binary message: in v3 the first byte is the packet type (`0x04`), in v4
    /// the whole message is the data of a binary `message` packet.
    public static func decode(webSocketBinary bytes: ByteBuffer, version: EngineIOVersion) throws(WireError)
        -> EngineIOPacket
    {
        fatalError("unimplemented")
    }

    /// The WebSocket message for this packet: whether it goes as a binary frame, and its bytes.
    public func encodeForWebSocket(version: EngineIOVersion) -> (isBinary: Bool, bytes: ByteBuffer) {
        fatalError("unimplemented")
    }
}

/// Long-polling bodies: many packets in one HTTP body.
public enum EngineIOPayload {
    /// Which framing a body uses: v4 always `.v4Text`; v3 `.v3Binary` when the body is
    /// `application/octet-stream` (or starts with a 0x00/0x01 record marker), else `.v3Text`.
    public static func encoding(
        version: EngineIOVersion, contentType: String?, body: ByteBuffer
    ) -> EngineIOPayloadEncoding {
        fatalError("unimplemented")
    }

    /// Decodes a whole body. Never throws: packets up to the damage plus the damage.
    public static func decode(_ body: ByteBuffer, encoding: EngineIOPayloadEncoding) -> EngineIOPayloadDecoding {
        fatalError("unimplemented")
    }

    /// Encodes packets as one body in the given framing.
    public static func encode(_ packets: [EngineIOPacket], encoding: EngineIOPayloadEncoding) -> ByteBuffer {
        fatalError("unimplemented")
    }
}

extension SocketIOPacket {
    /// Decodes the text of an Engine.IO `message` packet (without the leading `4`).
    /// Validates like the reference parser; attachments are not part of the text.
    public static func decode(_ text: ByteBuffer, version: SocketIOVersion) throws(WireError) -> SocketIOPacket {
        fatalError("unimplemented")
    }

    /// The wire text (header + verbatim JSON), `rawHeader` used when present.
    public func encodeText(version: SocketIOVersion) -> ByteBuffer {
        fatalError("unimplemented")
    }
}

/// Joins BINARY_EVENT / BINARY_ACK packets with the binary messages that follow them.
/// One per session and direction.
public struct SocketIOBinaryAssembler: Sendable {
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

    public init() {}

    public mutating func receive(_ packet: SocketIOPacket) -> Action { fatalError("unimplemented") }
    public mutating func receiveAttachment(_ bytes: ByteBuffer) -> Action { fatalError("unimplemented") }

    /// The packet still waiting for attachments, if any (to record it when the session ends).
    public var pending: SocketIOPacket? { nil }
}

/// The parts of an Engine.IO request's URL that matter: `EIO`, `transport`, `sid`, `b64`.
public struct EngineIORequestTarget: Hashable, Sendable {
    /// The path without the query.
    public var path: String
    /// Every query parameter, percent-decoded, in order.
    public var query: [(name: String, value: String)] { [] }
    /// `nil` when the request is not an Engine.IO request (no `EIO` parameter).
    public var version: EngineIOVersion?
    public var transport: EngineIOTransport?
    public var sid: String?
    /// `b64=1` (v3 clients that cannot take binary payloads).
    public var base64: Bool

    /// Parses a request target such as `/socket.io/?EIO=4&transport=polling&t=N`.
    public init(uri: String) { fatalError("unimplemented") }

    public static func == (lhs: Self, rhs: Self) -> Bool { fatalError() }
    public func hash(into hasher: inout Hasher) { fatalError() }
}

/// An incremental reader of one direction of a WebSocket connection's bytes, after the `101`.
/// Reassembles fragmented messages, unmasks, and inflates permessage-deflate messages on the copy
/// it was given. Control frames may arrive between fragments.
public struct WebSocketStreamDecoder {
    public struct Message: Hashable, Sendable {
        public enum Kind: Hashable, Sendable { case text, binary, close, ping, pong }
        public var kind: Kind
        /// Unmasked (and inflated) payload.
        public var payload: ByteBuffer
        /// True when the message was compressed on the wire (RSV1 on its first frame).
        public var wasCompressed: Bool
    }

    /// - Parameters:
    ///   - maxMessageSize: messages (after inflation) above this are reported as damage and skipped.
    ///   - deflate: the negotiated permessage-deflate parameters for this direction, if any.
    public init(maxMessageSize: Int, deflate: PerMessageDeflate.Parameters?) { fatalError("unimplemented") }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: ByteBuffer) { fatalError("unimplemented") }

    /// The next complete message, `nil` when more bytes are needed. A thrown error describes
    /// damage (bad frame, oversized or undecompressable message); decoding may continue after it
    /// unless the stream cannot be resynchronised (then every later call throws the same error).
    public mutating func next() throws(WireError) -> Message? { fatalError("unimplemented") }
}

/// permessage-deflate (RFC 7692) as negotiated by the `101` response.
public enum PerMessageDeflate {
    public struct Parameters: Hashable, Sendable {
        /// LZ77 window bits the sender of this direction uses (8...15).
        public var windowBits: Int
        /// Whether the sender resets its context after each message.
        public var noContextTakeover: Bool
    }

    /// The parameters for client→server and server→client messages, from the accepted
    /// `Sec-WebSocket-Extensions` response header; `nil` when permessage-deflate was not accepted.
    public static func negotiated(responseHeader: String) -> (
        clientToServer: Parameters, serverToClient: Parameters
    )? {
        fatalError("unimplemented")
    }
}
