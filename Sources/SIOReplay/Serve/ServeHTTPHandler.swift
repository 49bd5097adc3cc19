import NIOCore
import NIOHTTP1
import SIOWire

/// One HTTP connection of the mock server: Engine.IO long-polling (handshake, GET, POST) and plain
/// HTTP requests answered from the recording. WebSocket upgrades are taken by the upgrader before
/// requests reach this handler.
final class ServeHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let room: ReplayRoom
    private let maxBody: Int
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false
    /// The sid of a GET this connection holds open.
    private var heldSID: String?
    /// Called once each request has been read (the server puts NIO's upgrade handler back here).
    var onRequestEnd: ((ChannelHandlerContext) -> Void)?

    init(room: ReplayRoom, maxBody: Int) {
        self.room = room
        self.maxBody = maxBody
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body.clear()
            self.tooLarge = false
        case .body(var chunk):
            if self.body.readableBytes + chunk.readableBytes > self.maxBody {
                self.tooLarge = true
            } else {
                self.body.writeBuffer(&chunk)
            }
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.onRequestEnd?(context)
            self.handle(head, channel: context.channel)
        }
    }

    /// A request NIO's parser refused was answered 400 by `HTTPServerProtocolErrorHandler`; the
    /// connection cannot go on (the parser is stuck), so it is closed, as that handler expects.
    /// (A WebSocket upgrade the upgrader declined is an error too, but its request comes here next.)
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else { return context.fireErrorCaught(error) }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let sid = self.heldSID { self.room.pollAbandoned(sid: sid, channel: context.channel) }
        context.fireChannelInactive()
    }

    private func handle(_ head: HTTPRequestHead, channel: any Channel) {
        let responder = PollResponder(channel: channel, head: head)
        let target = EngineIORequestTarget(uri: head.uri)
        if self.tooLarge {
            return responder.respond(status: .payloadTooLarge, contentType: nil, body: ByteBuffer())
        }
        // An Engine.IO request names its protocol version, transport or session; one without a
        // (supported) version gets engine.io's "Unsupported protocol version".
        guard ["EIO", "transport", "sid"].contains(where: { target.queryValue($0) != nil }) else {
            return self.room.http(method: head.method.rawValue, path: head.uri, body: self.body, responder: responder)
        }
        guard let version = target.version else {
            return responder.respondError(status: 400, message: "Unsupported protocol version")
        }
        if head.method == .OPTIONS {
            return responder.respond(status: .noContent, contentType: nil, body: ByteBuffer())
        }
        guard target.transport == .polling else {
            // A WebSocket request the upgrader refused (unknown sid, or no Upgrade header).
            let message: String
            if target.transport == nil {
                message = "Transport unknown"
            } else if let sid = target.sid, !self.room.isOpen(sid: sid) {
                message = "Session ID unknown"
            } else {
                message = "Bad request"
            }
            return responder.respondError(status: 400, message: message)
        }
        switch (head.method, target.sid) {
        case (.GET, nil):
            let (_, open) = self.room.openSession(version: version, transport: .polling, base64: target.base64)
            responder.respond(packets: [open], version: version, base64: target.base64)
        case (.GET, let sid?):
            self.heldSID = sid
            self.room.poll(sid: sid, responder: responder)
        case (.POST, let sid?):
            self.room.post(
                sid: sid, body: self.body, contentType: head.headers.first(name: "Content-Type"), responder: responder)
        case (_, nil):
            responder.respondError(status: 400, message: "Bad handshake method")
        default:
            responder.respondError(status: 400, message: "Bad request")
        }
    }
}
