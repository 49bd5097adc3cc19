import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A client WebSocket (NIOHTTP1 upgrade + NIOWebSocket frames) that hands whole messages to
/// `onMessage` on the event loop and masks what it sends.
final class WebSocketConnection: @unchecked Sendable {
    enum Event {
        case text(ByteBuffer)
        case binary(ByteBuffer)
        /// The peer sent a close frame, or the connection ended.
        case closed(code: Int?, byPeer: Bool)
    }

    struct UpgradeRefused: Error, CustomStringConvertible {
        var reason: String
        var description: String { "the WebSocket upgrade was refused: \(self.reason)" }
    }

    let loop: EventLoop
    private var channel: Channel?
    private var closing = false
    private var onEvent: ((Event) -> Void)?

    private init(loop: EventLoop) {
        self.loop = loop
    }

    /// Connects and upgrades; the future succeeds once the server's `101` arrived.
    static func connect(
        on loop: EventLoop,
        host: String,
        port: Int,
        uri: String,
        headers: HTTPHeaders,
        onEvent: @escaping (Event) -> Void
    ) -> EventLoopFuture<WebSocketConnection> {
        let connection = WebSocketConnection(loop: loop)
        connection.onEvent = onEvent
        let upgraded = loop.makePromise(of: WebSocketConnection.self)
        let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 24) { channel, _ in
            do {
                let requester = try channel.pipeline.syncOperations.handler(type: UpgradeRequester.self)
                channel.pipeline.syncOperations.removeHandler(requester, promise: nil)
                try channel.pipeline.syncOperations.addHandler(
                    NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0,
                        maxAccumulatedFrameCount: 1 << 16,
                        maxAccumulatedFrameSize: 1 << 26
                    )
                )
                try channel.pipeline.syncOperations.addHandler(FrameHandler(connection: connection))
                connection.channel = channel
                upgraded.succeed(connection)
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        var request = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)
        request.headers = headers
        request.headers.replaceOrAdd(name: "Content-Length", value: "0")
        let head = request
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                do {
                    let requester = UpgradeRequester(head: head, failed: upgraded)
                    // The server may send its first message in the same read as the 101
                    // (a WebSocket-only handshake does): keep those bytes for the frame decoder.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                    try channel.pipeline.syncOperations.addHandler(requester)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: host, port: port)
            .whenFailure { upgraded.fail($0) }
        return upgraded.futureResult
    }

    /// Completes when the connection is closed.
    var closeFuture: EventLoopFuture<Void> { self.channel?.closeFuture ?? self.loop.makeSucceededVoidFuture() }

    /// Sends one message.
    func send(_ bytes: ByteBuffer, binary: Bool) {
        guard let channel = self.channel, !self.closing else { return }
        let frame = WebSocketFrame(fin: true, opcode: binary ? .binary : .text, maskKey: .random(), data: bytes)
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Sends a close frame (1000) and closes the connection once it is written.
    func close() {
        guard let channel = self.channel, !self.closing else { return }
        self.closing = true
        var data = channel.allocator.buffer(capacity: 2)
        data.writeInteger(UInt16(1000))
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
    }

    fileprivate func received(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        switch frame.opcode {
        case .text: self.onEvent?(.text(frame.unmaskedData))
        case .binary: self.onEvent?(.binary(frame.unmaskedData))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(NIOAny(pong), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self).map(Int.init)
            let wasClosing = self.closing
            self.closing = true
            self.finish(.closed(code: code, byPeer: !wasClosing))
            if !wasClosing {
                var echo = context.channel.allocator.buffer(capacity: 2)
                echo.writeInteger(UInt16(code ?? 1000))
                let reply = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: echo)
                let channel = context.channel
                context.writeAndFlush(NIOAny(reply)).whenComplete { _ in channel.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        default: break
        }
    }

    fileprivate func inactive() {
        self.finish(.closed(code: nil, byPeer: !self.closing))
    }

    private func finish(_ event: Event) {
        guard let onEvent = self.onEvent else { return }
        self.onEvent = nil
        onEvent(event)
    }

    /// Writes the upgrade request once connected; reports a refused upgrade.
    final class UpgradeRequester: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart
        let head: HTTPRequestHead
        let failed: EventLoopPromise<WebSocketConnection>
        var status: HTTPResponseStatus?

        init(head: HTTPRequestHead, failed: EventLoopPromise<WebSocketConnection>) {
            self.head = head
            self.failed = failed
        }

        func channelActive(context: ChannelHandlerContext) {
            context.write(self.wrapOutboundOut(.head(self.head)), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head): self.status = head.status
            case .body: break
            case .end:
                // A complete answer that is not a 101: the upgrade was refused.
                self.failed.fail(UpgradeRefused(reason: self.status.map { "HTTP \($0.code)" } ?? "no status"))
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            let reason = self.status.map { "HTTP \($0.code)" } ?? "\(error)"
            self.failed.fail(UpgradeRefused(reason: reason))
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.failed.fail(UpgradeRefused(reason: self.status.map { "HTTP \($0.code)" } ?? "connection closed"))
            context.fireChannelInactive()
        }
    }

    final class FrameHandler: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        let connection: WebSocketConnection

        init(connection: WebSocketConnection) {
            self.connection = connection
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.connection.received(self.unwrapInboundIn(data), context: context)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.connection.inactive()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
