import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import SIOWire

/// Every live client session of `replay serve` and the conductor that feeds them, confined to one
/// event loop: the handlers call in, the room turns state-machine actions into writes and timers.
final class ReplayRoom: @unchecked Sendable {
    /// One live Engine.IO session.
    private final class LiveSession {
        let id: ReplayConductor.LiveID
        var engine: EngineIOServerSession
        let base64: Bool
        /// Socket.IO over the session's messages; holds at most the capture's 16 MiB of attachments
        /// for one client packet (as `siotape record`).
        var codec: SocketIOSessionCodec
        var heldPoll: PollResponder?
        var webSocket: (any Channel)?

        init(id: ReplayConductor.LiveID, engine: EngineIOServerSession, base64: Bool) {
            self.id = id
            self.engine = engine
            self.base64 = base64
            self.codec = SocketIOSessionCodec(version: engine.version.socketIOVersion)
        }
    }

    let eventLoop: any EventLoop
    private var conductor: ReplayConductor
    private let configuration: ServeConfiguration
    private let logger: Logger
    private let report: @Sendable (String) -> Void
    private let onFinished: @Sendable () -> Void
    private var sessions: [String: LiveSession] = [:]
    private var sidByLive: [ReplayConductor.LiveID: String] = [:]
    private var nextLiveID = 1
    private var timer: Scheduled<Void>?
    private var heartbeat: RepeatedTask?
    private var finished = false

    init(
        plan: ServePlan, configuration: ServeConfiguration, eventLoop: any EventLoop, logger: Logger,
        report: @escaping @Sendable (String) -> Void, onFinished: @escaping @Sendable () -> Void
    ) {
        self.eventLoop = eventLoop
        self.conductor = ReplayConductor(plan: plan, configuration: configuration, makeSocketID: { Self.makeID() })
        self.configuration = configuration
        self.logger = logger
        self.report = report
        self.onFinished = onFinished
    }

    var summary: ServeSummary {
        self.eventLoop.assertInEventLoop()
        return self.conductor.summary
    }

    func start() {
        self.heartbeat = self.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .milliseconds(500)) {
            [self] _ in
            let now = Self.now()
            for session in Array(self.sessions.values) where !session.engine.isClosed {
                let actions = session.engine.tick(now: now)
                self.perform(actions, for: session, current: nil)
            }
        }
    }

    /// Closes every WebSocket and answers every held poll (on shutdown).
    func shutdown() {
        if !self.finished {
            self.finished = true
            self.onFinished()
        }
        self.heartbeat?.cancel()
        self.timer?.cancel()
        for session in self.sessions.values {
            session.heldPoll?.respond(packets: [EngineIOPacket(type: .noop)], version: session.engine.version, base64: session.base64)
            session.heldPoll = nil
            session.webSocket?.close(promise: nil)
        }
    }

    // MARK: - Requests from the handlers

    /// A handshake: a new session on polling (answered now) or on a WebSocket (first frame).
    func openSession(
        version: EngineIOVersion, transport: EngineIOTransport, base64: Bool
    ) -> (sid: String, open: EngineIOPacket) {
        let sid = Self.makeID()
        let id = self.nextLiveID
        self.nextLiveID += 1
        let engine = EngineIOServerSession(
            sid: sid, version: version, transport: transport, now: Self.now(),
            pingIntervalMillis: self.configuration.pingIntervalMillis,
            pingTimeoutMillis: self.configuration.pingTimeoutMillis)
        let session = LiveSession(id: id, engine: engine, base64: base64)
        self.sessions[sid] = session
        self.sidByLive[id] = sid
        let actions = self.conductor.sessionOpened(id, name: sid, version: version, now: Self.now())
        let open = engine.handshakePacket(maxPayload: self.configuration.maxPayload)
        // The open packet must be the first thing the client sees: conductor actions after it.
        self.eventLoop.execute { self.performConductor(actions) }
        return (sid, open)
    }

    func poll(sid: String, responder: PollResponder) {
        guard let session = self.sessions[sid] else {
            return responder.respondError(status: 400, message: "Session ID unknown")
        }
        self.perform(session.engine.pollRequested(), for: session, current: responder)
    }

    func post(sid: String, body: ByteBuffer, contentType: String?, responder: PollResponder) {
        guard let session = self.sessions[sid] else {
            return responder.respondError(status: 400, message: "Session ID unknown")
        }
        let version = session.engine.version
        let decoded = EngineIOPayload.decode(
            body, encoding: EngineIOPayload.encoding(version: version, contentType: contentType, body: body))
        if let error = decoded.error {
            self.performConductor(self.conductor.undecodableClientPacket(session.id, reason: "\(error)", layer: "Engine.IO"))
        }
        let actions = session.engine.postReceived(decoded.packets, now: Self.now())
        if actions.contains(where: { if case .rejectRequest = $0 { true } else { false } }) {
            self.perform(actions, for: session, current: responder)
            return
        }
        responder.respond(status: .ok, contentType: "text/plain; charset=UTF-8", body: ByteBuffer(string: "ok"))
        self.perform(actions, for: session, current: nil)
    }

    func pollAbandoned(sid: String, channel: any Channel) {
        guard let session = self.sessions[sid], let held = session.heldPoll, held.channel === channel else { return }
        session.heldPoll = nil
        session.engine.heldPollAbandoned()
    }

    /// The live sessions the room holds: ended ones are forgotten.
    var sessionCount: Int {
        self.eventLoop.assertInEventLoop()
        return self.sessions.count
    }

    /// Whether a session with this sid is open (engine.io forgets a session once it is closed).
    func isOpen(sid: String) -> Bool { self.sessions[sid].map { !$0.engine.isClosed } ?? false }

    /// Whether a WebSocket upgrade for this sid (nil: a new WebSocket-only session) is acceptable.
    func acceptsWebSocket(sid: String?) -> Bool {
        guard let sid else { return true }
        guard let session = self.sessions[sid] else { return false }
        return !session.engine.isClosed && session.engine.transport == .polling && session.webSocket == nil
    }

    /// A WebSocket is up: for an upgrade, attach it; for a new session, send the handshake.
    func webSocketOpened(
        sid: String?, version: EngineIOVersion, channel: any Channel
    ) -> String? {
        if let sid {
            guard let session = self.sessions[sid] else { return nil }
            session.webSocket = channel
            return sid
        }
        let (newSID, open) = self.openSession(version: version, transport: .websocket, base64: false)
        self.sessions[newSID]?.webSocket = channel
        Self.write([open], version: version, to: channel)
        return newSID
    }

    func webSocketReceived(sid: String, packet: EngineIOPacket) {
        guard let session = self.sessions[sid] else { return }
        self.perform(session.engine.webSocketReceived(packet, now: Self.now()), for: session, current: nil)
    }

    func webSocketClosed(sid: String, channel: any Channel) {
        guard let session = self.sessions[sid], session.webSocket === channel else { return }
        session.webSocket = nil
        self.perform(session.engine.webSocketClosed(), for: session, current: nil)
    }

    func reportUndecodable(sid: String, error: WireError) {
        guard let session = self.sessions[sid] else { return }
        self.performConductor(self.conductor.undecodableClientPacket(session.id, reason: "\(error)", layer: "Engine.IO"))
    }

    /// A plain HTTP request: the recorded status and the configured body, or 404.
    func http(method: String, path: String, body: ByteBuffer = ByteBuffer(), responder: PollResponder) {
        guard let answer = self.conductor.httpRequest(method: method, path: path, body: body, now: Self.now()) else {
            self.report("HTTP \(method) \(path): not in the recording, answered 404")
            return responder.respond(
                status: .notFound, contentType: "text/plain; charset=UTF-8",
                body: ByteBuffer(string: "siotape replay: \(method) \(path) is not in the recording\n"))
        }
        let status = HTTPResponseStatus(statusCode: answer.status)
        if let headers = answer.headers {
            responder.respond(status: status, headers: headers, body: answer.body)
        } else {
            let trimmed = answer.body.readableBytesView.drop { $0 == 0x20 || $0 == 0x0A }
            let contentType =
                trimmed.first == UInt8(ascii: "{") || trimmed.first == UInt8(ascii: "[") ? "application/json"
                : trimmed.first == UInt8(ascii: "<") ? "text/html; charset=utf-8" : "text/plain; charset=utf-8"
            responder.respond(status: status, contentType: contentType, body: answer.body)
        }
        self.reschedule()
    }

    // MARK: - Carrying out actions

    private func perform(_ actions: [EngineIOServerSession.Action], for session: LiveSession, current: PollResponder?) {
        let version = session.engine.version
        for action in actions {
            switch action {
            case .respond(let packets):
                current?.respond(packets: packets, version: version, base64: session.base64)
            case .holdPoll:
                session.heldPoll = current
            case .rejectRequest(let status, let message):
                current?.respondError(status: status, message: message)
            case .answerHeldPoll(let packets):
                session.heldPoll?.respond(packets: packets, version: version, base64: session.base64)
                session.heldPoll = nil
            case .failHeldPoll(let status):
                session.heldPoll?.respondError(status: status, message: "Session closed")
                session.heldPoll = nil
            case .writeWebSocket(let packets):
                if let channel = session.webSocket { Self.write(packets, version: version, to: channel) }
            case .closeWebSocket:
                if let channel = session.webSocket {
                    var data = channel.allocator.buffer(capacity: 2)
                    data.write(webSocketErrorCode: .normalClosure)
                    channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
                        .whenComplete { _ in channel.close(promise: nil) }
                    session.webSocket = nil
                }
            case .deliver(let packet):
                self.deliver(packet, from: session)
            case .ended(let reason):
                self.logger.debug("session ended", metadata: ["sid": "\(session.engine.sid)", "reason": "\(reason)"])
                self.conductor.sessionEnded(session.id, now: Self.now())
                // engine.io forgets a closed session, and so does the room: a server kept running
                // (`--keep-running`) for client after client must not hold every one of them.
                if self.sessions[session.engine.sid] === session { self.sessions[session.engine.sid] = nil }
                self.sidByLive[session.id] = nil
                self.reschedule()
                self.checkFinished()
            }
        }
    }

    private func deliver(_ message: EngineIOPacket, from session: LiveSession) {
        let action: SocketIOBinaryAssembler.Action
        do {
            action = try session.codec.receive(message)
        } catch {
            self.performConductor(self.conductor.undecodableClientPacket(session.id, reason: "\(error)"))
            return
        }
        var complete: [SocketIOPacket] = []
        switch action {
        case .complete(let packet): complete = [packet]
        case .waiting, .dropped: return
        case .overLimit(let packet, let limit):
            let reason = "attachments of a \(packet.type.name) over \(limit >> 20) MiB"
            return self.performConductor(self.conductor.undecodableClientPacket(session.id, reason: reason))
        case .unexpectedAttachment:
            let reason = "a binary message no packet announced"
            return self.performConductor(self.conductor.undecodableClientPacket(session.id, reason: reason))
        case .abandoned(let previous, let then):
            complete = [previous]
            if case .complete(let packet) = then { complete.append(packet) }
        }
        for packet in complete {
            self.performConductor(self.conductor.clientPacket(session.id, packet, now: Self.now()))
        }
    }

    private func performConductor(_ actions: [ReplayConductor.Action]) {
        for action in actions {
            switch action {
            case .send(let id, let packet):
                guard let sid = self.sidByLive[id], let session = self.sessions[sid] else { continue }
                self.perform(session.engine.send(session.codec.messages(for: packet)), for: session, current: nil)
            case .close(let id, let sendingClosePacket):
                guard let sid = self.sidByLive[id], let session = self.sessions[sid] else { continue }
                let reason = sendingClosePacket ? "server close packet (as recorded)" : "transport dropped (as recorded)"
                self.perform(session.engine.close(sendingClosePacket: sendingClosePacket, reason: reason), for: session, current: nil)
            case .closeUnmatched(let id):
                guard let sid = self.sidByLive[id], let session = self.sessions[sid] else { continue }
                self.perform(session.engine.close(sendingClosePacket: true, reason: "unmatched packet"), for: session, current: nil)
            case .report(let line):
                self.report(line)
            }
        }
        self.reschedule()
    }

    private func reschedule() {
        self.timer?.cancel()
        self.timer = nil
        guard let due = self.conductor.nextDue else { return }
        let delay = max(0, due - Self.now())
        self.timer = self.eventLoop.scheduleTask(in: .microseconds(delay)) { [self] in
            self.timer = nil
            self.performConductor(self.conductor.due(now: Self.now()))
        }
    }

    private func checkFinished() {
        guard self.configuration.exitWhenDone, !self.finished, self.conductor.isFinished else { return }
        self.finished = true
        self.onFinished()
    }

    // MARK: - Helpers

    private static func write(_ packets: [EngineIOPacket], version: EngineIOVersion, to channel: any Channel) {
        for packet in packets {
            let (isBinary, bytes) = packet.encodeForWebSocket(version: version)
            channel.write(WebSocketFrame(fin: true, opcode: isBinary ? .binary : .text, data: bytes), promise: nil)
        }
        channel.flush()
    }

    static func now() -> Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds / 1000)
    }

    /// 20 characters of URL-safe base64 from random bytes, like the ids real servers issue.
    static func makeID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next() % 64)] })
    }
}
