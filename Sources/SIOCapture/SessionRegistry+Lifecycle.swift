import NIOCore
import SIORecording
import SIOWire

extension SessionRegistry {
    /// The server's `0{...}`: the session starts here.
    mutating func open(
        handshake json: ByteBuffer, context: PacketContext, request: HandshakeRequest?, into records: inout [Record]
    ) -> String? {
        let text = String(decoding: json.readableBytesView, as: UTF8.self)
        guard let sid = EngineIOHandshake(json: json)?.sid else {
            self.undecodable(
                .text("0" + text), layer: .engineIO, reason: "handshake without a sid", offset: 1, context: context,
                into: &records)
            return nil
        }
        if self.sessions[sid] == nil { self.makeRoom(time: context.time, into: &records) }
        self.sessionsGeneration &+= 1
        self.sessions[sid] = SessionMachine(
            sid: sid, version: context.version, transport: context.transport, time: context.time,
            maxPendingAcks: self.configuration.maxPendingAcksPerSession,
            maxAttachmentBytes: self.configuration.maxWebSocketMessageBytes)
        if context.transport == .websocket { self.sessions[sid]!.webSocketConnection = context.connection }
        self.statistics.sessionsOpened += 1
        self.statistics.activeSessions = self.sessions.count
        records.append(
            Record(
                time: context.time,
                event: .sessionOpened(
                    .init(
                        sid: sid, engineIOVersion: context.version, transport: context.transport,
                        connection: context.connection, path: request?.path ?? "", query: request?.query ?? [],
                        headers: request?.headers ?? [], handshake: text))))
        return sid
    }

    /// The session ends: packets still waiting for attachments are recorded as they are.
    mutating func close(sid: String, cause: String, time: Int64, into records: inout [Record]) {
        guard var session = self.sessions.removeValue(forKey: sid) else { return }
        self.sessionsGeneration &+= 1
        var leftovers: [(Direction, SessionMachine.Output)] = []
        session.drain(into: &leftovers)
        for (direction, output) in leftovers {
            let context = PacketContext(
                sid: sid, connection: session.webSocketConnection ?? 0, direction: direction,
                transport: session.transport, version: session.version, time: time)
            self.emitLeftover(output, context: context, into: &records)
        }
        self.statistics.sessionsClosed += 1
        self.statistics.activeSessions = self.sessions.count
        self.rememberClosed(sid)
        records.append(Record(time: time, event: .sessionClosed(.init(sid: sid, cause: cause))))
    }

    private mutating func emitLeftover(
        _ output: SessionMachine.Output, context: PacketContext, into records: inout [Record]
    ) {
        if case .incomplete(let packet) = output {
            self.statistics.socketIOPackets += 1
            records.append(context.socketRecord(packet))
        }
    }

    /// A WebSocket was accepted by the upstream.
    mutating func webSocketOpened(sid: String?, connection: UInt64, extensions: String?, time: Int64, into records: inout [Record]) {
        records.append(
            Record(time: time, event: .webSocketOpened(.init(sid: sid, connection: connection, extensions: extensions))))
    }

    /// A WebSocket close frame. Ends the session when that WebSocket carries it (a failed probe
    /// during an upgrade does not end a session that still lives on polling).
    mutating func webSocketClose(code: Int?, reason: String, context: PacketContext, into records: inout [Record]) {
        records.append(
            Record(
                time: context.time,
                event: .webSocketClosed(
                    .init(
                        sid: context.sid, connection: context.connection, direction: context.direction, code: code,
                        reason: reason))))
        if let sid = context.sid, let session = self.sessions[sid], session.transport == .websocket,
            session.webSocketConnection == context.connection
        {
            self.close(sid: sid, cause: "websocket closed by \(context.direction.sender)", time: context.time, into: &records)
        }
    }

    /// The TCP connection went away; the session ends if it was carried by that connection's WebSocket.
    mutating func transportClosed(sid: String?, connection: UInt64, cause: String, time: Int64, into records: inout [Record]) {
        guard let sid, let session = self.sessions[sid], session.transport == .websocket,
            session.webSocketConnection == connection
        else { return }
        self.close(sid: sid, cause: "transport closed (\(cause))", time: time, into: &records)
    }

    /// An HTTP exchange finished. A 400 on a polling session means the server dropped it.
    mutating func http(_ exchange: Record.HTTPExchange, time: Int64, into records: inout [Record]) {
        self.statistics.httpExchanges += 1
        records.append(Record(time: time, event: .http(exchange)))
        if let sid = exchange.sid, exchange.status == 400, let session = self.sessions[sid],
            session.transport == .polling
        {
            self.close(sid: sid, cause: "http 400", time: time, into: &records)
        }
    }

    /// `http` for a sink that takes lines: the exchange's line is written into `batch` without a
    /// `Record` (by the encoder function of the record's line) when there is no known secret to
    /// mask and no session to close, the exchange of every polling request; otherwise `http`'s
    /// records are made. `records` holds none yet (they would go after the line).
    mutating func http(
        _ exchange: Record.HTTPExchange, time: Int64, into batch: inout LineBatch, records: inout [Record]
    ) {
        assert(records.isEmpty, "records made before the http line would be written after it")
        guard self.knownSecrets.isEmpty, exchange.status != 400 else {
            return self.http(exchange, time: time, into: &records)
        }
        self.statistics.httpExchanges += 1
        batch.httpLine(exchange, time: time)
    }

    mutating func undecodable(
        _ data: RecordedData, layer: Record.Undecodable.Layer, reason: String, offset: Int, context: PacketContext,
        into records: inout [Record]
    ) {
        self.statistics.undecodable += 1
        records.append(
            Record(
                time: context.time,
                event: .undecodable(
                    .init(
                        sid: context.sid, connection: context.connection, direction: context.direction,
                        transport: context.transport, layer: layer, data: data, reason: reason, offset: offset))))
    }

    func engineRecord(_ packet: EngineIOPacket, context: PacketContext) -> Record {
        let data: RecordedData? =
            packet.data.readableBytes == 0
            ? nil
            : packet.isBinary
                ? .binary(packet.data) : .text(String(decoding: packet.data.readableBytesView, as: UTF8.self))
        return Record(
            time: context.time,
            event: .engine(
                .init(
                    sid: context.sid, connection: context.connection, direction: context.direction,
                    transport: context.transport, type: packet.type, data: data)))
    }

    /// Makes sure a packet's session is tracked: the proxy may have started in the middle of a
    /// session, and its acks and attachments still need a home. Returns where the session is in
    /// the table (nil without a sid, or for a session closed lately).
    @discardableResult
    mutating func touch(_ context: PacketContext, into records: inout [Record]) -> [String: SessionMachine].Index? {
        guard let sid = context.sid else { return nil }
        // By index: `sessions[sid] != nil` would copy the whole session out (retains) per packet.
        if let index = self.sessions.index(forKey: sid) {
            self.sessions.values[index].lastActivity = context.time
            return index
        }
        guard !self.recentlyClosed.contains(sid) else { return nil }
        self.makeRoom(time: context.time, into: &records)
        self.sessionsGeneration &+= 1
        self.sessions[sid] = SessionMachine(
            sid: sid, version: context.version, transport: context.transport, time: context.time,
            maxPendingAcks: self.configuration.maxPendingAcksPerSession,
            maxAttachmentBytes: self.configuration.maxWebSocketMessageBytes)
        if context.transport == .websocket { self.sessions[sid]!.webSocketConnection = context.connection }
        self.statistics.activeSessions = self.sessions.count
        records.append(
            Record(
                time: context.time,
                event: .note(
                    .init(
                        level: "info", message: "session \(sid) seen without its handshake",
                        connection: context.connection))))
        return self.sessions.index(forKey: sid)
    }

    /// Evicts the least recently active session when the table is full.
    private mutating func makeRoom(time: Int64, into records: inout [Record]) {
        guard self.sessions.count >= max(1, self.configuration.maxSessions),
            let oldest = self.sessions.values.min(by: { $0.lastActivity < $1.lastActivity })
        else { return }
        self.close(sid: oldest.sid, cause: "evicted (too many sessions tracked)", time: time, into: &records)
    }

    private mutating func rememberClosed(_ sid: String) {
        if self.recentlyClosed.insert(sid).inserted {
            self.recentlyClosedOrder.append(sid)
        }
        if self.recentlyClosedOrder.count > Self.recentlyClosedLimit {
            let half = self.recentlyClosedOrder.count / 2
            for sid in self.recentlyClosedOrder[..<half] { self.recentlyClosed.remove(sid) }
            self.recentlyClosedOrder.removeFirst(half)
        }
    }
}
