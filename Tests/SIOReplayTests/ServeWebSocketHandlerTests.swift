import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import SIORecording
import SIOWire
import Testing

@testable import SIOReplay

/// A WebSocket-only Engine.IO session of the mock server in an EmbeddedChannel (frames in, frames out).
@Suite struct ServeWebSocketHandlerTests {
    let loop = EmbeddedEventLoop()
    let room: ReplayRoom

    init() throws {
        let script = try ReplayScript.load(path: sampleRecording("signalling"))
        self.room = ReplayRoom(
            plan: ServePlan(script: script), configuration: ServeConfiguration(fast: true, exitWhenDone: false),
            eventLoop: self.loop, logger: Logger(label: "test"), report: { _ in }, onFinished: {})
    }

    private func frames(_ channel: EmbeddedChannel) throws -> [(WebSocketOpcode, String)] {
        var frames: [(WebSocketOpcode, String)] = []
        while let frame = try channel.readOutbound(as: WebSocketFrame.self) {
            frames.append((frame.opcode, String(buffer: frame.unmaskedData)))
        }
        return frames
    }

    private func text(_ text: String) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))
    }

    @Test func aNewSessionGetsTheHandshakeThenTheRecordedRepliesToItsConnect() throws {
        let channel = EmbeddedChannel(
            handler: ServeWebSocketHandler(room: self.room, version: .v4, sid: nil), loop: self.loop)
        let handshake = try self.frames(channel)
        #expect(handshake.count == 1 && handshake[0].0 == .text)
        #expect(handshake[0].1.hasPrefix(#"0{"sid":""#) && handshake[0].1.contains(#""upgrades":[]"#))

        try channel.writeInbound(self.text("40{}"))
        self.loop.run()
        let replies = try self.frames(channel).map(\.1)
        #expect(replies.count == 2)
        #expect(replies.first == #"42["connected",{"message":"connected to signalling server"}]"#)
        #expect(replies.last?.hasPrefix(#"40{"sid":""#) == true)

        try channel.writeInbound(self.text(#"42["ping",{"seq":1}]"#))
        self.loop.run()
        #expect(try self.frames(channel).map(\.1) == [#"42["pong",{"seq":1}]"#])
    }

    @Test func webSocketPingsAreAnsweredAndACloseFrameIsEchoedBeforeClosing() throws {
        let channel = EmbeddedChannel(
            handler: ServeWebSocketHandler(room: self.room, version: .v4, sid: nil), loop: self.loop)
        _ = try self.frames(channel)
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "hi")))
        #expect(try self.frames(channel).map { "\($0.0)" } == ["\(WebSocketOpcode.pong)"])

        var code = ByteBuffer()
        code.write(webSocketErrorCode: .normalClosure)
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
        let close = try self.frames(channel)
        #expect(close.map { "\($0.0)" } == ["\(WebSocketOpcode.connectionClose)"])
        #expect(!channel.isActive)
    }

    /// A server kept running serves client after client: the sessions that ended are forgotten
    /// (as engine.io forgets them), while the summary still counts them.
    @Test func endedSessionsAreForgotten() throws {
        for _ in 0..<5 {
            let channel = EmbeddedChannel(
                handler: ServeWebSocketHandler(room: self.room, version: .v4, sid: nil), loop: self.loop)
            _ = try self.frames(channel)
            try channel.writeInbound(self.text("40{}"))
            self.loop.run()
            #expect(self.room.sessionCount == 1)
            var code = ByteBuffer()
            code.write(webSocketErrorCode: .normalClosure)
            try channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
            self.loop.run()
            #expect(!channel.isActive)
        }
        #expect(self.room.sessionCount == 0)
        #expect(self.room.summary.liveSessions == 5)
    }
}
