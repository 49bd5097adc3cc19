import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SIOWire

/// The bench upstream: an Engine.IO v4 / Socket.IO v5 server that answers every event with an ack
/// carrying its arguments, over WebSocket (direct or after polling) and long-polling. Fast enough
/// that the proxy in front of it, not the server, is what a run measures.
enum EchoUpstream {
    static func start(host: String, port: Int, group: any EventLoopGroup) throws -> any Channel {
        let sessions = PollingSessions()
        let ids = SessionIDs()
        return try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: 1 << 20,
                    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                    upgradePipelineHandler: { channel, head in
                        let sid = EngineIORequestTarget(uri: head.uri).sid
                        // The polling handler sits before the frame handlers: it must go first.
                        return channel.pipeline.removeHandler(name: "polling").flatMapThrowing {
                            try channel.pipeline.syncOperations.addHandler(
                                WebSocketEchoHandler(sid: sid ?? ids.next(), sendOpen: sid == nil))
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { _ in }
                        ))
                    try channel.pipeline.syncOperations.addHandler(
                        PollingEchoHandler(sessions: sessions, ids: ids), name: "polling")
                }
            }
            .bind(host: host, port: port)
            .wait()
    }
}

/// Sids `bench000000000000001`, ... (20 characters like the reference server's).
final class SessionIDs: Sendable {
    private let counter = NIOLockedValueBox<UInt64>(0)

    func next() -> String {
        let n = self.counter.withLockedValue { value -> UInt64 in
            value += 1
            return value
        }
        let digits = String(n)
        return "bench" + String(repeating: "0", count: max(0, 15 - digits.count)) + digits
    }
}

/// One WebSocket: Engine.IO packets in text frames.
final class WebSocketEchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let sid: String
    private let sendOpen: Bool

    init(sid: String, sendOpen: Bool) {
        self.sid = sid
        self.sendOpen = sendOpen
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard self.sendOpen else { return }
        let open = EchoLogic.openPacket(sid: self.sid, upgrades: false)
        context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: open)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            if let reply = EchoLogic.reply(toText: frame.unmaskedData, sid: self.sid) {
                context.write(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: reply)), promise: nil)
            }
        case .ping:
            context.write(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            var code = ByteBuffer()
            code.writeInteger(UInt16(1000))
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)))
                .whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
