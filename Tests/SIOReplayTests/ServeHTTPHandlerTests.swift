import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SIORecording
import SIOWire
import Testing

@testable import SIOReplay

/// The mock server's HTTP side in EmbeddedChannels: one channel per client connection, one loop.
@Suite struct ServeHTTPHandlerTests {
    let loop = EmbeddedEventLoop()
    let room: ReplayRoom

    init() throws {
        let script = try ReplayScript.load(path: sampleRecording("signalling"))
        let http = try RecordedHTTPExchange.load(path: sampleRecording("signalling"))
        let configuration = ServeConfiguration(
            fast: true, httpBodies: ["GET /api/rooms": [#"{"rooms":{}}"#]], exitWhenDone: false)
        self.room = ReplayRoom(
            plan: ServePlan(script: script, http: http), configuration: configuration, eventLoop: self.loop,
            logger: Logger(label: "test"), report: { _ in }, onFinished: {})
    }

    private func connection() throws -> EmbeddedChannel {
        EmbeddedChannel(handler: ServeHTTPHandler(room: self.room, maxBody: 1_000_000), loop: self.loop)
    }

    private func request(
        _ channel: EmbeddedChannel, _ method: HTTPMethod, _ uri: String, body: String? = nil
    ) throws {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "Host", value: "127.0.0.1")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        if let body { try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: body))) }
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    /// The response written so far: status and body, nil when none (yet).
    private func response(_ channel: EmbeddedChannel) throws -> (status: Int, type: String?, body: String)? {
        guard case .head(let head)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        guard case .body(.byteBuffer(let body))? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            return nil
        }
        _ = try channel.readOutbound(as: HTTPServerResponsePart.self)
        return (Int(head.status.code), head.headers.first(name: "Content-Type"), String(buffer: body))
    }

    @Test func aHeldPollIsAnsweredWithTheRecordedReplyToAPostedConnect() throws {
        let get = try self.connection()
        try self.request(get, .GET, "/socket.io/?EIO=4&transport=polling&t=1")
        let handshake = try #require(try self.response(get))
        #expect(handshake.status == 200 && handshake.body.hasPrefix(#"0{"sid":""#))
        #expect(handshake.body.hasSuffix(#""upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#))
        let sid = String(handshake.body.dropFirst(#"0{"sid":""#.count).prefix { $0 != "\"" })

        try self.request(get, .GET, "/socket.io/?EIO=4&transport=polling&sid=\(sid)")
        self.loop.run()
        #expect(try self.response(get) == nil, "the GET must wait for something to send")

        let post = try self.connection()
        try self.request(post, .POST, "/socket.io/?EIO=4&transport=polling&sid=\(sid)", body: "40{}")
        #expect(try self.response(post)?.body == "ok")
        self.loop.run()
        let answered = try #require(try self.response(get))
        #expect(answered.body == #"42["connected",{"message":"connected to signalling server"}]"#)

        try self.request(get, .GET, "/socket.io/?EIO=4&transport=polling&sid=\(sid)")
        let reply = try #require(try self.response(get))
        #expect(reply.body.hasPrefix(#"40{"sid":""#) && !reply.body.contains("uq6xyC53uCH_AqTlAAAB"))
    }

    @Test func engineIO3Base64ClientsGetLengthPrefixedText() throws {
        let get = try self.connection()
        try self.request(get, .GET, "/socket.io/?EIO=3&transport=polling&b64=1")
        let handshake = try #require(try self.response(get))
        #expect(handshake.type == "text/plain; charset=UTF-8")
        let length = handshake.body.prefix { $0 != ":" }
        #expect(Int(length) == handshake.body.count - length.count - 1)
        #expect(handshake.body.dropFirst(length.count + 1).hasPrefix(#"0{"sid":""#))
    }

    @Test func unknownSessionsAndPlainRequestsAreAnsweredLikeAServer() throws {
        let channel = try self.connection()
        try self.request(channel, .GET, "/socket.io/?EIO=4&transport=polling&sid=nope")
        let unknown = try #require(try self.response(channel))
        #expect(unknown.status == 400 && unknown.body == #"{"code":1,"message":"Session ID unknown"}"#)

        try self.request(channel, .GET, "/api/rooms")
        let rooms = try #require(try self.response(channel))
        #expect(rooms.status == 200 && rooms.type == "application/json" && rooms.body == #"{"rooms":{}}"#)

        try self.request(channel, .GET, "/api/rooms")
        #expect(try self.response(channel)?.status == 404, "the recording has one GET /api/rooms")
    }
}
