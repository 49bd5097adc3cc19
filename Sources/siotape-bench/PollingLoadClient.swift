import NIOCore
import NIOHTTP1
import NIOPosix
import SIOWire

/// One Socket.IO client over Engine.IO v4 long-polling, like a browser: one connection carries the
/// `GET`s (always one pending), another the `POST`s (one at a time; what is written meanwhile goes
/// in the next one, as the reference client does).
final class PollingLoadSession {
    enum Role { case get, post }

    private let run: LoadRun
    private let host: String
    private var sid: String?
    private var connected = false
    private var finished = false
    private var getChannel: (any Channel)?
    private var postChannel: (any Channel)?
    private var outgoing = ByteBuffer()
    private var outgoingCount = 0
    private var postInFlight = false
    private var inFlight: InFlight
    /// Where this session starts in the list of payloads.
    private let payloadOffset: UInt64

    init(run: LoadRun, host: String, seed: UInt64) {
        self.run = run
        self.host = host
        self.inFlight = InFlight(window: run.window)
        var random = SplitMix64(seed: seed)
        self.payloadOffset = random.next()
    }

    /// Opens both connections on `loop` and starts the handshake.
    static func start(run: LoadRun, host: String, port: Int, seed: UInt64, on loop: any EventLoop) {
        loop.execute {
            let session = NIOLoopBound(
                PollingLoadSession(run: run, host: "\(host):\(port)", seed: seed), eventLoop: loop)
            for role in [Role.get, .post] {
                ClientBootstrap(group: loop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            try channel.pipeline.syncOperations.addHandler(PollingLoadChannel(role: role, session: session))
                        }
                    }
                    .connect(host: host, port: port)
                    .whenFailure { error in session.value.fail("connect: \(error)") }
            }
        }
    }

    func active(_ role: Role, channel: any Channel) {
        switch role {
        case .get: self.getChannel = channel
        case .post: self.postChannel = channel
        }
        if self.getChannel != nil && self.postChannel != nil { self.request(.get) }
    }

    private var path: String {
        "/socket.io/?EIO=4&transport=polling" + (self.sid.map { "&sid=\($0)" } ?? "")
    }

    private func request(_ role: Role, body: ByteBuffer? = nil) {
        guard let channel = role == .get ? self.getChannel : self.postChannel else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: self.host)
        if let body {
            headers.add(name: "Content-Type", value: "text/plain;charset=UTF-8")
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        let head = HTTPRequestHead(version: .http1_1, method: body == nil ? .GET : .POST, uri: self.path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    func response(_ role: Role, status: HTTPResponseStatus, body: ByteBuffer) {
        guard !self.finished else { return }
        guard status == .ok else {
            return self.fail("\(role == .get ? "GET" : "POST") answered \(status.code): \(String(buffer: body))")
        }
        switch role {
        case .post:
            self.postInFlight = false
            self.flushOutgoing()
        case .get:
            for packet in EngineIOPayload.decode(body, encoding: .v4Text).packets {
                self.handle(packet)
                if self.finished { return }
            }
            self.request(.get)
        }
    }

    private func handle(_ packet: EngineIOPacket) {
        switch packet.type {
        case .open where self.sid == nil:
            let view = packet.data.readableBytesView
            guard let key = view.firstRange(of: Array("\"sid\":\"".utf8)),
                let end = view[key.upperBound...].firstIndex(of: UInt8(ascii: "\""))
            else { return self.fail("no sid in the handshake") }
            self.sid = String(decoding: view[key.upperBound..<end], as: UTF8.self)
            self.queue { $0.writeStaticString("40") }
        case .message:
            let view = packet.data.readableBytesView
            if !self.connected, view.first == UInt8(ascii: "0") {
                self.connected = true
                self.run.connectionReady()
                if !self.run.idle {
                    for _ in 0..<self.run.window { self.queueEvent() }
                }
                return
            }
            var text = ByteBuffer(integer: UInt8(ascii: "4"))
            text.writeImmutableBuffer(packet.data)
            guard let id = ackID(of: text.readableBytesView) else { return }
            let now = LoadRun.now()
            self.inFlight.acked(id, at: now, run: self.run)
            if !self.run.isStopped {
                self.queueEvent(at: now)
            } else if self.inFlight.count == 0 {
                self.finish(failure: nil)
            }
        case .ping:
            self.queue { $0.writeStaticString("3") }
        default:
            break
        }
    }

    private func queueEvent(at time: UInt64 = LoadRun.now()) {
        let id = self.inFlight.sent(at: time)
        let payloads = self.run.payloads
        let offset = self.payloadOffset
        self.queue { payloads.writeEvent(id: id, offset: offset, into: &$0) }
    }

    private func queue(_ write: (inout ByteBuffer) -> Void) {
        if self.outgoingCount > 0 { self.outgoing.writeInteger(UInt8(0x1E)) }
        write(&self.outgoing)
        self.outgoingCount += 1
        self.flushOutgoing()
    }

    private func flushOutgoing() {
        guard !self.postInFlight, self.outgoingCount > 0 else { return }
        self.postInFlight = true
        let body = self.outgoing
        self.outgoing = ByteBuffer()
        self.outgoingCount = 0
        self.request(.post, body: body)
    }

    func fail(_ reason: String) {
        self.finish(failure: reason)
    }

    private func finish(failure: String?) {
        guard !self.finished else { return }
        if !self.connected { self.run.connectionReady() }
        self.finished = true
        self.run.connectionDone(
            acks: self.inFlight.acks, windowAcks: self.inFlight.windowAcks, latencies: self.inFlight.latencies,
            failure: failure)
        self.getChannel?.close(promise: nil)
        self.postChannel?.close(promise: nil)
    }
}

/// One of the two HTTP connections of a `PollingLoadSession`.
final class PollingLoadChannel: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let role: PollingLoadSession.Role
    private let session: NIOLoopBound<PollingLoadSession>
    private var status = HTTPResponseStatus.ok
    private var body = ByteBuffer()

    init(role: PollingLoadSession.Role, session: NIOLoopBound<PollingLoadSession>) {
        self.role = role
        self.session = session
    }

    func channelActive(context: ChannelHandlerContext) {
        self.session.value.active(self.role, channel: context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = head.status
            self.body.clear()
        case .body(var bytes):
            self.body.writeBuffer(&bytes)
        case .end:
            self.session.value.response(self.role, status: self.status, body: self.body)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.session.value.fail("connection closed")
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.session.value.fail("\(error)")
        context.close(promise: nil)
    }
}
