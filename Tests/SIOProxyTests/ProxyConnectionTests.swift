#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOEmbedded
import SIOCapture
import SIORecording
import SIOWire
import Synchronization
import Testing

@testable import SIOProxy

private final class CollectingSink: RecordSink {
    private let storage = Mutex<[Record]>([])
    /// Called with each record as the capture hands it over.
    let observer = Mutex<(@Sendable (Record) -> Void)?>(nil)
    func receive(_ record: Record) {
        self.observer.withLock { $0 }?(record)
        self.storage.withLock { $0.append(record) }
    }
    var records: [Record] { self.storage.withLock { $0 } }
}

/// Counts the reads that reach the socket, i.e. that the relay let through.
private final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer
    var reads = 0
    func read(context: ChannelHandlerContext) {
        self.reads += 1
        context.read()
    }
}

/// Records how the relay asked to close, and keeps an output half-close from closing the embedded
/// channel altogether (an `EmbeddedChannel` has no half-closed state of its own).
private final class CloseRecorder: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer
    var modes: [CloseMode] = []
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        self.modes.append(mode)
        if mode == .output {
            promise?.succeed(())
        } else {
            context.close(mode: mode, promise: promise)
        }
    }
}

/// Moves the capture's clock on at every flush of its channel: time passes while bytes go out.
private final class AdvanceOnFlush: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer
    let clock: StepClock
    let step: Duration
    init(_ clock: StepClock, by step: Duration) {
        self.clock = clock
        self.step = step
    }
    func flush(context: ChannelHandlerContext) {
        self.clock.advance(by: self.step)
        context.flush()
    }
}

/// Closes its channel when it is flushed, as a socket whose write fails does: the close (and the
/// proxy's handling of it) happens inside the flush call. With `failing`, as NIO's socket does: the
/// writes not yet sent fail with that error first, and no `errorCaught` is fired.
private final class CloseOnFlush: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer
    var armed = false
    var failing: (any Error)?
    private var unsent: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard self.armed, self.failing != nil else { return context.write(data, promise: promise) }
        if let promise { self.unsent.append(promise) }
    }

    func flush(context: ChannelHandlerContext) {
        guard self.armed else { return context.flush() }
        self.armed = false
        if let error = self.failing {
            for promise in self.unsent { promise.fail(error) }
            self.unsent = []
        }
        context.close(promise: nil)
    }
}

/// A client channel and an upstream channel glued by a real `ProxyConnection`, on one embedded loop.
private struct Relay {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let upstream: EmbeddedChannel
    let sink = CollectingSink()
    /// The capture's clock: it moves only when a test moves it.
    let clock = StepClock()
    let connection: ProxyConnection
    let clientReads = ReadCounter()
    let upstreamCloses = CloseRecorder()
    let upstreamFlushFails = CloseOnFlush()
    let clientFlushFails = CloseOnFlush()

    /// `connectUpstream: false` leaves the upstream channel connecting, until `connectUpstream()`.
    init(rewriteHost: Bool = false, connectUpstream: Bool = true) throws {
        let hub = CaptureHub(
            configuration: CaptureConfiguration(), sink: self.sink, logger: Logger(label: "test"), clock: self.clock)
        let configuration = ProxyConfiguration(
            upstream: try UpstreamURL("http://127.0.0.1:5000"), rewriteHost: rewriteHost)
        self.connection = ProxyConnection(
            id: 1, configuration: configuration, tap: hub.makeTap(connection: 1, peer: "127.0.0.1:40000"),
            capture: CaptureQueue(hub: hub, limits: .init(deferred: false)), clientIP: "127.0.0.1",
            logger: Logger(label: "test")
        ) { _ in }
        self.client = EmbeddedChannel(loop: self.loop)
        try self.client.pipeline.syncOperations.addHandlers([
            self.clientReads, self.clientFlushFails, RelayHandler(side: .client, connection: self.connection),
        ])
        self.upstream = EmbeddedChannel(loop: self.loop)
        try self.upstream.pipeline.syncOperations.addHandlers([
            self.upstreamCloses, self.upstreamFlushFails, RelayHandler(side: .upstream, connection: self.connection),
        ])
        try self.client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        if connectUpstream { try self.connectUpstream() }
    }

    func connectUpstream() throws {
        try self.upstream.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5000)).wait()
    }

    /// Bytes arrive from the client; returns what the upstream was sent.
    func fromClient(_ text: String) throws -> String {
        try self.client.writeInbound(ByteBuffer(string: text))
        self.client.pipeline.fireChannelReadComplete()
        return try Self.drain(self.upstream)
    }

    func fromClient(bytes: [UInt8]) throws -> [UInt8] {
        try self.client.writeInbound(ByteBuffer(bytes: bytes))
        self.client.pipeline.fireChannelReadComplete()
        var out: [UInt8] = []
        while let buffer = try self.upstream.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
        return out
    }

    /// Bytes arrive from the upstream; returns what the client was sent.
    func fromUpstream(_ text: String) throws -> String {
        try self.upstream.writeInbound(ByteBuffer(string: text))
        self.upstream.pipeline.fireChannelReadComplete()
        return try Self.drain(self.client)
    }

    func fromUpstream(bytes: [UInt8]) throws -> [UInt8] {
        try self.upstream.writeInbound(ByteBuffer(bytes: bytes))
        self.upstream.pipeline.fireChannelReadComplete()
        var out: [UInt8] = []
        while let buffer = try self.client.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
        return out
    }

    static func drain(_ channel: EmbeddedChannel) throws -> String {
        var out = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out += String(buffer: buffer) }
        return out
    }
}

@Suite struct ProxyConnectionTests {
    @Test func requestHeadsGainForwardedLinesAndNothingElseChanges() throws {
        let relay = try Relay()
        let post =
            "POST /socket.io/?EIO=4&transport=polling&sid=s1 HTTP/1.1\r\nHost: localhost:8080\r\n"
            + "Content-Length: 5\r\n\r\n40abc"
        let forwarded = try relay.fromClient(post)
        #expect(
            forwarded
                == "POST /socket.io/?EIO=4&transport=polling&sid=s1 HTTP/1.1\r\nHost: localhost:8080\r\n"
                + "Content-Length: 5\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n"
                + "X-Forwarded-Host: localhost:8080\r\n\r\n40abc")
        let response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"
        #expect(try relay.fromUpstream(response) == response)
        let http = relay.sink.records.compactMap { record -> Record.HTTPExchange? in
            if case .http(let exchange) = record.event { return exchange }
            return nil
        }
        #expect(http.map(\.status) == [200])
        #expect(http.first?.sid == "s1")
    }

    @Test func hostIsRewrittenOnlyWhenAsked() throws {
        let relay = try Relay(rewriteHost: true)
        let forwarded = try relay.fromClient("GET / HTTP/1.1\r\nhost: app.test\r\nAccept: */*\r\n\r\n")
        #expect(forwarded.hasPrefix("GET / HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nAccept: */*\r\n"))
        #expect(forwarded.contains("X-Forwarded-Host: app.test\r\n"))
    }

    @Test func afterTheUpstreamsSwitchingProtocolsFramesPassUntouchedBothWays() throws {
        let relay = try Relay()
        _ = try relay.fromClient(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        // Nothing goes back to the client before the upstream answers.
        #expect(try Relay.drain(relay.client).isEmpty)
        let switching =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        let handshake = Array(#"0{"sid":"wsSID","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#.utf8)
        let serverFrame: [UInt8] = [0x81, UInt8(handshake.count)] + handshake
        #expect(try relay.fromUpstream(bytes: Array(switching.utf8) + serverFrame) == Array(switching.utf8) + serverFrame)

        // A masked client text frame `40` and a masked `42["hi"]`, forwarded byte for byte.
        let key: [UInt8] = [1, 2, 3, 4]
        func masked(_ text: String) -> [UInt8] {
            let payload = Array(text.utf8).enumerated().map { $0.element ^ key[$0.offset % 4] }
            return [0x81, 0x80 | UInt8(payload.count)] + key + payload
        }
        let clientFrames = masked("40") + masked("42[\"hi\"]")
        #expect(try relay.fromClient(bytes: clientFrames) == clientFrames)

        let events = relay.sink.records.compactMap { record -> Record.SocketPacket? in
            if case .socket(let packet) = record.event { return packet }
            return nil
        }
        #expect(events.map(\.packet.type) == [.connect, .event])
        #expect(events.last?.packet.eventName == "hi")
        #expect(events.allSatisfy { $0.sid == "wsSID" && $0.transport == .websocket })
    }

    /// The client sent a frame before the upstream's `101` arrived; relaying it to the upstream fails
    /// and closes the upstream at once. The close is handled after the response parser has
    /// returned, not inside it (that re-entered the parser: an exclusivity trap).
    @Test func anUpstreamThatFailsWhenTheHeldBytesAreFlushedIsClosedCleanly() throws {
        let relay = try Relay()
        let key: [UInt8] = [1, 2, 3, 4]
        let early = [0x81, 0x82] + key + [UInt8(ascii: "4") ^ 1, UInt8(ascii: "0") ^ 2]
        _ = try relay.fromClient(
            bytes: Array(
                ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").utf8) + early)
        relay.upstreamFlushFails.armed = true
        let switching =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        #expect(try relay.fromUpstream(switching) == switching)
        #expect(!relay.upstream.isActive)
        relay.loop.run()
        let closes = relay.sink.records.compactMap { record -> String? in
            if case .connectionClosed(let closed) = record.event { return closed.cause }
            return nil
        }
        #expect(!relay.client.isActive)
        #expect(closes == ["upstream"])
    }

    @Test func aClientHalfCloseBecomesAHalfCloseOfTheUpstream() throws {
        let relay = try Relay()
        _ = try relay.fromClient("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        relay.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        relay.loop.run()
        // The upstream's output is shut once what was written before has gone out; it stays open
        // for reading so the response can still come back.
        #expect(relay.upstreamCloses.modes == [.output])
        #expect(relay.upstream.isActive)
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        #expect(try relay.fromUpstream(response) == response)
    }

    /// NIO reads a half-closed client's input to its end at once, backpressure or not: the request
    /// and the half-close can come before the upstream connection is made. The upstream gets both
    /// once it is (the bytes were written to no channel and lost, and the upstream waited for them:
    /// NetworkFaultTests' half-close-client on a loaded machine).
    @Test func aRequestAndHalfCloseReadBeforeTheUpstreamConnectedReachItOnceItIs() throws {
        let relay = try Relay(connectUpstream: false)
        try relay.client.writeInbound(
            ByteBuffer(string: "GET /socket.io/?EIO=4&transport=polling&sid=half HTTP/1.1\r\nHost: h\r\n\r\n"))
        relay.client.pipeline.fireChannelReadComplete()
        relay.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        relay.loop.run()
        try relay.connectUpstream()
        relay.loop.run()
        #expect(
            try Relay.drain(relay.upstream)
                == "GET /socket.io/?EIO=4&transport=polling&sid=half HTTP/1.1\r\nHost: h\r\n"
                + "X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n")
        #expect(relay.upstreamCloses.modes == [.output])
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n42[\"half\"]"
        #expect(try relay.fromUpstream(response) == response)
        let http = relay.sink.records.compactMap { record -> Record.HTTPExchange? in
            if case .http(let exchange) = record.event { return exchange }
            return nil
        }
        #expect(http.map(\.status) == [200])
    }

    /// A client that resets mid-request: what it sent before reaches the upstream, which is then
    /// closed whole, not half-closed (on a socket with `SO_LINGER` 0, i.e. reset: an `EmbeddedChannel`
    /// has no socket, NetworkFaultTests checks the RST on real ones).
    @Test func aClientResetEndsTheUpstreamAfterWhatTheClientSent() throws {
        let relay = try Relay()
        try relay.client.writeInbound(ByteBuffer(string: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhalf"))
        // As NIO reports a reset: the error before the end of the read, and the handler closes the channel.
        relay.client.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)"))
        relay.loop.run()
        #expect(!relay.client.isActive)
        let sent = try Relay.drain(relay.upstream)
        #expect(sent.hasPrefix("POST / HTTP/1.1\r\n") && sent.hasSuffix("\r\n\r\nhalf"), "\(sent)")
        #expect(relay.upstreamCloses.modes == [.all])
        #expect(!relay.upstream.isActive)
        let closes = relay.sink.records.compactMap { record -> String? in
            if case .connectionClosed(let closed) = record.event { return closed.cause }
            return nil
        }
        #expect(closes == ["client reset"])
    }

    /// NIO closes a channel whose send fails without `errorCaught`; the failed write says why. A
    /// reset (`ECONNRESET`, or `EPIPE` once the reset was reported) is passed on as a reset; a write
    /// cancelled by a close of the proxy's own is not a failure of the peer.
    @Test(arguments: [
        (IOError(errnoCode: ECONNRESET, reason: "write(descriptor:pointer:size:)") as any Error, "client reset"),
        (IOError(errnoCode: EPIPE, reason: "write(descriptor:pointer:size:)") as any Error, "client reset"),
        (ChannelError.ioOnClosedChannel as any Error, "client"),
    ])
    func aWriteThatMeetsAResetPassesItOn(_ error: any Error, _ cause: String) throws {
        let relay = try Relay()
        _ = try relay.fromClient("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        relay.clientFlushFails.failing = error
        relay.clientFlushFails.armed = true
        #expect(try relay.fromUpstream("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf") == "")
        relay.loop.run()
        #expect(!relay.client.isActive)
        #expect(!relay.upstream.isActive)
        let closes = relay.sink.records.compactMap { record -> String? in
            if case .connectionClosed(let closed) = record.event { return closed.cause }
            return nil
        }
        #expect(closes == [cause])
    }

    @Test func aSendThatFailsWithAResetIsAReset() {
        #expect(ProxyConnection.failure(IOError(errnoCode: ECONNRESET, reason: "read")) == .reset)
        #expect(ProxyConnection.failure(IOError(errnoCode: EPIPE, reason: "writev")) == .reset)
        #expect(ProxyConnection.failure(IOError(errnoCode: ETIMEDOUT, reason: "writev")) != .reset)
    }

    @Test func theClientIsNotReadWhileTheUpstreamCannotTakeMore() throws {
        let relay = try Relay()
        relay.upstream.isWritable = false
        relay.upstream.pipeline.fireChannelWritabilityChanged()
        // The client side holds its read back while its partner is not writable ...
        let readsBefore = relay.clientReads.reads
        relay.client.read()
        #expect(relay.clientReads.reads == readsBefore)
        // ... and issues it once the upstream drains.
        relay.upstream.isWritable = true
        relay.upstream.pipeline.fireChannelWritabilityChanged()
        #expect(relay.clientReads.reads == readsBefore + 1)
    }

    @Test func anUnreachableUpstreamGetsTheClientA502ThatSaysWhy() throws {
        let relay = try Relay()
        relay.connection.upstreamConnectFailed(ChannelError.connectTimeout(.seconds(10)))
        try relay.client.writeInbound(ByteBuffer(string: "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"))
        let answer = try Relay.drain(relay.client)
        #expect(answer.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
        #expect(answer.contains("cannot reach the upstream http://127.0.0.1:5000"))
    }
}

/// What a test saw of a channel from inside the capture's sink (the sink is called on the loop).
private final class SeenAtTap: @unchecked Sendable {
    let channel: EmbeddedChannel
    var bytes: [[UInt8]] = []
    init(_ channel: EmbeddedChannel) { self.channel = channel }
}

@Suite struct ProxyConnectionWebSocketTests {
    static let masks: [UInt8] = [1, 2, 3, 4]

    static func masked(_ text: String) -> [UInt8] {
        let payload = Array(text.utf8).enumerated().map { $0.element ^ Self.masks[$0.offset % 4] }
        return [0x81, 0x80 | UInt8(payload.count)] + Self.masks + payload
    }

    /// A relay whose client and upstream have completed a WebSocket handshake and opened a session.
    fileprivate static func webSocketRelay() throws -> Relay {
        let relay = try Relay()
        _ = try relay.fromClient(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        let switching =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        let handshake = Array(#"0{"sid":"wsSID","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#.utf8)
        _ = try relay.fromUpstream(bytes: Array(switching.utf8) + [0x81, UInt8(handshake.count)] + handshake)
        _ = try relay.fromClient(bytes: Self.masked("40"))
        return relay
    }

    fileprivate static func socketEvents(_ relay: Relay) -> [String?] {
        relay.sink.records.compactMap { record -> String?? in
            if case .socket(let packet) = record.event, packet.packet.type == .event { return packet.packet.eventName }
            return nil
        }
    }

    /// A frame relayed into a reset socket: the write (which carries the flush's promise) fails, NIO
    /// closes the channel without `errorCaught`, and the other side is reset, not closed.
    @Test func aFrameWrittenToAPeerThatResetPassesTheResetOn() throws {
        let relay = try Self.webSocketRelay()
        relay.upstreamFlushFails.failing = IOError(errnoCode: ECONNRESET, reason: "write(descriptor:pointer:size:)")
        relay.upstreamFlushFails.armed = true
        #expect(try relay.fromClient(bytes: Self.masked(#"42["to a peer that is gone"]"#)) == [])
        relay.loop.run()
        #expect(!relay.upstream.isActive)
        #expect(!relay.client.isActive)
        let closes = relay.sink.records.compactMap { record -> String? in
            if case .connectionClosed(let closed) = record.event { return closed.cause }
            return nil
        }
        #expect(closes == ["upstream reset"])
    }

    /// Capturing never delays a frame: by the time the capture records it, the frame has been
    /// written and flushed to the other side.
    @Test func aFrameReachesTheOtherSideBeforeTheCaptureRecordsIt() throws {
        let relay = try Self.webSocketRelay()
        let upstreamSeen = SeenAtTap(relay.upstream)
        let clientSeen = SeenAtTap(relay.client)
        relay.sink.observer.withLock {
            $0 = { record in
                guard case .socket(let packet) = record.event, packet.packet.type == .event else { return }
                for seen in [upstreamSeen, clientSeen] {
                    while let buffer = try? seen.channel.readOutbound(as: ByteBuffer.self) {
                        seen.bytes.append(Array(buffer.readableBytesView))
                    }
                }
            }
        }
        let fromClient = Self.masked(#"42["hi"]"#)
        try relay.client.writeInbound(ByteBuffer(bytes: fromClient))
        #expect(upstreamSeen.bytes == [fromClient])
        let fromServer: [UInt8] = [0x81, 10] + Array(#"42["ho",1]"#.utf8)
        try relay.upstream.writeInbound(ByteBuffer(bytes: fromServer))
        #expect(clientSeen.bytes == [fromServer])
        #expect(Self.socketEvents(relay) == ["hi", "ho"])
    }

    /// A frame is stamped when it was read, not after its relay: an answer it causes on another
    /// connection is read after the relay, so it must never be stamped earlier than the frame
    /// (`replay serve` finds what a server packet answered by these times). Here each flush takes
    /// 500 µs of the capture's clock.
    @Test func aFrameIsStampedWhenItWasReadNotAfterItWasRelayed() throws {
        let relay = try Self.webSocketRelay()
        let clock = relay.clock
        for channel in [relay.upstream, relay.client] {
            try channel.pipeline.syncOperations.addHandler(
                AdvanceOnFlush(clock, by: .microseconds(500)), position: .first)
        }
        clock.set(microseconds: 1_000)
        try relay.client.writeInbound(ByteBuffer(bytes: Self.masked(#"42["hi"]"#)))
        try relay.upstream.writeInbound(ByteBuffer(bytes: [0x81, 10] + Array(#"42["ho",1]"#.utf8)))
        let events = relay.sink.records.compactMap { record -> Int64? in
            guard case .socket(let packet) = record.event, packet.packet.type == .event else { return nil }
            return record.time
        }
        // Read at 1,000 µs, relayed until 1,500; the answer read at 1,500, relayed until 2,000.
        #expect(events == [1_000, 1_500])
    }

    /// A flush that fails closes the channel inside the flush; the close is handled after the frame
    /// has been given to the tap, not inside the flush (where it re-entered the parser before e8fc73c).
    @Test(arguments: [true, false])
    func aSideThatFailsWhenAFrameIsFlushedIsClosedCleanly(clientToServer: Bool) throws {
        let relay = try Self.webSocketRelay()
        if clientToServer {
            relay.upstreamFlushFails.armed = true
            try relay.client.writeInbound(ByteBuffer(bytes: Self.masked(#"42["hi"]"#)))
        } else {
            relay.clientFlushFails.armed = true
            try relay.upstream.writeInbound(ByteBuffer(bytes: [0x81, 8] + Array(#"42["hi"]"#.utf8)))
        }
        relay.loop.run()
        #expect(!relay.upstream.isActive)
        #expect(!relay.client.isActive)
        #expect(Self.socketEvents(relay) == ["hi"])
        let closes = relay.sink.records.compactMap { record -> String? in
            if case .connectionClosed(let closed) = record.event { return closed.cause }
            return nil
        }
        #expect(closes == [clientToServer ? "upstream" : "client"])
    }
}
