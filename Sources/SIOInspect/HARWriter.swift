import NIOCore
import SIORecording
import SIOWire

/// HAR 1.2 in the shape Chrome DevTools exports for WebSockets: one entry per Engine.IO session
/// (WebSocket or long-polling alike) with `_resourceType: "websocket"` and its packets in
/// `_webSocketMessages` (`type` send/receive, `time` in epoch seconds, `opcode` 1 text / 2
/// binary, `data` the Engine.IO packet as on a WebSocket: `42["chat",...]`, binary as base64).
///
/// An entry is written as soon as its session closes, so memory holds only open sessions.
/// Every HTTP exchange that is not Engine.IO is an entry too, with its headers and bodies
/// (`HARWriter+HTTP.swift`), written when the exchange ends.
public struct HARWriter {
    private struct Session {
        var start: Int64
        var end: Int64
        var path = "/socket.io/"
        var query: [Record.KeyValue] = []
        var headers: [Record.KeyValue] = []
        var websocket = false
        var version: SocketIOVersion = .v5
        var messages = ByteBuffer()
        var count = 0
    }

    let host: String
    private var sessions: [String: Session] = [:]
    /// Sessions in the order they were first seen, for a stable output.
    private var order: [String] = []
    var entries = 0
    /// Bodies of exchanges that are not Engine.IO, until their `http` record.
    var pendingBodies: [PendingKey: PendingBody] = [:]

    /// `host` is `host:port` for the entries' URLs (the upstream's, from the recording header).
    public init(host: String) {
        self.host = host
    }

    /// `host:port` of a URL such as `http://127.0.0.1:5000/base`.
    public static func host(ofURL url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        return String(rest.prefix { $0 != "/" })
    }

    public func start(into out: inout ByteBuffer, version: String) {
        out.writeString("{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"siotape\",\"version\":")
        out.writeJSONString(version)
        out.writeString("},\"pages\":[],\"entries\":[\n")
    }

    /// Takes one record at wall-clock `wall` (µs since the epoch); may write a finished entry.
    public mutating func add(_ record: Record, wall: Int64, into out: inout ByteBuffer) {
        switch record.event {
        case .sessionOpened(let e):
            var session = self.session(e.sid, wall)
            session.start = min(session.start, wall)
            session.path = e.path
            session.query = e.query
            session.headers = e.headers
            session.websocket = e.transport == .websocket
            session.version = e.engineIOVersion == .v3 ? .v4 : .v5
            self.sessions[e.sid] = session
        case .upgraded(let e):
            self.update(e.sid, wall) { $0.websocket = true }
        case .engine(let e):
            guard let sid = e.sid else { return }
            self.update(sid, wall) { session in
                var data = ByteBuffer()
                data.writeString(String(e.type.rawValue))
                switch e.data {
                case .text(let text)?: data.writeString(text)
                case .binary(let bytes)?:
                    Self.message(&session, e.direction, wall, opcode: 2, data: bytes)
                    return
                case nil: break
                }
                Self.message(&session, e.direction, wall, opcode: 1, data: data)
            }
        case .socket(let e):
            guard let sid = e.sid else { return }
            self.update(sid, wall) { session in
                if e.packet.parser == .msgpack {
                    // One binary message: the packet's msgpack (rebuilt from the fields, or as kept).
                    if let message = try? e.packet.encodeMsgPack() {
                        Self.message(&session, e.direction, wall, opcode: 2, data: message)
                    }
                    return
                }
                var text = ByteBuffer(staticString: "4")
                var encoded = e.packet.encodeText(version: session.version)
                text.writeBuffer(&encoded)
                Self.message(&session, e.direction, wall, opcode: 1, data: text)
                for attachment in e.packet.attachments {
                    Self.message(&session, e.direction, wall, opcode: 2, data: attachment)
                }
            }
        case .undecodable(let e):
            guard let sid = e.sid else { return }
            self.update(sid, wall) { session in
                switch e.data {
                case .text(let text): Self.message(&session, e.direction, wall, opcode: 1, data: ByteBuffer(string: text))
                case .binary(let bytes): Self.message(&session, e.direction, wall, opcode: 2, data: bytes)
                }
            }
        case .body(let e):
            self.addBody(e)
        case .http(let e):
            self.addExchange(e, wall: wall, into: &out)
        case .sessionClosed(let e):
            guard self.sessions[e.sid] != nil else { return }
            self.update(e.sid, wall) { _ in }
            self.writeEntry(e.sid, into: &out)
        default:
            return
        }
    }

    /// Writes the sessions still open and closes the document.
    public mutating func finish(into out: inout ByteBuffer) {
        for sid in self.order where self.sessions[sid] != nil { self.writeEntry(sid, into: &out) }
        out.writeString("\n]}}\n")
    }

    private mutating func session(_ sid: String, _ wall: Int64) -> Session {
        if let session = self.sessions[sid] { return session }
        self.order.append(sid)
        return Session(start: wall, end: wall)
    }

    private mutating func update(_ sid: String, _ wall: Int64, _ body: (inout Session) -> Void) {
        var session = self.session(sid, wall)
        self.sessions[sid] = nil  // unique while mutated
        session.end = max(session.end, wall)
        body(&session)
        self.sessions[sid] = session
    }

    private static func message(_ s: inout Session, _ direction: Direction, _ wall: Int64, opcode: Int, data: ByteBuffer) {
        if s.count > 0 { s.messages.writeStaticString(",") }
        s.count += 1
        s.messages.writeStaticString("{\"type\":\"")
        s.messages.writeString(direction == .clientToServer ? "send" : "receive")
        s.messages.writeStaticString("\",\"time\":")
        s.messages.writeString(Self.seconds(wall))
        s.messages.writeStaticString(",\"opcode\":")
        s.messages.writeString(String(opcode))
        s.messages.writeStaticString(",\"data\":")
        if opcode == 2 {
            var base64 = ByteBuffer()
            Base64.encode(data, into: &base64)
            s.messages.writeJSONString(String(buffer: base64))
        } else {
            s.messages.writeJSONString(String(buffer: data))
        }
        s.messages.writeStaticString("}")
    }

    private mutating func writeEntry(_ sid: String, into out: inout ByteBuffer) {
        guard var s = self.sessions.removeValue(forKey: sid) else { return }
        if self.entries > 0 { out.writeStaticString(",\n") }
        self.entries += 1
        var query = s.query
        if !query.contains(where: { $0.name == "sid" }) { query.append(.init("sid", sid)) }
        let queryText = query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let url = (s.websocket ? "ws://" : "http://") + self.host + s.path + "?" + queryText
        out.writeStaticString("{\"startedDateTime\":")
        out.writeJSONString(Self.iso8601(s.start))
        out.writeString(",\"time\":\(Double(s.end - s.start) / 1000),\"request\":{\"method\":\"GET\",\"url\":")
        out.writeJSONString(url)
        out.writeStaticString(",\"httpVersion\":\"HTTP/1.1\",\"headers\":")
        Self.pairs(s.headers, "name", into: &out)
        out.writeStaticString(",\"queryString\":")
        Self.pairs(query, "name", into: &out)
        out.writeStaticString(",\"cookies\":[],\"headersSize\":-1,\"bodySize\":0},")
        out.writeString(
            "\"response\":{\"status\":\(s.websocket ? 101 : 200),\"statusText\":\"\(s.websocket ? "Switching Protocols" : "OK")\","
                + "\"httpVersion\":\"HTTP/1.1\",\"headers\":[],\"cookies\":[],"
                + "\"content\":{\"size\":0,\"mimeType\":\"x-unknown\"},\"redirectURL\":\"\",\"headersSize\":-1,\"bodySize\":0},"
        )
        out.writeString(
            "\"cache\":{},\"timings\":{\"blocked\":-1,\"dns\":-1,\"ssl\":-1,\"connect\":-1,\"send\":0,"
                + "\"wait\":\(Double(s.end - s.start) / 1000),\"receive\":0},"
        )
        out.writeStaticString("\"_resourceType\":\"websocket\",\"_siotapeSid\":")
        out.writeJSONString(sid)
        out.writeStaticString(",\"_webSocketMessages\":[")
        out.writeBuffer(&s.messages)
        out.writeStaticString("]}")
    }

    static func pairs(_ pairs: [Record.KeyValue], _ nameKey: String, into out: inout ByteBuffer) {
        out.writeStaticString("[")
        for (i, pair) in pairs.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            out.writeStaticString("{\"name\":")
            out.writeJSONString(pair.name)
            out.writeStaticString(",\"value\":")
            out.writeJSONString(pair.value)
            out.writeStaticString("}")
        }
        out.writeStaticString("]")
    }

    /// `1795283490.366567`.
    static func seconds(_ micros: Int64) -> String {
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// `2026-11-21T17:51:30.366Z` (milliseconds, as Chrome writes it).
    static func iso8601(_ micros: Int64) -> String {
        let full = Timestamp.iso8601(micros: micros)
        return String(full.prefix(23)) + "Z"
    }
}
