import NIOCore
import NIOPosix

/// The floor of the benchmark: a TCP relay on SwiftNIO that only copies bytes (no HTTP parsing, no
/// decoding, no recording), with the backpressure and threads of siotape's relay. What siotape
/// costs above it is the cost of capturing; what it costs above nginx is NIO's. With a `LineFeed`, it
/// is the floor of a recording proxy (`LineFeed`).
enum PlainRelay {
    static func start(
        host: String, port: Int, upstreamHost: String, upstreamPort: Int, group: any EventLoopGroup,
        lines: LineFeed? = nil
    ) throws -> any Channel {
        try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { client in
                ClientBootstrap(group: client.eventLoop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: upstreamHost, port: upstreamPort)
                    .flatMapThrowing { upstream in
                        let (a, b) = Glue.pair(lines: lines)
                        try client.pipeline.syncOperations.addHandler(a)
                        try upstream.pipeline.syncOperations.addHandler(b)
                    }
            }
            .bind(host: host, port: port)
            .wait()
    }

    /// One side of the relay: writes what the other side reads, reads only while the other side is
    /// writable (the backpressure of swift-nio-examples' GlueHandler).
    final class Glue: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private var partner: Glue?
        private var context: ChannelHandlerContext?
        private var pendingRead = false
        /// With `--lines`: the recording and the lines of the messages this side reads; where this
        /// side is in its pool.
        private let feed: (lines: LineFeed, pool: LineFeed.Pool)?
        private var counter = WebSocketMessageCounter()
        private var cursor = 0

        private init(feed: (lines: LineFeed, pool: LineFeed.Pool)?) {
            self.feed = feed
        }

        /// The client's side (`a`, which reads what the client sends) and the upstream's (`b`).
        static func pair(lines: LineFeed? = nil) -> (Glue, Glue) {
            let a = Glue(feed: lines.map { ($0, $0.client) })
            let b = Glue(feed: lines.map { ($0, $0.server) })
            a.partner = b
            b.partner = a
            return (a, b)
        }

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }

        func handlerRemoved(context: ChannelHandlerContext) {
            self.context = nil
            self.partner = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.partner?.context?.write(data, promise: nil)
            if let feed = self.feed {
                let messages = self.counter.count(self.unwrapInboundIn(data))
                if messages > 0 { feed.lines.write(messages, of: feed.pool, cursor: &self.cursor) }
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            self.partner?.context?.flush()
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.partner?.context?.close(promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        func channelWritabilityChanged(context: ChannelHandlerContext) {
            if context.channel.isWritable, let partner = self.partner, partner.pendingRead {
                partner.pendingRead = false
                partner.context?.read()
            }
        }

        func read(context: ChannelHandlerContext) {
            if self.partner?.context?.channel.isWritable ?? false {
                context.read()
            } else {
                self.pendingRead = true
            }
        }
    }
}
