import NIOCore
import NIOHTTP1
import NIOPosix
import SIOWire

/// One live Engine.IO client session: polling, WebSocket, or polling upgraded to WebSocket, with
/// heartbeats answered (v4) or sent (v3). Confined to its event loop; reports through `onEvent`.
final class EngineIOClient: @unchecked Sendable {
    struct Configuration {
        var host: String
        var port: Int
        /// The handshake path (`/socket.io/`).
        var path: String
        /// Handshake query without `transport` and `sid`, in order.
        var query: [(String, String)]
        var version: EngineIOVersion
        var transport: EngineIOTransport
        /// Upgrade a polling session to WebSocket right after the handshake.
        var upgrade: Bool
        var headers: HTTPHeaders
    }

    enum Event {
        /// The session is open on its final transport: packets may be sent.
        case ready(sid: String)
        case packet(SocketIOPacket)
        /// The session ended; `byServer` when we did not ask for it.
        case closed(reason: String, byServer: Bool)
        /// The session could not be opened; `unreachable` when no connection could be made.
        case failed(reason: String, unreachable: Bool)
        /// Something went wrong that does not end the session.
        case problem(String)
    }

    /// `probing`: the probe WebSocket is open, polling goes on. `pausing`: the probe was
    /// answered; as socket.io-client does, no new GET is issued and the `5` goes out once the
    /// pending GET and POST have completed (engine.io answers that GET with `6` when it sees
    /// the probe), so no request is left on the old transport.
    private enum Phase {
        case idle, handshaking, polling, probing, pausing, websocket, closed
    }

    let loop: EventLoop
    let configuration: Configuration
    private let onEvent: (Event) -> Void
    private var machine: EngineIOClientMachine
    private var phase = Phase.idle
    private var sid: String?
    private var isReady = false
    private var pendingSends: [EngineIOPacket] = []
    private var postQueue: [EngineIOPacket] = []
    private var postInFlight = false
    private var pollInFlight = false
    private var pollChannel: Channel?
    private var webSocket: WebSocketConnection?
    private var heartbeat: RepeatedTask?
    /// Connections and requests not finished yet.
    private var pending = 0

    /// The live sid, once the handshake has arrived.
    var sessionID: String? { self.sid }
    /// The server's handshake JSON, once it has arrived.
    var handshake: String? { self.machine.handshake }
    /// The transport packets go out on now.
    var transportInUse: EngineIOTransport {
        self.phase == .websocket ? .websocket : .polling
    }

    /// Nothing of this session is still on the wire (its event loop may be shut down).
    var isQuiet: Bool { self.pending == 0 }

    init(loop: EventLoop, configuration: Configuration, onEvent: @escaping (Event) -> Void) {
        self.loop = loop
        self.configuration = configuration
        self.onEvent = onEvent
        self.machine = EngineIOClientMachine(version: configuration.version, transport: configuration.transport)
    }

    // MARK: - Public operations (on the loop)

    func start() {
        self.loop.preconditionInEventLoop()
        guard self.phase == .idle else { return }
        self.phase = .handshaking
        switch self.configuration.transport {
        case .polling: self.poll()
        case .websocket: self.openWebSocket()
        }
    }

    /// Sends a Socket.IO packet (queued until the session is ready).
    func send(_ packet: SocketIOPacket) {
        for engine in self.machine.messages(for: packet) {
            self.sendEngine(engine)
        }
    }

    /// Ends the session from our side: Engine.IO close packet, then the transport.
    func close() {
        guard self.phase != .closed else { return }
        if self.isReady { self.sendEngine(EngineIOPacket(type: .close)) }
        self.finish(reason: "closed by replay", byServer: false)
    }

    // MARK: - Sending

    private func sendEngine(_ packet: EngineIOPacket) {
        guard self.phase != .closed else { return }
        // Nothing goes out while the upgrade completes; it follows the `5` on the WebSocket.
        let heartbeatOrClose = packet.type == .pong || packet.type == .ping || packet.type == .close
        guard self.isReady && self.phase != .pausing || heartbeatOrClose else {
            self.pendingSends.append(packet)
            return
        }
        switch self.phase {
        case .websocket:
            let (binary, bytes) = packet.encodeForWebSocket(version: self.configuration.version)
            self.webSocket?.send(bytes, binary: binary)
        case .pausing:
            self.pendingSends.append(packet)
        case .polling, .probing, .handshaking:
            self.postQueue.append(packet)
            self.flushPosts()
        case .idle, .closed:
            break
        }
    }

    private func flushPosts() {
        guard !self.postInFlight, !self.postQueue.isEmpty, let sid = self.sid else { return }
        let packets = self.postQueue
        self.postQueue = []
        self.postInFlight = true
        let encoding: EngineIOPayloadEncoding = self.configuration.version == .v4 ? .v4Text : .v3Text
        let body = EngineIOPayload.encode(packets, encoding: encoding)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: self.uri(transport: .polling, sid: sid))
        head.headers = self.configuration.headers
        head.headers.replaceOrAdd(name: "Content-Type", value: "text/plain;charset=UTF-8")
        self.exchange(head: head, body: body).whenComplete { result in
            self.postInFlight = false
            guard self.phase != .websocket else { return }
            switch result {
            case .success(let response) where response.head.status == .ok:
                self.flushPosts()
                self.completePause()
            case .success(let response):
                self.finish(reason: "POST answered HTTP \(response.head.status.code)", byServer: true)
            case .failure(let error):
                if self.phase != .closed { self.finish(reason: "POST failed: \(error)", byServer: true) }
            }
        }
    }

    // MARK: - Polling

    private func poll() {
        let handshake = self.phase == .handshaking
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: self.uri(transport: .polling, sid: self.sid))
        head.headers = self.configuration.headers
        self.pollInFlight = true
        self.exchange(head: head, body: nil, channel: { self.pollChannel = $0 }).whenComplete { result in
            self.pollChannel = nil
            self.pollInFlight = false
            guard self.phase != .closed else { return }
            switch result {
            case .failure(let error):
                if handshake {
                    self.fail("cannot reach \(self.configuration.host):\(self.configuration.port): \(error)", true)
                } else if self.phase == .polling || self.phase == .probing || self.phase == .pausing {
                    self.finish(reason: "polling GET failed: \(error)", byServer: true)
                }
            case .success(let response):
                guard response.head.status == .ok else {
                    let body = String(buffer: response.body).prefix(200)
                    if handshake {
                        self.fail("the handshake was answered HTTP \(response.head.status.code) \(body)", false)
                    } else if self.phase != .websocket {
                        self.finish(reason: "polling GET answered HTTP \(response.head.status.code)", byServer: true)
                    }
                    return
                }
                self.receivePollBody(response)
                if self.phase == .polling || self.phase == .probing { self.poll() }
                self.completePause()
            }
        }
    }

    private func receivePollBody(_ response: HTTPExchange.Response) {
        let encoding: EngineIOPayloadEncoding
        switch self.configuration.version {
        case .v4: encoding = .v4Text
        case .v3:
            let type = response.head.headers.first(name: "Content-Type") ?? ""
            encoding = type.contains("octet-stream") ? .v3Binary : .v3Text
        }
        let decoded = EngineIOPayload.decode(response.body, encoding: encoding)
        for packet in decoded.packets { self.receive(packet, on: .polling) }
        if let error = decoded.error { self.onEvent(.problem("undecodable polling body: \(error)")) }
    }

    // MARK: - WebSocket

    private func openWebSocket() {
        var headers = self.configuration.headers
        headers.replaceOrAdd(name: "Host", value: "\(self.configuration.host):\(self.configuration.port)")
        let upgrading = self.sid != nil
        self.pending += 1
        WebSocketConnection.connect(
            on: self.loop,
            host: self.configuration.host,
            port: self.configuration.port,
            uri: self.uri(transport: .websocket, sid: self.sid),
            headers: headers,
            onEvent: { event in self.webSocketEvent(event) }
        ).whenComplete { result in
            switch result {
            case .success(let ws):
                ws.closeFuture.whenComplete { _ in self.pending -= 1 }
                guard self.phase != .closed else { return ws.close() }
                self.webSocket = ws
                if upgrading {
                    ws.send(ByteBuffer(string: "2probe"), binary: false)
                }
            case .failure(let error):
                self.pending -= 1
                if !upgrading {
                    self.fail("cannot open the WebSocket: \(error)", !(error is WebSocketConnection.UpgradeRefused))
                } else if self.phase == .probing {
                    self.abandonUpgrade("the upgrade to WebSocket failed (\(error)); staying on polling")
                }
            }
        }
    }

    private func webSocketEvent(_ event: WebSocketConnection.Event) {
        switch event {
        case .text(let bytes):
            do {
                self.receive(try EngineIOPacket.decode(webSocketText: bytes), on: .websocket)
            } catch {
                self.onEvent(.problem("undecodable WebSocket message: \(error)"))
            }
        case .binary(let bytes):
            do {
                self.receive(
                    try EngineIOPacket.decode(webSocketBinary: bytes, version: self.configuration.version),
                    on: .websocket
                )
            } catch {
                self.onEvent(.problem("undecodable WebSocket message: \(error)"))
            }
        case .closed(let code, let byPeer):
            if self.phase == .probing || self.phase == .pausing {
                self.abandonUpgrade("the probe WebSocket closed before the upgrade; staying on polling")
                return
            }
            guard self.phase == .websocket || self.phase == .handshaking else { return }
            let reason = "WebSocket closed" + (code.map { " (\($0))" } ?? "")
            self.finish(reason: reason, byServer: byPeer)
        }
    }

    // MARK: - Engine.IO

    private func receive(_ packet: EngineIOPacket, on transport: EngineIOTransport) {
        for action in self.machine.receive(packet, on: transport) {
            switch action {
            case .opened(let sid, let pingInterval, let upgrades):
                self.sid = sid
                if self.configuration.version == .v3, let ms = pingInterval, ms > 0 {
                    self.heartbeat = self.loop.scheduleRepeatedTask(
                        initialDelay: .milliseconds(Int64(ms)),
                        delay: .milliseconds(Int64(ms))
                    ) { _ in self.sendEngine(EngineIOPacket(type: .ping)) }
                }
                if self.configuration.transport == .websocket {
                    self.phase = .websocket
                    self.becomeReady()
                } else if self.configuration.upgrade && upgrades.contains("websocket") {
                    self.phase = .probing
                    self.openWebSocket()
                } else {
                    self.phase = .polling
                    if self.configuration.upgrade {
                        self.onEvent(.problem("the server offers no WebSocket upgrade; staying on polling"))
                    }
                    self.becomeReady()
                }
            case .deliver(let packet):
                self.onEvent(.packet(packet))
            case .send(let packet):
                self.sendEngine(packet)
            case .probeAnswered:
                guard self.phase == .probing else { continue }
                self.phase = .pausing
                self.completePause()
            case .probeFailed:
                self.abandonUpgrade("the server closed the probe WebSocket; staying on polling")
            case .serverClosed:
                self.finish(reason: "the server sent an Engine.IO close packet", byServer: true)
            case .protocolError(let reason):
                self.onEvent(.problem(reason))
            }
        }
    }

    /// Sends `5` once nothing is pending on polling, and moves to the WebSocket.
    private func completePause() {
        guard self.phase == .pausing, !self.pollInFlight, !self.postInFlight, self.postQueue.isEmpty else { return }
        self.webSocket?.send(ByteBuffer(string: "5"), binary: false)
        self.machine.upgraded()
        self.phase = .websocket
        self.becomeReady()
        self.sendHeld()
    }

    private func abandonUpgrade(_ reason: String) {
        guard self.phase == .probing || self.phase == .pausing else { return }
        self.phase = .polling
        self.machine.upgradeAbandoned()
        self.webSocket?.close()
        self.webSocket = nil
        self.onEvent(.problem(reason))
        self.becomeReady()
        self.sendHeld()
        if !self.pollInFlight { self.poll() }
    }

    private func becomeReady() {
        guard !self.isReady, let sid = self.sid else { return }
        self.isReady = true
        self.onEvent(.ready(sid: sid))
        self.sendHeld()
    }

    private func sendHeld() {
        let pending = self.pendingSends
        self.pendingSends = []
        for packet in pending { self.sendEngine(packet) }
    }

    private func fail(_ reason: String, _ unreachable: Bool) {
        guard self.phase != .closed else { return }
        self.phase = .closed
        self.tearDown()
        self.onEvent(.failed(reason: reason, unreachable: unreachable))
    }

    private func finish(reason: String, byServer: Bool) {
        guard self.phase != .closed else { return }
        let wasPolling = self.phase != .websocket
        self.phase = .closed
        self.machine.close()
        if wasPolling, self.postInFlight == false, !self.postQueue.isEmpty, !byServer { self.flushFinalPosts() }
        self.tearDown()
        self.onEvent(.closed(reason: reason, byServer: byServer))
    }

    /// Over polling, the close packet still has to go out after the session is over for us.
    private func flushFinalPosts() {
        guard let sid = self.sid else { return }
        let encoding: EngineIOPayloadEncoding = self.configuration.version == .v4 ? .v4Text : .v3Text
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: self.uri(transport: .polling, sid: sid))
        head.headers = self.configuration.headers
        head.headers.replaceOrAdd(name: "Content-Type", value: "text/plain;charset=UTF-8")
        _ = self.exchange(head: head, body: EngineIOPayload.encode(self.postQueue, encoding: encoding))
        self.postQueue = []
    }

    private func tearDown() {
        self.heartbeat?.cancel()
        self.heartbeat = nil
        self.pollChannel?.close(promise: nil)
        self.pollChannel = nil
        self.webSocket?.close()
        self.webSocket = nil
    }

    private func exchange(
        head: HTTPRequestHead,
        body: ByteBuffer?,
        channel: (@Sendable (Channel) -> Void)? = nil
    ) -> EventLoopFuture<HTTPExchange.Response> {
        self.pending += 1
        let response = HTTPExchange.send(
            on: self.loop,
            host: self.configuration.host,
            port: self.configuration.port,
            head: head,
            body: body,
            channel: channel
        )
        response.whenComplete { _ in self.pending -= 1 }
        return response
    }

    private func uri(transport: EngineIOTransport, sid: String?) -> String {
        var items = self.configuration.query.filter { $0.0 != "transport" && $0.0 != "sid" }
        let eioIndex = items.firstIndex { $0.0 == "EIO" }
        if eioIndex == nil { items.insert(("EIO", String(self.configuration.version.rawValue)), at: 0) }
        items.append(("transport", transport.rawValue))
        if let sid { items.append(("sid", sid)) }
        let query = items.map { Self.escape($0.0) + "=" + Self.escape($0.1) }.joined(separator: "&")
        return self.configuration.path + "?" + query
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "-._~".contains(c)) {
                out.append(c)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
