import NIOCore
import SIOWire

/// One replayed Engine.IO client session, without I/O: handshake, heartbeats, the
/// polling→WebSocket probe, Socket.IO decoding with binary attachments (`receive(_:on:)`, the
/// protocol side, returning `Action`s), and the transport phase: which requests and connections
/// are open, what waits for what, when the session is ready (the events under "Transport",
/// returning `Command`s that `EngineIOClient` executes, so the handler holds no session state).
///
/// A session has one live transport at a time, as in socket.io-client: until the client sends
/// `5` (`upgraded()`), that is polling, and the probe WebSocket only carries the probe; from
/// then on it is the WebSocket, and whatever still arrives on polling (engine.io answers a GET
/// left pending across the upgrade with a lone `1`, or `6`) is ignored: the old transport is
/// over, not the session.
struct EngineIOClientMachine {
    enum Action: Equatable {
        /// The handshake arrived: the live sid and the handshake JSON.
        case opened(sid: String, pingIntervalMillis: Int?, upgrades: [String])
        /// A complete Socket.IO packet from the server.
        case deliver(SocketIOPacket)
        /// Send this Engine.IO packet (a heartbeat answer).
        case send(EngineIOPacket)
        /// The server answered the upgrade probe: send `5` on the WebSocket and move there.
        case probeAnswered
        /// The server closed the session (Engine.IO `1` on the live transport).
        case serverClosed
        /// The server closed the probe WebSocket before the upgrade: stay on polling.
        case probeFailed
        /// The server sent something replay cannot read.
        case protocolError(String)
    }

    enum State: Equatable {
        case handshaking
        case open
        case closed
    }

    let version: EngineIOVersion
    private(set) var state: State = .handshaking
    private(set) var sid: String?
    /// The server's handshake JSON, verbatim.
    private(set) var handshake: String?
    /// The transport packets count on: the initial one, the WebSocket once `upgraded()`.
    private(set) var transport: EngineIOTransport
    /// Socket.IO over the session's messages. It holds whatever attachments the server under test
    /// sends: replay run compares its answers, and a cap would turn big ones into a difference.
    private var codec: SocketIOSessionCodec

    // The transport phase (MARK: - Transport).
    /// The transport the session starts on, and whether to upgrade a polling session to WebSocket.
    let initialTransport: EngineIOTransport
    let upgrade: Bool
    /// `host:port` of the server, for messages.
    let endpoint: String
    private(set) var phase = Phase.idle
    /// `.ready` was reported: Socket.IO packets go out.
    private(set) var isReady = false
    /// Packets held until the session is ready, or while the upgrade completes.
    private var pendingSends: [EngineIOPacket] = []
    /// Packets for the next POST, and whether one is on the wire.
    private var postQueue: [EngineIOPacket] = []
    private var postInFlight = false
    /// A polling GET is on the wire; `pollIsHandshake` when it is the handshake.
    private var pollInFlight = false
    private var pollIsHandshake = false
    /// The GET was answered 200: its packets are being fed, `pollBodyRead` follows.
    private var readingPollBody = false

    init(
        version: EngineIOVersion, transport: EngineIOTransport = .polling, upgrade: Bool = false, endpoint: String = ""
    ) {
        self.version = version
        self.transport = transport
        self.initialTransport = transport
        self.upgrade = upgrade
        self.endpoint = endpoint
        self.codec = SocketIOSessionCodec(version: version.socketIOVersion, maxAttachmentBytes: .max)
    }

    /// The client sent `5` on the WebSocket: it is the session's transport from now on.
    mutating func upgraded() {
        self.transport = .websocket
    }

    /// The probe failed: the session stays on polling.
    mutating func upgradeAbandoned() {
        self.transport = .polling
    }

    mutating func receive(_ packet: EngineIOPacket, on transport: EngineIOTransport) -> [Action] {
        guard transport == self.transport else {
            // The probe WebSocket before the upgrade (only the probe's answer counts, a close
            // there ends the probe), or polling after it (ignored, as socket.io-client does).
            guard self.state == .open, transport == .websocket else { return [] }
            switch packet.type {
            case .pong where String(buffer: packet.data) == "probe": return [.probeAnswered]
            case .close: return [.probeFailed]
            default: return []
            }
        }
        return self.receive(packet)
    }

    private mutating func receive(_ packet: EngineIOPacket) -> [Action] {
        switch (self.state, packet.type) {
        case (.closed, _):
            return []
        case (.handshaking, .open):
            let text = String(buffer: packet.data)
            guard let handshake = EngineIOHandshake(json: packet.data), let sid = handshake.sid else {
                return [.protocolError("handshake without a sid: \(text.prefix(200))")]
            }
            self.sid = sid
            self.handshake = text
            self.state = .open
            return [
                .opened(
                    sid: sid,
                    pingIntervalMillis: handshake.pingInterval,
                    upgrades: handshake.upgrades
                )
            ]
        case (.handshaking, _):
            return [.protocolError("expected the handshake, got Engine.IO \(packet.type.name)")]
        case (.open, .ping):
            if String(buffer: packet.data) == "probe" { return [] }
            return self.version == .v4 ? [.send(EngineIOPacket(type: .pong, data: packet.data))] : []
        case (.open, .pong):
            return []
        case (.open, .close):
            self.state = .closed
            return [.serverClosed]
        case (.open, .noop), (.open, .upgrade), (.open, .open):
            return []
        case (.open, .message):
            do {
                return self.assembled(try self.codec.receive(packet))
            } catch {
                return [
                    .protocolError(
                        "undecodable Socket.IO packet (\(error)): \(String(buffer: packet.data).prefix(200))"
                    )
                ]
            }
        }
    }

    /// The session is over on our side; later packets are ignored.
    mutating func close() {
        self.state = .closed
    }

    private func assembled(_ action: SocketIOBinaryAssembler.Action) -> [Action] {
        switch action {
        case .complete(let packet): return [.deliver(packet)]
        case .waiting, .dropped: return []
        case .overLimit(let packet, let limit):
            return [.protocolError("the attachments of a \(packet.type.name) went over \(limit) bytes")]
        case .unexpectedAttachment(let bytes):
            return [.protocolError("a binary message of \(bytes.readableBytes) bytes with no packet waiting for it")]
        case .abandoned(let previous, let then):
            var out: [Action] = [
                .protocolError("\(previous.type.name) lacked attachments when the next packet arrived")
            ]
            if case .complete(let packet) = then { out.append(.deliver(packet)) }
            return out
        }
    }

    /// The Engine.IO packets that carry `packet` (`SocketIOSessionCodec.messages(for:)`).
    func messages(for packet: SocketIOPacket) -> [EngineIOPacket] {
        self.codec.messages(for: packet)
    }
}

// MARK: - Transport

extension EngineIOClientMachine {
    /// `probing`: the probe WebSocket is open, polling goes on. `pausing`: the probe was
    /// answered; as socket.io-client does, no new GET is issued and the `5` goes out once the
    /// pending GET and POST have completed (engine.io answers that GET with `6` when it sees
    /// the probe), so no request is left on the old transport.
    enum Phase: Equatable {
        case idle, handshaking, polling, probing, pausing, websocket, closed
    }

    /// What the session reports to its owner (replay run).
    enum Event: Equatable {
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

    /// What `EngineIOClient` does for the machine. Within one event's commands the reports come
    /// last, after every request, so an owner that reacts to a report (sends, closes) finds the
    /// machine with this event fully done.
    enum Command: Equatable {
        /// A polling GET for the session (the handshake while there is no sid); its outcome comes
        /// back as `pollFinished`, and when answered, its packets then `pollBodyRead`.
        case get
        /// A POST of these packets; its outcome comes back as `postFinished`.
        case post([EngineIOPacket])
        /// A POST after the session is over for us (the close packet): nothing comes back.
        case finalPost([EngineIOPacket])
        /// Connect a WebSocket: the session's only transport, or the upgrade's probe (`upgrading`).
        /// `webSocketConnected` or `webSocketFailed` follows.
        case openWebSocket(upgrading: Bool)
        case sendWebSocket(EngineIOPacket)
        /// Close the probe WebSocket (the upgrade was abandoned).
        case closeWebSocket
        /// Send a ping every interval (Engine.IO v3, where the client pings): `heartbeatDue`.
        case startHeartbeat(intervalMillis: Int)
        /// Stop the heartbeat, close the pending GET's connection and the WebSocket.
        case tearDown
        case report(Event)
    }

    /// How a polling GET ended.
    enum PollOutcome: Equatable {
        /// Answered 200: its packets follow (`receive(_:on:)` with `.polling`), then `pollBodyRead`.
        case answered
        /// Answered with another status (and the start of its body).
        case status(code: UInt, body: String)
        /// No answer: the connection failed.
        case failed(String)
    }

    /// How a POST ended.
    enum PostOutcome: Equatable {
        case answered
        case status(code: UInt)
        case failed(String)
    }

    /// The transport packets go out on now.
    var transportInUse: EngineIOTransport {
        self.phase == .websocket ? .websocket : .polling
    }

    /// The payload encoding of a POST body.
    var postEncoding: EngineIOPayloadEncoding { self.version == .v4 ? .v4Text : .v3Text }

    /// The payload encoding of a GET's body with this `Content-Type` (v3 servers answer XHR2
    /// clients in binary).
    func pollEncoding(contentType: String) -> EngineIOPayloadEncoding {
        switch self.version {
        case .v4: return .v4Text
        case .v3: return contentType.contains("octet-stream") ? .v3Binary : .v3Text
        }
    }

    // MARK: Events from the owner

    /// Opens the session: the handshake over polling, or the WebSocket.
    mutating func start() -> [Command] {
        guard self.phase == .idle else { return [] }
        self.phase = .handshaking
        switch self.initialTransport {
        case .polling: return [self.poll()]
        case .websocket: return [.openWebSocket(upgrading: false)]
        }
    }

    /// Sends a Socket.IO packet (held until the session is ready).
    mutating func send(_ packet: SocketIOPacket) -> [Command] {
        self.messages(for: packet).flatMap { self.sendEngine($0) }
    }

    /// Ends the session from our side: Engine.IO close packet, then the transport.
    mutating func closeSession() -> [Command] {
        guard self.phase != .closed else { return [] }
        var io = self.isReady ? self.sendEngine(EngineIOPacket(type: .close)) : []
        var reports: [Event] = []
        self.finish(reason: "closed by replay", byServer: false, &io, &reports)
        return io + reports.map(Command.report)
    }

    /// The v3 heartbeat's interval has passed.
    mutating func heartbeatDue() -> [Command] {
        self.sendEngine(EngineIOPacket(type: .ping))
    }

    // MARK: Events from the transport

    /// A polling GET ended (for `.answered`: before its packets are fed).
    mutating func pollFinished(_ outcome: PollOutcome) -> [Command] {
        self.pollInFlight = false
        guard self.phase != .closed else { return [] }
        var io: [Command] = []
        var reports: [Event] = []
        switch outcome {
        case .answered:
            self.readingPollBody = true
        case .failed(let error):
            if self.pollIsHandshake {
                self.fail("cannot reach \(self.endpoint): \(error)", unreachable: true, &io, &reports)
            } else if self.phase == .polling || self.phase == .probing || self.phase == .pausing {
                self.finish(reason: "polling GET failed: \(error)", byServer: true, &io, &reports)
            }
        case .status(let code, let body):
            if self.pollIsHandshake {
                self.fail("the handshake was answered HTTP \(code) \(body)", unreachable: false, &io, &reports)
            } else if self.phase != .websocket {
                self.finish(reason: "polling GET answered HTTP \(code)", byServer: true, &io, &reports)
            }
        }
        return io + reports.map(Command.report)
    }

    /// Every packet of an answered GET has been fed: poll again while polling is the transport,
    /// and complete a paused upgrade.
    mutating func pollBodyRead(error: WireError?) -> [Command] {
        guard self.readingPollBody else { return [] }
        self.readingPollBody = false
        var io: [Command] = []
        var reports: [Event] = []
        if let error { reports.append(.problem("undecodable polling body: \(error)")) }
        if self.phase == .polling || self.phase == .probing { io.append(self.poll()) }
        self.completePause(&io, &reports)
        return io + reports.map(Command.report)
    }

    /// A POST ended.
    mutating func postFinished(_ outcome: PostOutcome) -> [Command] {
        self.postInFlight = false
        guard self.phase != .websocket else { return [] }
        var io: [Command] = []
        var reports: [Event] = []
        switch outcome {
        case .answered:
            io += self.flushPosts()
            self.completePause(&io, &reports)
        case .status(let code):
            self.finish(reason: "POST answered HTTP \(code)", byServer: true, &io, &reports)
        case .failed(let error):
            self.finish(reason: "POST failed: \(error)", byServer: true, &io, &reports)
        }
        return io + reports.map(Command.report)
    }

    /// The WebSocket asked for with `.openWebSocket` is open. `nil`: the session is over, close it.
    mutating func webSocketConnected(upgrading: Bool) -> [Command]? {
        guard self.phase != .closed else { return nil }
        return upgrading ? [.sendWebSocket(EngineIOPacket(type: .ping, data: ByteBuffer(string: "probe")))] : []
    }

    /// The WebSocket asked for with `.openWebSocket` could not be opened (`refused`: the server
    /// answered the upgrade request, but not with 101).
    mutating func webSocketFailed(_ error: String, refused: Bool, upgrading: Bool) -> [Command] {
        var io: [Command] = []
        var reports: [Event] = []
        if !upgrading {
            self.fail("cannot open the WebSocket: \(error)", unreachable: !refused, &io, &reports)
        } else if self.phase == .probing {
            self.abandonUpgrade("the upgrade to WebSocket failed (\(error)); staying on polling", &io, &reports)
        }
        return io + reports.map(Command.report)
    }

    /// A text or binary WebSocket message arrived.
    mutating func webSocketMessage(_ bytes: ByteBuffer, binary: Bool) -> [Command] {
        let packet: EngineIOPacket
        do {
            packet =
                binary
                ? try EngineIOPacket.decode(webSocketBinary: bytes, version: self.version)
                : try EngineIOPacket.decode(webSocketText: bytes)
        } catch {
            return [.report(.problem("undecodable WebSocket message: \(error)"))]
        }
        return self.received(packet, on: .websocket)
    }

    /// The WebSocket closed (a close frame from the server, or the connection ended).
    mutating func webSocketClosed(code: Int?, byPeer: Bool) -> [Command] {
        var io: [Command] = []
        var reports: [Event] = []
        if self.phase == .probing || self.phase == .pausing {
            self.abandonUpgrade("the probe WebSocket closed before the upgrade; staying on polling", &io, &reports)
        } else if self.phase == .websocket || self.phase == .handshaking {
            let reason = "WebSocket closed" + (code.map { " (\($0))" } ?? "")
            self.finish(reason: reason, byServer: byPeer, &io, &reports)
        }
        return io + reports.map(Command.report)
    }

    /// An Engine.IO packet arrived on `transport` (each packet of a GET's body, one by one).
    mutating func received(_ packet: EngineIOPacket, on transport: EngineIOTransport) -> [Command] {
        guard self.phase != .closed else { return [] }
        var io: [Command] = []
        var reports: [Event] = []
        for action in self.receive(packet, on: transport) {
            switch action {
            case .opened(_, let pingInterval, let upgrades):
                if self.version == .v3, let ms = pingInterval, ms > 0 { io.append(.startHeartbeat(intervalMillis: ms)) }
                if self.initialTransport == .websocket {
                    self.phase = .websocket
                    self.becomeReady(&io, &reports)
                } else if self.upgrade && upgrades.contains("websocket") {
                    self.phase = .probing
                    io.append(.openWebSocket(upgrading: true))
                } else {
                    self.phase = .polling
                    if self.upgrade { reports.append(.problem("the server offers no WebSocket upgrade; staying on polling")) }
                    self.becomeReady(&io, &reports)
                }
            case .deliver(let packet):
                reports.append(.packet(packet))
            case .send(let packet):
                io += self.sendEngine(packet)
            case .probeAnswered:
                guard self.phase == .probing else { continue }
                self.phase = .pausing
                self.completePause(&io, &reports)
            case .probeFailed:
                self.abandonUpgrade("the server closed the probe WebSocket; staying on polling", &io, &reports)
            case .serverClosed:
                self.finish(reason: "the server sent an Engine.IO close packet", byServer: true, &io, &reports)
            case .protocolError(let reason):
                reports.append(.problem(reason))
            }
        }
        return io + reports.map(Command.report)
    }

    // MARK: Steps

    private mutating func poll() -> Command {
        self.pollInFlight = true
        self.pollIsHandshake = self.phase == .handshaking
        return .get
    }

    private mutating func sendEngine(_ packet: EngineIOPacket) -> [Command] {
        guard self.phase != .closed else { return [] }
        // Nothing goes out while the upgrade completes; it follows the `5` on the WebSocket.
        let heartbeatOrClose = packet.type == .pong || packet.type == .ping || packet.type == .close
        guard self.isReady && self.phase != .pausing || heartbeatOrClose else {
            self.pendingSends.append(packet)
            return []
        }
        switch self.phase {
        case .websocket:
            return [.sendWebSocket(packet)]
        case .pausing:
            self.pendingSends.append(packet)
            return []
        case .polling, .probing, .handshaking:
            self.postQueue.append(packet)
            return self.flushPosts()
        case .idle, .closed:
            return []
        }
    }

    private mutating func flushPosts() -> [Command] {
        guard !self.postInFlight, !self.postQueue.isEmpty, self.sid != nil else { return [] }
        let packets = self.postQueue
        self.postQueue = []
        self.postInFlight = true
        return [.post(packets)]
    }

    /// Sends `5` once nothing is pending on polling, and moves to the WebSocket.
    private mutating func completePause(_ io: inout [Command], _ reports: inout [Event]) {
        guard self.phase == .pausing, !self.pollInFlight, !self.postInFlight, self.postQueue.isEmpty else { return }
        io.append(.sendWebSocket(EngineIOPacket(type: .upgrade)))
        self.upgraded()
        self.phase = .websocket
        self.becomeReady(&io, &reports)
        io += self.sendHeld()
    }

    private mutating func abandonUpgrade(_ reason: String, _ io: inout [Command], _ reports: inout [Event]) {
        guard self.phase == .probing || self.phase == .pausing else { return }
        self.phase = .polling
        self.upgradeAbandoned()
        io.append(.closeWebSocket)
        reports.append(.problem(reason))
        self.becomeReady(&io, &reports)
        io += self.sendHeld()
        if !self.pollInFlight { io.append(self.poll()) }
    }

    private mutating func becomeReady(_ io: inout [Command], _ reports: inout [Event]) {
        guard !self.isReady, let sid = self.sid else { return }
        self.isReady = true
        reports.append(.ready(sid: sid))
        io += self.sendHeld()
    }

    private mutating func sendHeld() -> [Command] {
        let held = self.pendingSends
        self.pendingSends = []
        return held.flatMap { self.sendEngine($0) }
    }

    private mutating func fail(_ reason: String, unreachable: Bool, _ io: inout [Command], _ reports: inout [Event]) {
        guard self.phase != .closed else { return }
        self.phase = .closed
        io.append(.tearDown)
        reports.append(.failed(reason: reason, unreachable: unreachable))
    }

    private mutating func finish(reason: String, byServer: Bool, _ io: inout [Command], _ reports: inout [Event]) {
        guard self.phase != .closed else { return }
        let wasPolling = self.phase != .websocket
        self.phase = .closed
        self.close()
        // Over polling, the close packet still has to go out after the session is over for us.
        if wasPolling, !self.postInFlight, !self.postQueue.isEmpty, !byServer, self.sid != nil {
            io.append(.finalPost(self.postQueue))
            self.postQueue = []
        }
        io.append(.tearDown)
        reports.append(.closed(reason: reason, byServer: byServer))
    }
}
