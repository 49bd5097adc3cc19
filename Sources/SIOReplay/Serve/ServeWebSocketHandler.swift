import NIOCore
import NIOWebSocket
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
        guard let sid = self.sid else { return }
        switch frame.opcode {
        case .text:
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

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
