import NIOCore
import NIOHTTP1
import SIOCapture
import SIOWire

/// `siotape-bench capture --transport polling`: the bytes of Engine.IO v4 long-polling sessions as
/// `siotape-bench load --transport polling` and the bench upstream exchange them, handed to the
/// taps as the proxy hands them. Each session has two keep-alive connections, as the load
/// generator opens them: one carries the `GET`s (always one waiting), the other the `POST`s. One
/// round of a session is a `POST` of `batch` events (joined by the record separator 0x1e), its
/// `ok`, the waiting `GET`'s answer with the `batch` acks, and the next `GET`.
///
/// The bytes are made and cut into the proxy's tap calls (`HTTP1StreamParser`, as the proxy's state
/// machine runs it) before the clock starts; the timed loop only calls the taps.
struct PollingCapture {
    /// One call the proxy makes on a tap for HTTP traffic.
    enum TapCall {
        case requestHead(HTTPHead)
        case requestBody(ByteBuffer)
        case requestEnd
        case responseHead(HTTPHead)
        case responseBody(ByteBuffer)
        case responseEnd
    }

    /// One connection's two directions, cut into tap calls by the parser the proxy uses.
    struct Connection {
        let tap: ConnectionTap
        private var requests = HTTP1StreamParser(role: .request)
        private var responses = HTTP1StreamParser(role: .response)

        init(tap: ConnectionTap) {
            self.tap = tap
        }

        /// The tap calls of a request's bytes (the response parser is told its method).
        mutating func request(_ bytes: ByteBuffer) -> [TapCall] {
            var calls: [TapCall] = []
            var heads: [HTTPHead] = []
            self.requests.parse(bytes) { event in
                switch event {
                case .head(let head):
                    heads.append(head)
                    calls.append(.requestHead(head))
                case .content(let body): calls.append(.requestBody(body))
                case .end: calls.append(.requestEnd)
                case .forward: break
                }
            }
            for head in heads { self.responses.expectResponse(to: head) }
            return calls
        }

        /// The tap calls of a response's bytes.
        mutating func response(_ bytes: ByteBuffer) -> [TapCall] {
            var calls: [TapCall] = []
            self.responses.parse(bytes) { event in
                switch event {
                case .head(let head): calls.append(.responseHead(head))
                case .content(let body): calls.append(.responseBody(body))
                case .end: calls.append(.responseEnd)
                case .forward: break
                }
            }
            return calls
        }

        /// Calls the tap as the proxy would, now.
        func run(_ calls: [TapCall]) {
            for call in calls {
                switch call {
                case .requestHead(let head): self.tap.requestHead(head)
                case .requestBody(let bytes): self.tap.requestBody(bytes)
                case .requestEnd: self.tap.requestEnd()
                case .responseHead(let head): self.tap.responseHead(head)
                case .responseBody(let bytes): self.tap.responseBody(bytes)
                case .responseEnd: self.tap.responseEnd()
                }
            }
        }

        /// Hands both directions' bytes to the parsers and the tap at once (the session's set-up).
        mutating func exchange(request: ByteBuffer, response: ByteBuffer) {
            self.run(self.request(request))
            self.run(self.response(response))
        }
    }

    /// The host the load generator names (the proxy's address).
    static let host = "127.0.0.1:8080"

    /// The bytes of a request as the load generator's NIO client writes them.
    static func request(post body: ByteBuffer?, sid: String?) -> ByteBuffer {
        var bytes = ByteBuffer()
        bytes.writeString(body == nil ? "GET " : "POST ")
        bytes.writeString("/socket.io/?EIO=4&transport=polling" + (sid.map { "&sid=\($0)" } ?? ""))
        bytes.writeString(" HTTP/1.1\r\nHost: \(Self.host)\r\n")
        if let body {
            bytes.writeString("Content-Type: text/plain;charset=UTF-8\r\nContent-Length: \(body.readableBytes)\r\n")
        }
        bytes.writeString("\r\n")
        if let body { bytes.writeImmutableBuffer(body) }
        return bytes
    }

    /// The bytes of a `200` as the bench upstream's NIO server writes it.
    static func response(_ body: ByteBuffer) -> ByteBuffer {
        var bytes = ByteBuffer()
        bytes.writeString(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: \(body.readableBytes)\r\n\r\n")
        bytes.writeImmutableBuffer(body)
        return bytes
    }

    /// An Engine.IO v4 payload: packets joined by the record separator.
    static func payload(_ packets: [ByteBuffer]) -> ByteBuffer {
        var body = ByteBuffer()
        for (index, packet) in packets.enumerated() {
            if index > 0 { body.writeInteger(UInt8(0x1E)) }
            body.writeImmutableBuffer(packet)
        }
        return body
    }

    /// One session: its two connections, through the handshake and the namespace connect, with the
    /// `GET` waiting.
    struct Session {
        var get: Connection
        var post: Connection
        let sid: String

        init(hub: CaptureHub, index: Int) {
            self.sid = "capture" + String(repeating: "0", count: 13 - String(index).count) + String(index)
            let peer = 40000 + 2 * index
            self.get = Connection(tap: hub.makeTap(connection: UInt64(2 * index + 1), peer: "127.0.0.1:\(peer)"))
            self.post = Connection(tap: hub.makeTap(connection: UInt64(2 * index + 2), peer: "127.0.0.1:\(peer + 1)"))
            // The handshake on the GET connection.
            self.get.exchange(
                request: PollingCapture.request(post: nil, sid: nil),
                response: PollingCapture.response(EchoLogic.openPacket(sid: self.sid, upgrades: true)))
            // The namespace CONNECT: a GET waits, the POST of `40` answers it.
            self.get.run(self.get.request(PollingCapture.request(post: nil, sid: self.sid)))
            let connect = ByteBuffer(string: "40")
            self.post.exchange(
                request: PollingCapture.request(post: connect, sid: self.sid),
                response: PollingCapture.response(ByteBuffer(string: "ok")))
            let reply = EchoLogic.reply(toText: connect, sid: self.sid)!
            self.get.run(self.get.response(PollingCapture.response(PollingCapture.payload([reply]))))
            // The next GET waits.
            self.get.run(self.get.request(PollingCapture.request(post: nil, sid: self.sid)))
        }
    }

    /// One round of a session, as tap calls in the order the proxy makes them.
    struct Round {
        /// The POST of the events (head, body, end) on the POST connection.
        var post: [TapCall]
        /// The waiting GET's answer with the acks, then the next GET, on the GET connection.
        var get: [TapCall]
        /// The POST's `ok`.
        var postAnswer: [TapCall]
    }

    /// The rounds of `session`, made by the parsers of its connections (`rounds` of them).
    static func rounds(
        of session: inout Session, count: Int, batch: Int, payloads: Payloads, index: Int, id: inout UInt64
    ) -> [Round] {
        (0..<count).map { _ in
            var events: [ByteBuffer] = []
            var acks: [ByteBuffer] = []
            for _ in 0..<batch {
                id += 1
                var event = ByteBuffer()
                payloads.writeEvent(id: id, offset: UInt64(index) &* 7919, into: &event)
                if let reply = EchoLogic.reply(toText: event, sid: session.sid) { acks.append(reply) }
                events.append(event)
            }
            let post = session.post.request(Self.request(post: Self.payload(events), sid: session.sid))
            let postAnswer = session.post.response(Self.response(ByteBuffer(string: "ok")))
            var get = session.get.response(Self.response(Self.payload(acks)))
            get += session.get.request(Self.request(post: nil, sid: session.sid))
            return Round(post: post, get: get, postAnswer: postAnswer)
        }
    }
}
