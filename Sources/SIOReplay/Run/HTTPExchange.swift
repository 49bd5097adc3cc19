import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 request on its own connection, the whole response body collected: the polling
/// transport's GET and POST.
enum HTTPExchange {
    struct Response: Sendable {
        var head: HTTPResponseHead
        var body: ByteBuffer
    }

    /// Sends the request; the future fails when the connection cannot be made or is lost.
    /// `channel` receives the connection as soon as it exists, so the caller can abandon it.
    static func send(
        on loop: EventLoop,
        host: String,
        port: Int,
        head: HTTPRequestHead,
        body: ByteBuffer?,
        channel: (@Sendable (Channel) -> Void)? = nil
    ) -> EventLoopFuture<Response> {
        let promise = loop.makePromise(of: Response.self)
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { ch in
                do {
                    try ch.pipeline.syncOperations.addHTTPClientHandlers()
                    try ch.pipeline.syncOperations.addHandler(Collector(head: head, body: body, promise: promise))
                    return ch.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return ch.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let ch): channel?(ch)
                case .failure(let error): promise.fail(error)
                }
            }
        return promise.futureResult
    }

    struct ConnectionLost: Error, CustomStringConvertible {
        var description: String { "the connection closed before the whole response arrived" }
    }

    final class Collector: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart

        let head: HTTPRequestHead
        let body: ByteBuffer?
        let promise: EventLoopPromise<Response>
        var responseHead: HTTPResponseHead?
        var collected = ByteBuffer()
        var done = false

        init(head: HTTPRequestHead, body: ByteBuffer?, promise: EventLoopPromise<Response>) {
            self.head = head
            self.body = body
            self.promise = promise
        }

        func channelActive(context: ChannelHandlerContext) {
            var head = self.head
            if let body = self.body {
                head.headers.replaceOrAdd(name: "Content-Length", value: "\(body.readableBytes)")
            }
            context.write(self.wrapOutboundOut(.head(head)), promise: nil)
            if let body = self.body { context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head): self.responseHead = head
            case .body(var part): self.collected.writeBuffer(&part)
            case .end:
                guard !self.done, let head = self.responseHead else { return }
                self.done = true
                self.promise.succeed(Response(head: head, body: self.collected))
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !self.done {
                self.done = true
                self.promise.fail(ConnectionLost())
            }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            if !self.done {
                self.done = true
                self.promise.fail(error)
            }
            context.close(promise: nil)
        }
    }
}
