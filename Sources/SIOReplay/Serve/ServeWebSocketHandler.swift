import NIOCore
import NIOWebSocket
import SIORecording
import SIOWire

/// The WebSocket of one Engine.IO session (new, or the target of a polling upgrade): frames in,
/// Engine.IO packets to the room. The room writes frames to the channel directly.
final class ServeWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let room: ReplayRoom
    private let version: EngineIOVersion
    private let requestedSID: String?
    private var sid: String?
    private var closing = false
    /// The connection was failed with a close code: frames after it are ignored.
    private var failed = false

    init(room: ReplayRoom, version: EngineIOVersion, sid: String?) {
        self.room = room
        self.version = version
        self.requestedSID = sid
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.sid = self.room.webSocketOpened(sid: self.requestedSID, version: self.version, channel: context.channel)
        if self.sid == nil { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard let sid = self.sid, !self.failed else { return }
        switch frame.opcode {
        case .text:
            // RFC 6455 §8.1: a text message that is not UTF-8 fails the connection with 1007.
            guard frame.unmaskedData.withUnsafeReadableBytes({ isValidUTF8($0) }) else {
                return self.fail(context, code: .dataInconsistentWithMessage)
            }
            do throws(WireError) {
                self.room.webSocketReceived(sid: sid, packet: try EngineIOPacket.decode(webSocketText: frame.unmaskedData))
            } catch {
                self.room.reportUndecodable(sid: sid, error: error)
            }
        case .binary:
            do throws(WireError) {
                let packet = try EngineIOPacket.decode(webSocketBinary: frame.unmaskedData, version: self.version)
                self.room.webSocketReceived(sid: sid, packet: packet)
            } catch {
                self.room.reportUndecodable(sid: sid, error: error)
            }
        case .ping:
            context.writeAndFlush(
                Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            guard !self.closing else { return context.close(promise: nil) }
            self.closing = true
            var data = frame.unmaskedData
            let code = data.readSlice(length: 2) ?? ByteBuffer()
            let channel = context.channel
            context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)))
                .whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let sid = self.sid { self.room.webSocketClosed(sid: sid, channel: context.channel) }
        context.fireChannelInactive()
    }

    /// Decoder errors (`NIOWebSocketError`) were answered by NIO's protocol error handler already;
    /// the aggregator's are answered here: a message over the size limit with 1009, a broken
    /// fragment sequence (a continuation without a start, a new message before the last ended) 1002.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case is NIOWebSocketError:
            self.failed = true
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge,
            NIOWebSocketFrameAggregator.Error.tooManyFragments:
            self.fail(context, code: .messageTooLarge)
        case is NIOWebSocketFrameAggregator.Error:
            self.fail(context, code: .protocolError)
        default:
            context.close(promise: nil)
        }
    }

    private func fail(_ context: ChannelHandlerContext, code: WebSocketErrorCode) {
        guard !self.failed else { return }
        self.failed = true
        WebSocketFrameGuard.fail(context.channel, code: code)
    }
}
