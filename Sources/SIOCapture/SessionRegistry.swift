import NIOCore
import SIORecording
import SIOWire

/// Every Engine.IO session of a proxy run, keyed by sid, so that the packets of one session are
/// followed across TCP connections (Node opens one per polling request) and transports.
///
/// A plain struct: the hub keeps it behind a lock, tests drive it directly with decoded packets.
/// Every method appends the records the event produced, in order.
struct SessionRegistry: Sendable {
    /// What the handshake request said, for the `open` record.
    struct HandshakeRequest: Hashable, Sendable {
        var path: String
        var query: [Record.KeyValue]
        var headers: [Record.KeyValue]
    }

    let configuration: CaptureConfiguration
    let redactor: Redactor
    var sessions: [String: SessionMachine] = [:]
    /// Changes whenever a session is added to or removed from `sessions` (every other change is
    /// in place): a `SessionSlot` remembered before is valid while this has not changed.
    var sessionsGeneration = 0
    var statistics = CaptureStatistics()
    /// Credential values seen so far, masked in every later record (when redacting).
    var knownSecrets = KnownSecrets()
    /// Sids closed lately: late packets for them (a `6` still queued, the peer's close echo)
    /// must not bring the session back to life.
    var recentlyClosed: Set<String> = []
    var recentlyClosedOrder: [String] = []
    static let recentlyClosedLimit = 1_024
    /// The records array of the hub's last call, kept empty for the next one (up to this capacity).
    var spareRecords: [Record] = []
    static let spareRecordsCapacity = 256

    init(configuration: CaptureConfiguration) {
        self.configuration = configuration
        self.redactor = Redactor(enabled: configuration.redactCredentials)
    }

    // MARK: Engine.IO

    /// One Engine.IO packet of a session (or of a handshake), decoding its Socket.IO text here.
    /// Returns the sid when this packet opened a session.
    @discardableResult
    mutating func engine(
        _ packet: EngineIOPacket, context: PacketContext, handshake: HandshakeRequest? = nil,
        into records: inout [Record]
    ) -> String? {
        self.engine(
            DecodedPacket(
                packet, version: context.version, direction: context.direction, redactor: self.redactor,
                parser: self.configuration.parser),
            context: context, handshake: handshake, into: &records)
    }

    /// One Engine.IO packet of a session (or of a handshake), its Socket.IO text already decoded.
    /// Returns the sid when this packet opened a session.
    @discardableResult
    mutating func engine(
        _ decoded: DecodedPacket, context: PacketContext, handshake: HandshakeRequest? = nil,
        into records: inout [Record]
    ) -> String? {
        self.statistics.engineIOPackets += 1
        let packet: EngineIOPacket
        switch decoded {
        case .socket(let socketPacket):
            self.socket(socketPacket, context: context, into: &records)
            return nil
        case .undecodableSocket(let data, let reason, let offset):
            self.undecodable(data, layer: .socketIO, reason: reason, offset: offset, context: context, into: &records)
            return nil
        case .attachment(let bytes):
            self.binary(bytes, context: context, into: &records)
            return nil
        case .msgpack(let socketPacket, let message):
            self.msgpack(socketPacket, message: message, context: context, into: &records)
            return nil
        case .undecodableMsgPack(let message, let reason, let offset):
            self.undecodableMsgPack(message, reason: reason, offset: offset, context: context, into: &records)
            return nil
        case .engine(let enginePacket):
            packet = enginePacket
        }
        switch packet.type {
        case .open where context.direction == .serverToClient && context.sid == nil:
            return self.open(handshake: packet.data, context: context, request: handshake, into: &records)
        case .upgrade where context.direction == .clientToServer && context.sid != nil:
            let sid = context.sid!
            self.touch(context, into: &records)
            self.sessions[sid]?.transport = .websocket
            self.sessions[sid]?.webSocketConnection = context.connection
            records.append(Record(time: context.time, event: .upgraded(.init(sid: sid, connection: context.connection))))
        case .close:
            self.touch(context, into: &records)
            records.append(self.engineRecord(packet, context: context))
            if let sid = context.sid {
                self.close(sid: sid, cause: "\(context.direction.sender) close packet", time: context.time, into: &records)
            }
        default:
            self.touch(context, into: &records)
            records.append(self.engineRecord(packet, context: context))
        }
        return nil
    }

    /// A whole polling body, already split into packets (their Socket.IO text decoded) and `error`,
    /// where the body stopped decoding. Returns the sid when the body opened a session (a
    /// handshake answer).
    @discardableResult
    mutating func poll(
        _ packets: [DecodedPacket], error: WireError?, encoding: EngineIOPayloadEncoding, body: ByteBuffer,
        context: PacketContext, handshake: HandshakeRequest? = nil, into records: inout [Record]
    ) -> String? {
        var context = context
        var opened: String?
        var packetRecords: [Record] = []
        for (index, packet) in packets.enumerated() {
            if index == 0, context.sid == nil, case .engine(let open) = packet, open.type == .open,
                context.direction == .serverToClient
            {
                // The `open` record carries the handshake; the `poll` record describes what follows it.
                opened = self.engine(packet, context: context, handshake: handshake, into: &records)
                context.sid = opened
                continue
            }
            self.engine(packet, context: context, into: &packetRecords)
        }
        if let error {
            let kept = context.direction == .clientToServer ? self.redactor.undecodableBody(body) : body
            let data: RecordedData =
                encoding == .v3Binary
                ? .binary(kept) : RecordedData(textBytes: kept)
            self.undecodable(
                data, layer: .payload, reason: error.reason, offset: error.offset, context: context,
                into: &packetRecords)
        }
        records.append(
            Self.pollRecord(
                context: context, encoding: encoding, body: body, packetCount: Self.packetRecordCount(packetRecords)))
        records.append(contentsOf: packetRecords)
        return opened
    }

    /// The `poll` record of a polling body, which counts the packet records that follow it.
    static func pollRecord(
        context: PacketContext, encoding: EngineIOPayloadEncoding, body: ByteBuffer, packetCount: Int
    ) -> Record {
        Record(
            time: context.time,
            event: .poll(Self.pollBody(context: context, encoding: encoding, body: body, packetCount: packetCount)))
    }

    /// What the `poll` record of a polling body holds (`pollRecord`; the fast path writes its line).
    static func pollBody(
        context: PacketContext, encoding: EngineIOPayloadEncoding, body: ByteBuffer, packetCount: Int
    ) -> Record.PollBody {
        Record.PollBody(
            sid: context.sid ?? "", connection: context.connection, direction: context.direction, encoding: encoding,
            bytes: body.readableBytes, packetCount: packetCount)
    }

    /// How many of `records` stand for a packet (or an undecodable part) of a polling body: the
    /// `poll` record's count.
    static func packetRecordCount(_ records: [Record]) -> Int {
        records.reduce(0) { count, record in
            switch record.event {
            case .engine, .socket, .undecodable: return count + 1
            default: return count
            }
        }
    }

    // MARK: Socket.IO

    /// A decoded Socket.IO packet (the text of a `4` message, or a msgpack packet).
    mutating func socket(_ packet: SocketIOPacket, context: PacketContext, into records: inout [Record]) {
        var outputs: [SessionMachine.Output] = []
        if let index = self.touch(context, into: &records) {
            let complete = self.sessions.values[index].receiveIfComplete(
                packet, direction: context.direction, time: context.time)
            if complete.handled {
                self.emitPacket(packet, ackLatency: complete.ackLatency, context: context, into: &records)
                return
            }
            self.sessions.values[index].receive(packet, direction: context.direction, time: context.time, into: &outputs)
        } else {
            // No session to hold attachments or acks (WebSocket before its handshake): record as is.
            outputs.append(.packet(packet, ackLatency: nil))
        }
        for output in outputs { self.emit(output, context: context, into: &records) }
    }

    /// The fast path of `engine(.socket(packet), ...)` for the common packet: a complete packet
    /// (no attachments announced or awaited) of a session in the table, with no credential to
    /// redact (not a client's CONNECT while redacting) and no known secret to mask. Does the same
    /// bookkeeping and writes the same line as the slow path, without a `Record`; returns `false`,
    /// having changed nothing the slow path would not change the same way, for any other packet.
    ///
    /// `slot`: where the connection's session was found last time; used instead of hashing the
    /// sid while the table has not gained or lost a session since, updated otherwise.
    mutating func socketLine(
        _ packet: borrowing SocketIOPacket, context: borrowing PacketContext, slot: inout SessionSlot?,
        into batch: inout LineBatch
    ) -> Bool {
        guard let sid = context.sid, !packet.type.carriesAttachments, self.knownSecrets.isEmpty,
            packet.type != .connect || context.direction == .serverToClient || !self.redactor.enabled
        else { return false }
        let index: [String: SessionMachine].Index
        if let known = slot, known.generation == self.sessionsGeneration, known.sid == sid {
            index = known.index
        } else {
            guard let found = self.sessions.index(forKey: sid) else { return false }
            index = found
            slot = SessionSlot(sid: sid, generation: self.sessionsGeneration, index: found)
        }
        self.sessions.values[index].lastActivity = context.time
        let complete = self.sessions.values[index].receiveIfComplete(
            packet, direction: context.direction, time: context.time)
        guard complete.handled else { return false }
        self.statistics.engineIOPackets += 1
        self.count(packet, direction: context.direction, paired: complete.ackLatency != nil)
        batch.socketLine(packet, context: context, ackLatency: complete.ackLatency)
        return true
    }

    /// `socketLine` for a packet lent in place (an element of a read's packets, not changed): an
    /// array's element passed as a plain argument is copied for the call, an `inout` one is not.
    mutating func socketLine(
        inPlace packet: inout SocketIOPacket, context: PacketContext, slot: inout SessionSlot?,
        into batch: inout LineBatch
    ) -> Bool {
        self.socketLine(packet, context: context, slot: &slot, into: &batch)
    }

    /// Where a session is in the table (`sessions`), and when that was true.
    struct SessionSlot {
        var sid: String
        var generation: Int
        var index: [String: SessionMachine].Index
    }

    /// A binary message: an attachment of the packet waiting in this direction.
    mutating func attachment(_ bytes: ByteBuffer, context: PacketContext, into records: inout [Record]) {
        var outputs: [SessionMachine.Output] = []
        if let index = self.touch(context, into: &records) {
            self.sessions.values[index].receiveAttachment(bytes, direction: context.direction, time: context.time, into: &outputs)
        } else {
            outputs.append(.strayAttachment(bytes))
        }
        for output in outputs { self.emit(output, context: context, into: &records) }
    }

    private mutating func emit(_ output: SessionMachine.Output, context: PacketContext, into records: inout [Record]) {
        switch output {
        case .packet(let packet, let latency):
            self.emitPacket(packet, ackLatency: latency, context: context, into: &records)
        case .incomplete(let packet):
            self.recordWithWarning(
                packet, "got \(packet.attachments.count) of \(packet.attachmentCount) attachments", context: context,
                into: &records)
        case .attachmentsOverLimit(let packet, let limit):
            self.recordWithWarning(
                packet,
                "announced \(packet.attachmentCount) attachments; they exceed the limit of \(limit) bytes: recorded "
                    + "with the \(packet.attachments.count) received, the rest are not recorded",
                context: context, into: &records)
        case .strayAttachment(let bytes):
            self.undecodable(
                .binary(bytes), layer: .socketIO, reason: "binary attachment with no packet waiting for it",
                offset: 0, context: context, into: &records)
        }
    }

    /// The `sio` record of a complete packet (a CONNECT's credentials masked when redacting).
    private mutating func emitPacket(
        _ packet: SocketIOPacket, ackLatency: Int64?, context: PacketContext, into records: inout [Record]
    ) {
        self.count(packet, direction: context.direction, paired: ackLatency != nil)
        if packet.type == .connect, context.direction == .clientToServer, self.redactor.enabled {
            if let json = packet.json { self.learn(KnownSecrets.jsonStringValues(json)) }
            let (redacted, changed) = ConnectPayloadRedactor.redact(packet)
            records.append(context.socketRecord(redacted, ackLatencyMicros: ackLatency, redacted: changed))
        } else {
            records.append(context.socketRecord(packet, ackLatencyMicros: ackLatency))
        }
    }

    /// A packet recorded as it is, after a note that says what is wrong with it.
    private mutating func recordWithWarning(
        _ packet: SocketIOPacket, _ problem: String, context: PacketContext, into records: inout [Record]
    ) {
        self.statistics.socketIOPackets += 1
        let event = packet.eventName.map { " (event \($0))" } ?? ""
        let message = "\(packet.type.name) on \(packet.namespace)\(event) of session \(context.sid ?? "?") \(problem)"
        records.append(
            Record(
                time: context.time,
                event: .note(.init(level: "warning", message: message, connection: context.connection))))
        records.append(context.socketRecord(packet))
    }

    private mutating func count(_ packet: SocketIOPacket, direction: Direction, paired: Bool) {
        self.statistics.socketIOPackets += 1
        if paired { self.statistics.acksPaired += 1 }
        switch packet.type {
        case .connect where direction == .serverToClient: self.statistics.namespaceConnects += 1
        case .connectError: self.statistics.namespaceConnectErrors += 1
        case .disconnect: self.statistics.namespaceDisconnects += 1
        default: break
        }
    }
}
