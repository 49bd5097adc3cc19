import NIOCore
import NIOWebSocket

/// Refuses the WebSocket frames RFC 6455 forbids a client to send and NIO's decoder lets through,
/// before they are aggregated (aggregated frames lose their mask and reserved bits): an unmasked
/// frame (§5.1), reserved bits without a negotiated extension (§5.2; the mock server negotiates
/// none, so a permessage-deflate frame is refused before anything is inflated), a reserved opcode
/// (§5.2). Each fails the connection with close code 1002, as §7.4.1 says.
final class WebSocketFrameGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.failed else { return }
        let frame = Self.unwrapInboundIn(data)
        let allowed =
            frame.maskKey != nil && !frame.rsv1 && !frame.rsv2 && !frame.rsv3 && Self.knownOpcodes.contains(frame.opcode)
        guard allowed else {
            self.failed = true
            return Self.fail(context.channel, code: .protocolError)
        }
        context.fireChannelRead(data)
    }

    private static let knownOpcodes: [WebSocketOpcode] = [
        .continuation, .text, .binary, .connectionClose, .ping, .pong,
    ]

    /// Sends a close frame with `code`, then closes the connection.
    static func fail(_ channel: any Channel, code: WebSocketErrorCode) {
        var data = channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
            .whenComplete { _ in channel.close(promise: nil) }
    }
}
