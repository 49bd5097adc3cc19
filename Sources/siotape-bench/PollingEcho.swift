import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SIOWire

/// The long-polling sessions of the bench upstream. A session's `GET` waits here until a `POST`
/// (possibly on another connection and event loop) produces something to send.
final class PollingSessions: Sendable {
    private struct Session {
        var queue: [ByteBuffer] = []
        var waiting: (any Channel)?
    }

    private let sessions = NIOLockedValueBox<[String: Session]>([:])

    func create(_ sid: String) {
        self.sessions.withLockedValue { $0[sid] = Session() }
    }

    func exists(_ sid: String) -> Bool {
        self.sessions.withLockedValue { $0[sid] != nil }
    }

    /// Queues `packets` for the session; returns the parked `GET` to answer now, if any.
    func deliver(_ packets: [ByteBuffer], to sid: String) -> (any Channel, ByteBuffer)? {
        guard !packets.isEmpty else { return nil }
        return self.sessions.withLockedValue { sessions -> (any Channel, ByteBuffer)? in
            guard var session = sessions[sid] else { return nil }
            session.queue.append(contentsOf: packets)
            defer { sessions[sid] = session }
            guard let waiting = session.waiting else { return nil }
            session.waiting = nil
            let body = Self.payload(session.queue)
            session.queue.removeAll(keepingCapacity: true)
            return (waiting, body)
        }
    }

    /// The body for a `GET` now, or `nil` when it was parked (or the session is unknown: `exists`).
    func poll(_ sid: String, channel: any Channel) -> ByteBuffer? {
        self.sessions.withLockedValue { sessions -> ByteBuffer? in
            guard var session = sessions[sid] else { return nil }
            defer { sessions[sid] = session }
            guard !session.queue.isEmpty else {
                session.waiting = channel
                return nil
            }
            let body = Self.payload(session.queue)
            session.queue.removeAll(keepingCapacity: true)
            return body
        }
    }

    func remove(_ sid: String) {
        self.sessions.withLockedValue { $0[sid] = nil }
    }

    /// Engine.IO v4 payload: packets joined by the record separator.
    private static func payload(_ packets: [ByteBuffer]) -> ByteBuffer {
        var body = ByteBuffer()
        body.reserveCapacity(packets.reduce(0) { $0 + $1.readableBytes + 1 })
        for (index, packet) in packets.enumerated() {
            if index > 0 { body.writeInteger(UInt8(0x1E)) }
            body.writeImmutableBuffer(packet)
        }
        return body
    }
}

/// Plain HTTP requests of the bench upstream: the polling transport of Engine.IO v4.
final class PollingEchoHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let sessions: PollingSessions
    private let ids: SessionIDs
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(sessions: PollingSessions, ids: SessionIDs) {
        self.sessions = sessions
        self.ids = ids
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body.clear()
        case .body(var bytes):
            self.body.writeBuffer(&bytes)
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.handle(head, context: context)
        }
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let target = EngineIORequestTarget(uri: head.uri)
        guard target.version == .v4, target.transport == .polling else {
            return Self.respond(status: .badRequest, body: ByteBuffer(string: "bad request"), on: context.channel)
        }
        guard let sid = target.sid else {
            let sid = self.ids.next()
            self.sessions.create(sid)
            return Self.respond(body: EchoLogic.openPacket(sid: sid, upgrades: true), on: context.channel)
        }
        guard self.sessions.exists(sid) else {
            return Self.respond(
                status: .badRequest, body: ByteBuffer(string: "{\"code\":1,\"message\":\"Session ID unknown\"}"),
                on: context.channel)
        }
        switch head.method {
        case .POST:
            let decoding = EngineIOPayload.decode(self.body, encoding: .v4Text)
            if decoding.packets.contains(where: { $0.type == .close }) { self.sessions.remove(sid) }
            let replies = decoding.packets.compactMap { EchoLogic.reply(to: $0, sid: sid) }
            if let (waiting, body) = self.sessions.deliver(replies, to: sid) {
                waiting.eventLoop.execute { Self.respond(body: body, on: waiting) }
            }
            Self.respond(body: ByteBuffer(string: "ok"), on: context.channel)
        case .GET:
            if let body = self.sessions.poll(sid, channel: context.channel) {
                Self.respond(body: body, on: context.channel)
            }
        default:
            Self.respond(status: .badRequest, body: ByteBuffer(string: "bad method"), on: context.channel)
        }
    }

    private static func respond(status: HTTPResponseStatus = .ok, body: ByteBuffer, on channel: any Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=UTF-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)),
            promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
    }
}
