import NIOCore
import SIOWire

/// The server side of one Engine.IO session, as a plain state machine: transports (long-polling,
/// WebSocket, the polling→WebSocket upgrade), the outgoing queue of a polling session, and live
/// heartbeats (v4: the server pings; v3: the client pings and the server answers).
///
/// Events come in as method calls; what the I/O layer must do comes back as `Action`s. Times are
/// microseconds on any monotonic clock.
struct EngineIOServerSession {
    enum Transport: Hashable, Sendable {
        /// Long-polling, possibly with a WebSocket being probed.
        case polling
        /// The probe was answered; packets wait until the client sends `5`.
        case upgrading
        case websocket
    }

    enum Action: Hashable, Sendable {
        /// Answer the current long-poll GET with these packets.
        case respond([EngineIOPacket])
        /// Keep the current GET open until there is something to send.
        case holdPoll
        /// Answer the current request with an error status.
        case rejectRequest(status: Int, message: String)
        /// Answer the GET held earlier with these packets.
        case answerHeldPoll([EngineIOPacket])
        /// Answer the GET held earlier with an error status (the transport was dropped).
        case failHeldPoll(status: Int)
        /// Write these packets to the session's WebSocket, one per frame.
        case writeWebSocket([EngineIOPacket])
        /// A `message` packet from the client, for the Socket.IO layer.
        case deliver(EngineIOPacket)
        /// Close the session's WebSocket (after the writes before this action).
        case closeWebSocket
        /// The session is over; the reason is for the summary.
        case ended(reason: String)
    }

    let sid: String
    let version: EngineIOVersion
    let pingInterval: Int64
    let pingTimeout: Int64

    private(set) var transport: Transport
    private(set) var isClosed = false
    private var outbox: [EngineIOPacket] = []
    private var pollHeld = false
    /// v4: when the unanswered ping went out.
    private var pingSentAt: Int64?
    /// v4: when the next ping is due.
    private var nextPingAt: Int64
    /// v3: when the client last pinged (or the session opened).
    private var lastClientPing: Int64

    init(
        sid: String, version: EngineIOVersion, transport: EngineIOTransport, now: Int64,
        pingIntervalMillis: Int64, pingTimeoutMillis: Int64
    ) {
        self.sid = sid
        self.version = version
        self.transport = transport == .websocket ? .websocket : .polling
        self.pingInterval = pingIntervalMillis * 1000
        self.pingTimeout = pingTimeoutMillis * 1000
        self.nextPingAt = now + self.pingInterval
        self.lastClientPing = now
    }

    /// The `0{...}` packet: fresh sid, live heartbeat settings, upgrades offered on polling only.
    func handshakePacket(maxPayload: Int) -> EngineIOPacket {
        let upgrades = self.transport == .websocket ? "[]" : "[\"websocket\"]"
        var json = "{\"sid\":\"\(self.sid)\",\"upgrades\":\(upgrades),"
        json += "\"pingInterval\":\(self.pingInterval / 1000),\"pingTimeout\":\(self.pingTimeout / 1000)"
        if self.version == .v4 { json += ",\"maxPayload\":\(maxPayload)" }
        json += "}"
        return EngineIOPacket(type: .open, data: ByteBuffer(string: json))
    }

    // MARK: - Polling

    /// A long-poll GET for this session arrived.
    mutating func pollRequested() -> [Action] {
        guard !self.isClosed else {
            // A close packet queued for the next GET still goes out with it.
            guard self.outbox.isEmpty else {
                defer { self.outbox.removeAll() }
                return [.respond(self.outbox)]
            }
            return [.rejectRequest(status: 400, message: "Session ID unknown")]
        }
        switch self.transport {
        case .polling:
            break
        case .upgrading:
            // A GET while the upgrade is under way gets a noop at once, so that the client can pause
            // polling and send `5` (engine.io answers it with a noop within 100 ms; the Node client
            // does send one after `3probe`). Nothing is ever held across the upgrade.
            return [.respond([EngineIOPacket(type: .noop)])]
        case .websocket:
            // engine.io: a polling request for a session on another transport is a transport
            // mismatch, `400 {"code":3,"message":"Bad request"}`; the upgraded client ignores it.
            return [.rejectRequest(status: 400, message: "Bad request")]
        }
        guard !self.pollHeld else {
            // Two concurrent GETs: the reference server closes the session.
            return [.rejectRequest(status: 400, message: "Bad request: overlapping long-poll GET")]
                + self.end(reason: "overlapping long-poll GET", notify: false)
        }
        guard self.outbox.isEmpty else {
            defer { self.outbox.removeAll() }
            return [.respond(self.outbox)]
        }
        self.pollHeld = true
        return [.holdPoll]
    }

    /// The connection of a held GET went away before it was answered.
    mutating func heldPollAbandoned() {
        self.pollHeld = false
    }

    /// The packets of a POST body (the I/O layer answers the POST itself).
    mutating func postReceived(_ packets: [EngineIOPacket], now: Int64) -> [Action] {
        guard !self.isClosed else { return [.rejectRequest(status: 400, message: "Session ID unknown")] }
        // As a GET: after the upgrade, polling is a transport mismatch (engine.io).
        guard self.transport != .websocket else { return [.rejectRequest(status: 400, message: "Bad request")] }
        var actions: [Action] = []
        for packet in packets where !self.isClosed {
            actions += self.received(packet, now: now)
        }
        return actions
    }

    // MARK: - WebSocket

    /// A packet on the session's WebSocket (the upgrade's probe, or traffic after it).
    mutating func webSocketReceived(_ packet: EngineIOPacket, now: Int64) -> [Action] {
        guard !self.isClosed else { return [] }
        switch self.transport {
        case .polling:
            guard packet.type == .ping, !packet.isBinary, packet.data.readableBytesView.elementsEqual("probe".utf8)
            else { return [] }
            self.transport = .upgrading
            var actions: [Action] = [.writeWebSocket([EngineIOPacket(type: .pong, data: packet.data)])]
            if self.pollHeld {
                // Release the pending GET so that the client can finish the upgrade.
                self.pollHeld = false
                actions.append(.answerHeldPoll([EngineIOPacket(type: .noop)]))
            }
            return actions
        case .upgrading:
            guard packet.type == .upgrade else { return self.received(packet, now: now) }
            self.transport = .websocket
            defer { self.outbox.removeAll() }
            return self.outbox.isEmpty ? [] : [.writeWebSocket(self.outbox)]
        case .websocket:
            return self.received(packet, now: now)
        }
    }

    /// The client closed the WebSocket (or the connection).
    mutating func webSocketClosed() -> [Action] {
        guard !self.isClosed else { return [] }
        switch self.transport {
        case .polling:
            return []  // a failed probe: polling goes on
        case .upgrading:
            // The probe's WebSocket closed before `5` (the Node client closes it when it gives up
            // the upgrade, e.g. on its way out): engine.io drops that transport, not the session,
            // which goes on polling. What was queued for after the upgrade goes to the next GET.
            self.transport = .polling
            return []
        case .websocket:
            return self.end(reason: "websocket closed by client", notify: false)
        }
    }

    // MARK: - Sending and closing

    /// Packets for the client.
    mutating func send(_ packets: [EngineIOPacket]) -> [Action] {
        guard !self.isClosed, !packets.isEmpty else { return [] }
        switch self.transport {
        case .websocket:
            return [.writeWebSocket(packets)]
        case .polling, .upgrading:
            self.outbox += packets
            guard self.pollHeld, self.transport == .polling else { return [] }
            self.pollHeld = false
            defer { self.outbox.removeAll() }
            return [.answerHeldPoll(self.outbox)]
        }
    }

    /// Ends the session from the server side: with a close packet (`1`), or by dropping the
    /// transport without one (as a crashed or restarted server would, so that clients reconnect).
    mutating func close(sendingClosePacket: Bool, reason: String) -> [Action] {
        guard !self.isClosed else { return [] }
        var actions: [Action] = []
        if sendingClosePacket { actions += self.send([EngineIOPacket(type: .close)]) }
        return actions + self.end(reason: reason, notify: !sendingClosePacket)
    }

    // MARK: - Heartbeat

    /// Called periodically: sends v4 pings and ends sessions whose peer went quiet.
    mutating func tick(now: Int64) -> [Action] {
        guard !self.isClosed else { return [] }
        switch self.version {
        case .v4:
            if let sentAt = self.pingSentAt {
                guard now - sentAt < self.pingTimeout else { return self.end(reason: "ping timeout", notify: true) }
                return []
            }
            guard now >= self.nextPingAt else { return [] }
            self.pingSentAt = now
            return self.send([EngineIOPacket(type: .ping)])
        case .v3:
            guard now - self.lastClientPing < self.pingInterval + self.pingTimeout else {
                return self.end(reason: "ping timeout", notify: true)
            }
            return []
        }
    }

    // MARK: - Private

    private mutating func received(_ packet: EngineIOPacket, now: Int64) -> [Action] {
        switch packet.type {
        case .message:
            return [.deliver(packet)]
        case .ping:
            self.lastClientPing = now
            return self.send([EngineIOPacket(type: .pong, data: packet.data)])
        case .pong:
            if let sentAt = self.pingSentAt, self.version == .v4 {
                self.pingSentAt = nil
                self.nextPingAt = sentAt + self.pingInterval
            }
            return []
        case .close:
            return self.end(reason: "client close packet", notify: false)
        case .open, .upgrade, .noop:
            return []
        }
    }

    /// Marks the session closed. `notify`: end a held poll with an error (a dropped transport) and
    /// close the WebSocket, so that the client notices.
    private mutating func end(reason: String, notify: Bool) -> [Action] {
        self.isClosed = true
        if notify { self.outbox.removeAll() }
        var actions: [Action] = []
        if self.pollHeld {
            self.pollHeld = false
            if notify {
                actions.append(.failHeldPoll(status: 400))
            } else {
                // Python clients wait for the held GET after their close packet: release it.
                actions.append(.answerHeldPoll([EngineIOPacket(type: .noop)]))
            }
        }
        if self.transport != .polling { actions.append(.closeWebSocket) }
        actions.append(.ended(reason: reason))
        return actions
    }
}
