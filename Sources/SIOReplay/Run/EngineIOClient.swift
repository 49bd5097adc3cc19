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

    typealias Event = EngineIOClientMachine.Event

    let loop: EventLoop
    let configuration: Configuration
    private let onEvent: (Event) -> Void
    /// The session's protocol and transport phase; this class only executes its commands.
    private var machine: EngineIOClientMachine
    private var pollChannel: Channel?
    private var webSocket: WebSocketConnection?
    private var heartbeat: RepeatedTask?
    /// Connections and requests not finished yet.
    private var pending = 0

    /// The live sid, once the handshake has arrived.
    var sessionID: String? { self.machine.sid }
    /// The server's handshake JSON, once it has arrived.
    var handshake: String? { self.machine.handshake }
    /// The transport packets go out on now.
    var transportInUse: EngineIOTransport { self.machine.transportInUse }

    /// Nothing of this session is still on the wire (its event loop may be shut down).
    var isQuiet: Bool { self.pending == 0 }

    init(loop: EventLoop, configuration: Configuration, onEvent: @escaping (Event) -> Void) {
        self.loop = loop
        self.configuration = configuration
        self.onEvent = onEvent
        self.machine = EngineIOClientMachine(
            version: configuration.version, transport: configuration.transport, upgrade: configuration.upgrade,
            endpoint: "\(configuration.host):\(configuration.port)")
    }

    // MARK: - Public operations (on the loop)

    func start() {
        self.loop.preconditionInEventLoop()
        self.run(self.machine.start())
    }

    /// Sends a Socket.IO packet (queued until the session is ready).
    func send(_ packet: SocketIOPacket) {
        self.run(self.machine.send(packet))
    }

    /// Ends the session from our side: Engine.IO close packet, then the transport.
    func close() {
        self.run(self.machine.closeSession())
    }

    // MARK: - Executing the machine's commands

    /// Runs the commands of one machine event in order. A report may make the owner call in again
    /// (send, close): the machine has finished the event by then, and reports come last.
    private func run(_ commands: [EngineIOClientMachine.Command]) {
        for command in commands {
            switch command {
            case .get: self.poll()
            case .post(let packets): self.post(packets)
            case .finalPost(let packets):
                _ = self.exchange(head: self.postHead(), body: EngineIOPayload.encode(packets, encoding: self.machine.postEncoding))
            case .openWebSocket(let upgrading): self.openWebSocket(upgrading: upgrading)
            case .sendWebSocket(let packet):
                let (binary, bytes) = packet.encodeForWebSocket(version: self.configuration.version)
                self.webSocket?.send(bytes, binary: binary)
            case .closeWebSocket:
                self.webSocket?.close()
                self.webSocket = nil
            case .startHeartbeat(let ms):
                self.heartbeat = self.loop.scheduleRepeatedTask(
                    initialDelay: .milliseconds(Int64(ms)),
                    delay: .milliseconds(Int64(ms))
                ) { _ in self.run(self.machine.heartbeatDue()) }
            case .tearDown: self.tearDown()
            case .report(let event): self.onEvent(event)
            }
        }
    }

    private func postHead() -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: self.uri(transport: .polling, sid: self.machine.sid))
        head.headers = self.configuration.headers
        head.headers.replaceOrAdd(name: "Content-Type", value: "text/plain;charset=UTF-8")
        return head
    }

    private func post(_ packets: [EngineIOPacket]) {
        let body = EngineIOPayload.encode(packets, encoding: self.machine.postEncoding)
        self.exchange(head: self.postHead(), body: body).whenComplete { result in
            switch result {
            case .success(let response) where response.head.status == .ok:
                self.run(self.machine.postFinished(.answered))
            case .success(let response):
                self.run(self.machine.postFinished(.status(code: response.head.status.code)))
            case .failure(let error):
                self.run(self.machine.postFinished(.failed("\(error)")))
            }
        }
    }

    private func poll() {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: self.uri(transport: .polling, sid: self.machine.sid))
        head.headers = self.configuration.headers
        self.exchange(head: head, body: nil, channel: { self.pollChannel = $0 }).whenComplete { result in
            self.pollChannel = nil
            switch result {
            case .failure(let error):
                self.run(self.machine.pollFinished(.failed("\(error)")))
            case .success(let response) where response.head.status != .ok:
                let body = String(String(buffer: response.body).prefix(200))
                self.run(self.machine.pollFinished(.status(code: response.head.status.code, body: body)))
            case .success(let response):
                self.run(self.machine.pollFinished(.answered))
                let contentType = response.head.headers.first(name: "Content-Type") ?? ""
                let decoded = EngineIOPayload.decode(response.body, encoding: self.machine.pollEncoding(contentType: contentType))
                // One packet at a time: what the owner does on one (send, close) precedes the next.
                for packet in decoded.packets { self.run(self.machine.received(packet, on: .polling)) }
                self.run(self.machine.pollBodyRead(error: decoded.error))
            }
        }
    }

    private func openWebSocket(upgrading: Bool) {
        var headers = self.configuration.headers
        headers.replaceOrAdd(name: "Host", value: "\(self.configuration.host):\(self.configuration.port)")
        self.pending += 1
        WebSocketConnection.connect(
            on: self.loop,
            host: self.configuration.host,
            port: self.configuration.port,
            uri: self.uri(transport: .websocket, sid: self.machine.sid),
            headers: headers,
            onEvent: { event in self.webSocketEvent(event) }
        ).whenComplete { result in
            switch result {
            case .success(let ws):
                ws.closeFuture.whenComplete { _ in self.pending -= 1 }
                guard let commands = self.machine.webSocketConnected(upgrading: upgrading) else { return ws.close() }
                self.webSocket = ws
                self.run(commands)
            case .failure(let error):
                self.pending -= 1
                let refused = error is WebSocketConnection.UpgradeRefused
                self.run(self.machine.webSocketFailed("\(error)", refused: refused, upgrading: upgrading))
            }
        }
    }

    private func webSocketEvent(_ event: WebSocketConnection.Event) {
        switch event {
        case .text(let bytes): self.run(self.machine.webSocketMessage(bytes, binary: false))
        case .binary(let bytes): self.run(self.machine.webSocketMessage(bytes, binary: true))
        case .closed(let code, let byPeer): self.run(self.machine.webSocketClosed(code: code, byPeer: byPeer))
        }
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
