import NIOCore
import SIOWire

/// One line of a recording after the header: something that happened at `time`.
///
/// The JSON spelling of every kind is specified in `docs/recording-format.md`; `RecordEncoder`
/// writes it and `RecordingReader` reads it back.
public struct Record: Hashable, Sendable {
    /// Microseconds since the recording's start (monotonic clock).
    public var time: Int64
    public var event: Event

    public init(time: Int64, event: Event) {
        self.time = time
        self.event = event
    }

    public enum Event: Hashable, Sendable {
        /// `conn`: a client opened a TCP connection to the proxy.
        case connectionOpened(ConnectionOpened)
        /// `conn_close`: a proxied TCP connection ended.
        case connectionClosed(ConnectionClosed)
        /// `http`: one HTTP request/response exchange finished (every request, Engine.IO or not).
        case http(HTTPExchange)
        /// `body`: a piece of the request or response body of an exchange that is not Engine.IO.
        case body(HTTPBody)
        /// `open`: an Engine.IO session was opened (the server's `0{...}` handshake was seen).
        case sessionOpened(SessionOpened)
        /// `ws`: a WebSocket was established for a session (the upstream's `101` was relayed).
        case webSocketOpened(WebSocketOpened)
        /// `upgrade`: the client completed the polling→WebSocket upgrade (sent `5`).
        case upgraded(Upgraded)
        /// `poll`: a long-polling body; the next `packetCount` packet records of this session and
        /// direction came in it.
        case poll(PollBody)
        /// `eio`: an Engine.IO packet that is not a Socket.IO message (open, ping, pong, noop, ...).
        case engine(EnginePacket)
        /// `sio`: a Socket.IO packet with its attachments.
        case socket(SocketPacket)
        /// `raw`: bytes that did not decode, stored as they were with the reason.
        case undecodable(Undecodable)
        /// `ws_close`: a WebSocket close frame.
        case webSocketClosed(WebSocketClosed)
        /// `close`: an Engine.IO session ended.
        case sessionClosed(SessionClosed)
        /// `note`: something the recorder itself has to say (a cap hit, a storage problem).
        case note(Note)
    }
}

/// The payload bytes of a packet as stored: text stays text, binary is base64 in the file.
public enum RecordedData: Hashable, Sendable {
    case text(String)
    case binary(ByteBuffer)

    /// Bytes that should be text: text when they are UTF-8, otherwise binary, so that bytes that do
    /// not decode are kept exactly (a `String` would replace them with U+FFFD).
    public init(textBytes bytes: ByteBuffer) {
        let valid = bytes.withUnsafeReadableBytes { isValidUTF8($0) }
        self = valid ? .text(String(buffer: bytes)) : .binary(bytes)
    }
}

extension Record {
    public struct ConnectionOpened: Hashable, Sendable {
        public var connection: UInt64
        /// The client's address, `host:port`.
        public var peer: String

        public init(connection: UInt64, peer: String) {
            self.connection = connection
            self.peer = peer
        }
    }

    public struct ConnectionClosed: Hashable, Sendable {
        public var connection: UInt64
        /// Which side ended it and how: `client`, `upstream`, `client reset`, `upstream unreachable`, ...
        public var cause: String

        public init(connection: UInt64, cause: String) {
            self.connection = connection
            self.cause = cause
        }
    }

    public struct HTTPExchange: Hashable, Sendable {
        public var connection: UInt64
        public var method: String
        /// Path and query, with credential-like query values redacted unless told otherwise.
        public var path: String
        /// The response status; `nil` when no response came (connection lost, upstream unreachable).
        public var status: Int?
        public var requestBytes: Int
        public var responseBytes: Int
        /// From the first byte of the request to the last byte of the response.
        public var durationMicros: Int64
        /// The Engine.IO session the request belonged to, if any.
        public var sid: String?
        /// For error answers on Engine.IO requests: the start of the response body (at most 1 KiB).
        public var errorBody: String?
        /// For exchanges that are not Engine.IO: the request headers in wire order (credentials redacted).
        public var requestHeaders: [KeyValue]?
        /// For exchanges that are not Engine.IO: the response headers in wire order (credentials redacted).
        public var responseHeaders: [KeyValue]?

        public init(
            connection: UInt64, method: String, path: String, status: Int?, requestBytes: Int,
            responseBytes: Int, durationMicros: Int64, sid: String? = nil, errorBody: String? = nil,
            requestHeaders: [KeyValue]? = nil, responseHeaders: [KeyValue]? = nil
        ) {
            self.connection = connection
            self.method = method
            self.path = path
            self.status = status
            self.requestBytes = requestBytes
            self.responseBytes = responseBytes
            self.durationMicros = durationMicros
            self.sid = sid
            self.errorBody = errorBody
            self.requestHeaders = requestHeaders
            self.responseHeaders = responseHeaders
        }
    }

    public struct SessionOpened: Hashable, Sendable {
        public var sid: String
        public var engineIOVersion: EngineIOVersion
        public var transport: EngineIOTransport
        public var connection: UInt64
        /// The handshake request's path without the query.
        public var path: String
        /// The handshake query parameters in wire order (values redacted where they look like credentials).
        public var query: [KeyValue]
        /// Selected request headers of the handshake (`User-Agent`, `Origin`, ...; credentials redacted).
        public var headers: [KeyValue]
        /// The server's handshake JSON object, verbatim.
        public var handshake: String

        public init(
            sid: String, engineIOVersion: EngineIOVersion, transport: EngineIOTransport, connection: UInt64,
            path: String, query: [KeyValue], headers: [KeyValue], handshake: String
        ) {
            self.sid = sid
            self.engineIOVersion = engineIOVersion
            self.transport = transport
            self.connection = connection
            self.path = path
            self.query = query
            self.headers = headers
            self.handshake = handshake
        }
    }

    public struct KeyValue: Hashable, Sendable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct WebSocketOpened: Hashable, Sendable {
        /// `nil` for a WebSocket-only session whose sid is not known until the handshake packet.
        public var sid: String?
        public var connection: UInt64
        /// The `Sec-WebSocket-Extensions` the upstream accepted, if any.
        public var extensions: String?

        public init(sid: String?, connection: UInt64, extensions: String?) {
            self.sid = sid
            self.connection = connection
            self.extensions = extensions
        }
    }

    public struct Upgraded: Hashable, Sendable {
        public var sid: String
        public var connection: UInt64

        public init(sid: String, connection: UInt64) {
            self.sid = sid
            self.connection = connection
        }
    }

    public struct PollBody: Hashable, Sendable {
        public var sid: String
        public var connection: UInt64
        public var direction: Direction
        public var encoding: EngineIOPayloadEncoding
        /// Bytes in the body.
        public var bytes: Int
        /// How many packet records (`eio`, `sio`, `raw`) follow for this body.
        public var packetCount: Int

        public init(
            sid: String, connection: UInt64, direction: Direction, encoding: EngineIOPayloadEncoding,
            bytes: Int, packetCount: Int
        ) {
            self.sid = sid
            self.connection = connection
            self.direction = direction
            self.encoding = encoding
            self.bytes = bytes
            self.packetCount = packetCount
        }
    }

    public struct EnginePacket: Hashable, Sendable {
        public var sid: String?
        public var connection: UInt64
        public var direction: Direction
        public var transport: EngineIOTransport
        public var type: EngineIOPacketType
        /// What followed the type digit (`probe` in `2probe`); `nil` when nothing did.
        public var data: RecordedData?

        public init(
            sid: String?, connection: UInt64, direction: Direction, transport: EngineIOTransport,
            type: EngineIOPacketType, data: RecordedData? = nil
        ) {
            self.sid = sid
            self.connection = connection
            self.direction = direction
            self.transport = transport
            self.type = type
            self.data = data
        }
    }

    public struct SocketPacket: Hashable, Sendable {
        public var sid: String?
        public var connection: UInt64
        public var direction: Direction
        public var transport: EngineIOTransport
        public var packet: SocketIOPacket
        /// For ACK and BINARY_ACK: microseconds since the event that asked for it.
        public var ackLatencyMicros: Int64?
        /// True when the JSON payload's values were replaced (CONNECT auth) before recording.
        public var redacted: Bool

        public init(
            sid: String?, connection: UInt64, direction: Direction, transport: EngineIOTransport,
            packet: SocketIOPacket, ackLatencyMicros: Int64? = nil, redacted: Bool = false
        ) {
            self.sid = sid
            self.connection = connection
            self.direction = direction
            self.transport = transport
            self.packet = packet
            self.ackLatencyMicros = ackLatencyMicros
            self.redacted = redacted
        }
    }

    public struct Undecodable: Hashable, Sendable {
        /// Which decoder refused it.
        public enum Layer: String, Hashable, Sendable {
            case http, payload, engineIO = "eio", socketIO = "sio", webSocket = "ws"
        }

        public var sid: String?
        public var connection: UInt64
        public var direction: Direction
        public var transport: EngineIOTransport?
        public var layer: Layer
        public var data: RecordedData
        public var reason: String
        /// Byte offset of the damage within `data`.
        public var offset: Int

        public init(
            sid: String?, connection: UInt64, direction: Direction, transport: EngineIOTransport?, layer: Layer,
            data: RecordedData, reason: String, offset: Int
        ) {
            self.sid = sid
            self.connection = connection
            self.direction = direction
            self.transport = transport
            self.layer = layer
            self.data = data
            self.reason = reason
            self.offset = offset
        }
    }

    public struct WebSocketClosed: Hashable, Sendable {
        public var sid: String?
        public var connection: UInt64
        public var direction: Direction
        /// The status code, `nil` when the close frame carried none.
        public var code: Int?
        public var reason: String

        public init(sid: String?, connection: UInt64, direction: Direction, code: Int?, reason: String) {
            self.sid = sid
            self.connection = connection
            self.direction = direction
            self.code = code
            self.reason = reason
        }
    }

    public struct SessionClosed: Hashable, Sendable {
        public var sid: String
        /// `client close packet`, `server close packet`, `websocket closed by client`, `http 400`, ...
        public var cause: String

        public init(sid: String, cause: String) {
            self.sid = sid
            self.cause = cause
        }
    }

    public struct Note: Hashable, Sendable {
        public var level: String
        public var message: String
        public var connection: UInt64?

        public init(level: String, message: String, connection: UInt64? = nil) {
            self.level = level
            self.message = message
            self.connection = connection
        }
    }
}
