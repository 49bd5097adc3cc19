import NIOCore
import NIOHTTP1

/// One browser connection: hands each request to `ViewRequestHandler` and executes its
/// decision. Live long polls are answered when the store has new lines (checked every 50 ms
/// on this loop) or after 10 s.
final class ViewHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let model: ViewModel
    private let decisions: ViewRequestHandler?
    private var head: HTTPRequestHead?
    private var waiting: Scheduled<Void>?

    static let pollInterval = TimeAmount.milliseconds(50)
    static let pollTimeout = TimeAmount.seconds(10)

    init(model: ViewModel, decisions: ViewRequestHandler?) {
        self.model = model
        self.decisions = decisions
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.handle(head, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.waiting?.cancel()
        self.waiting = nil
        context.fireChannelInactive()
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let decisions = self.decisions else {
            self.respond(context, head, status: .serviceUnavailable, type: "text/plain", body: ByteBuffer(string: "starting\n"))
            return
        }
        let request = ViewRequest(
            method: head.method.rawValue, uri: head.uri, host: head.headers.first(name: "host"),
            cookie: head.headers["cookie"].isEmpty ? nil : head.headers["cookie"].joined(separator: "; "))
        switch decisions.decide(request) {
        case .reject(let status, let reason):
            self.respond(
                context, head, status: HTTPResponseStatus(statusCode: status), type: "text/plain; charset=utf-8",
                body: ByteBuffer(string: reason + "\n"))
        case .asset(let asset, let setCookie):
            self.respond(
                context, head, status: .ok, type: asset.contentType, body: ByteBuffer(string: asset.body),
                setCookie: setCookie)
        case .api(let route, let query, let setCookie):
            if let body = self.model.answer(route, query) {
                self.respond(context, head, status: .ok, type: "application/json", body: body, setCookie: setCookie)
            } else {
                self.respond(context, head, status: .notFound, type: "text/plain", body: ByteBuffer(string: "not found\n"))
            }
        case .poll(let query):
            self.poll(query, head: head, context: context, deadline: .now() + Self.pollTimeout)
        }
    }

    private func poll(_ query: ViewQuery, head: HTTPRequestHead, context: ChannelHandlerContext, deadline: NIODeadline) {
        if self.model.hasLines(after: query.after) || NIODeadline.now() >= deadline {
            self.waiting = nil
            let body = self.model.answer(.live, query) ?? ByteBuffer()
            self.respond(context, head, status: .ok, type: "application/json", body: body)
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.waiting = context.eventLoop.scheduleTask(in: Self.pollInterval) {
            let (handler, context) = loopBound.value
            handler.poll(query, head: head, context: context, deadline: deadline)
        }
    }

    private func respond(
        _ context: ChannelHandlerContext, _ request: HTTPRequestHead, status: HTTPResponseStatus, type: String,
        body: ByteBuffer, setCookie: String? = nil
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        headers.add(name: "X-Frame-Options", value: "DENY")
        headers.add(
            name: "Content-Security-Policy",
            value: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
        if let setCookie { headers.add(name: "Set-Cookie", value: setCookie) }
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
