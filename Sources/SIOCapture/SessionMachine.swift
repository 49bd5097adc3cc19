import NIOCore
import SIOWire

/// The state of one Engine.IO session, shared by every connection that carries it: binary
/// attachments waiting for their packet, events waiting for their ack, connected namespaces.
///
/// Lives in the hub's session table, mutated under its lock.
struct SessionMachine: Sendable {
    /// What became of a Socket.IO packet or attachment handed to the session.
    enum Output: Hashable, Sendable {
        /// A packet is complete; `ackLatency` is set when it answered an event seen earlier.
        case packet(SocketIOPacket, ackLatency: Int64?)
        /// A packet whose attachments never all came (a new packet arrived, or the session ended).
        case incomplete(SocketIOPacket)
        /// A binary message with no packet waiting for it.
        case strayAttachment(ByteBuffer)
        /// A packet whose attachments grew past the limit: recorded with those that fit; the rest
        /// of the attachments it announced are dropped as they come.
        case attachmentsOverLimit(SocketIOPacket, limit: Int)
    }

    let sid: String
    let version: EngineIOVersion
    /// The transport packets currently travel on; `websocket` after the upgrade or for
    /// WebSocket-only sessions.
    var transport: EngineIOTransport
    /// The connection carrying the session's WebSocket, once it carries the session.
    var webSocketConnection: UInt64?
    /// Last time anything happened, to pick the session to evict when the table is full.
    var lastActivity: Int64
    private(set) var namespaces: Set<String> = []
    /// The Socket.IO parser the session was found to use (`record --parser auto`).
    var parser: ParserState = .undetermined

    enum ParserState: Hashable, Sendable {
        /// No Socket.IO packet yet.
        case undetermined
        /// A text Socket.IO packet was seen: binary messages are attachments.
        case `default`
        /// A binary message decoded as a msgpack packet.
        case msgpack
        /// Binary messages that are neither: reported once, recorded raw.
        case unknown
    }

    /// One per direction; each holds at most `maxAttachmentBytes` of attachments for a packet.
    private var assemblers: [SocketIOBinaryAssembler]
    /// Whether the assembler of a direction is not idle (holds a packet, or drops the rest of one
    /// over the limit); lets plain packets skip it.
    private var awaiting = [false, false]
    private var pendingAcks = PendingAcks()
    private let maxPendingAcks: Int

    init(
        sid: String, version: EngineIOVersion, transport: EngineIOTransport, time: Int64, maxPendingAcks: Int,
        maxAttachmentBytes: Int = SocketIOBinaryAssembler.defaultMaxAttachmentBytes
    ) {
        self.sid = sid
        self.version = version
        self.transport = transport
        self.lastActivity = time
        self.maxPendingAcks = max(1, maxPendingAcks)
        let assembler = SocketIOBinaryAssembler(maxAttachmentBytes: maxAttachmentBytes)
        self.assemblers = [assembler, assembler]
    }

    /// Whether `packet` is complete as it is: it announces no attachments and none are awaited in
    /// its direction.
    func isComplete(_ packet: SocketIOPacket, direction: Direction) -> Bool {
        !self.awaiting[direction.index] && !packet.type.carriesAttachments
    }

    /// When `packet` is complete as it is (the common case), its ack bookkeeping, without the
    /// assembler and without an output array: returns `handled` and the ack latency when it
    /// answered an event seen earlier. Otherwise nothing happens and `receive` must take it.
    /// (One mutating call: a call that does not mutate, made on the session in the table, would copy it.)
    mutating func receiveIfComplete(
        _ packet: SocketIOPacket, direction: Direction, time: Int64
    ) -> (handled: Bool, ackLatency: Int64?) {
        // A text Socket.IO packet: the session uses the default parser (msgpack packets are
        // marked by the registry before they come here).
        if self.parser == .undetermined, packet.parser == .default { self.parser = .default }
        guard self.isComplete(packet, direction: direction) else { return (false, nil) }
        self.lastActivity = time
        return (true, self.bookkeeping(packet, direction: direction, time: time))
    }

    /// A decoded Socket.IO packet arrived.
    mutating func receive(_ packet: SocketIOPacket, direction: Direction, time: Int64, into outputs: inout [Output]) {
        let complete = self.receiveIfComplete(packet, direction: direction, time: time)
        if complete.handled {
            outputs.append(.packet(packet, ackLatency: complete.ackLatency))
            return
        }
        self.lastActivity = time
        let d = direction.index
        let action = self.assemblers[d].receive(packet)
        self.awaiting[d] = !self.assemblers[d].isIdle
        self.emit(action, direction: direction, time: time, into: &outputs)
    }

    /// A binary message (WebSocket binary frame or `b...` polling entry) arrived.
    mutating func receiveAttachment(_ bytes: ByteBuffer, direction: Direction, time: Int64, into outputs: inout [Output]) {
        self.lastActivity = time
        let d = direction.index
        guard self.awaiting[d] else {
            outputs.append(.strayAttachment(bytes))
            return
        }
        let action = self.assemblers[d].receiveAttachment(bytes)
        self.awaiting[d] = !self.assemblers[d].isIdle
        self.emit(action, direction: direction, time: time, into: &outputs)
    }

    /// The outputs of what a direction's binary assembler did with a packet or an attachment.
    private mutating func emit(
        _ action: SocketIOBinaryAssembler.Action, direction: Direction, time: Int64, into outputs: inout [Output]
    ) {
        switch action {
        case .complete(let done):
            outputs.append(self.complete(done, direction: direction, time: time))
        case .waiting, .dropped:
            break
        case .unexpectedAttachment(let stray):
            outputs.append(.strayAttachment(stray))
        case .overLimit(let packet, let limit):
            outputs.append(.attachmentsOverLimit(packet, limit: limit))
        case .abandoned(let old, let then):
            // `then` is `.complete` only for a packet (an attachment never completes another packet).
            outputs.append(.incomplete(old))
            if case .complete(let done) = then {
                outputs.append(self.complete(done, direction: direction, time: time))
            }
        }
    }

    /// Packets still waiting for attachments when the session ends.
    mutating func drain(into outputs: inout [(Direction, Output)]) {
        for direction in [Direction.clientToServer, .serverToClient] where self.awaiting[direction.index] {
            if let pending = self.assemblers[direction.index].pending {
                outputs.append((direction, .incomplete(pending)))
            }
            self.assemblers[direction.index] = SocketIOBinaryAssembler(
                maxAttachmentBytes: self.assemblers[direction.index].maxAttachmentBytes)
            self.awaiting[direction.index] = false
        }
    }

    /// Ack bookkeeping and namespace tracking for a complete packet.
    private mutating func complete(_ packet: SocketIOPacket, direction: Direction, time: Int64) -> Output {
        .packet(packet, ackLatency: self.bookkeeping(packet, direction: direction, time: time))
    }

    /// Ack bookkeeping and namespace tracking; returns the ack latency when `packet` answered an
    /// event seen earlier.
    private mutating func bookkeeping(_ packet: SocketIOPacket, direction: Direction, time: Int64) -> Int64? {
        switch packet.type {
        case .event, .binaryEvent:
            if let id = packet.ackID {
                // A peer that never acks: the oldest is forgotten rather than grow without bound.
                self.pendingAcks.insert(
                    .init(direction: direction, namespace: packet.namespace, id: id), time: time, limit: self.maxPendingAcks)
            }
            return nil
        case .ack, .binaryAck:
            guard let id = packet.ackID,
                let asked = self.pendingAcks.remove(.init(direction: direction.opposite, namespace: packet.namespace, id: id))
            else { return nil }
            return time - asked
        case .connect:
            if direction == .serverToClient { self.namespaces.insert(Self.bareNamespace(packet.namespace)) }
            return nil
        case .disconnect:
            self.namespaces.remove(Self.bareNamespace(packet.namespace))
            return nil
        case .connectError:
            return nil
        }
    }

    /// `/admin?token=1` → `/admin` (Socket.IO v4 carries the CONNECT query in the namespace).
    static func bareNamespace(_ namespace: String) -> String {
        guard let question = namespace.firstIndex(of: "?") else { return namespace }
        return String(namespace[..<question])
    }

    var pendingAckCount: Int { self.pendingAcks.count }
}
