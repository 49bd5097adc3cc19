import NIOCore
import SIOWire

/// The brain of `replay serve`, as a plain state machine over a `ServePlan`: pairs live client
/// sessions with recorded ones, pairs live client packets with recorded ones, and schedules the
/// recorded server actions each of them triggered (in any session: a room replays together).
///
/// Times are microseconds on any monotonic clock. The I/O layer calls `due(now:)` at `nextDue`.
struct ReplayConductor {
    typealias LiveID = Int

    enum Action: Hashable, Sendable {
        /// Send this Socket.IO packet (ack ids and socket ids already mapped) to a live session.
        case send(LiveID, SocketIOPacket)
        /// End a live session the way the recorded server ended its counterpart.
        case close(LiveID, sendingClosePacket: Bool)
        /// Close a live session because of an unmatched packet (`--on-unmatched close`).
        case closeUnmatched(LiveID)
        /// A line for the operator (stderr): an unmatched packet, a session without counterpart.
        case report(String)
    }

    struct Live {
        var name: String
        var version: EngineIOVersion
        var recorded: Int?
        var closed = false
        /// Packets that arrived before the session could be paired (namespace/auth/events matching).
        var waiting: [SocketIOPacket] = []
        /// Recorded client packets of the paired session not matched yet.
        var unmatched: RecordedClientPackets?
        /// (namespace, recorded ack id) → the live client's ack id.
        var ackIDs: [AckKey: UInt64] = [:]
        /// Namespaces whose CONNECT was answered before pairing (events matching).
        var answeredConnects = Set<String>()
    }

    struct AckKey: Hashable {
        var namespace: String
        var id: UInt64
    }

    private struct Scheduled {
        var due: Int64
        var step: Int
        var live: LiveID
    }

    let plan: ServePlan
    let configuration: ServeConfiguration
    private let makeSocketID: () -> String
    /// Recorded sessions to serve, in recorded order.
    private let selected: [Int]
    private var liveByRecorded: [Int: LiveID] = [:]
    private var live: [LiveID: Live] = [:]
    private var queue: [Scheduled] = []
    private var httpUsed = Set<Int>()
    private var httpBodyUses: [String: Int] = [:]
    private(set) var summary = ServeSummary()

    init(plan: ServePlan, configuration: ServeConfiguration, makeSocketID: @escaping () -> String) {
        self.plan = plan
        self.configuration = configuration
        self.makeSocketID = makeSocketID
        let wanted = Set(configuration.sessions)
        self.selected = plan.script.sessions.filter { wanted.isEmpty || wanted.contains($0.sid) }.map(\.index)
        self.summary.recordedSessions = self.selected.count
    }

    /// When `due(now:)` has something to send.
    var nextDue: Int64? { self.queue.map(\.due).min() }

    /// Every recorded session has been served and every live session has ended.
    var isFinished: Bool {
        self.liveByRecorded.count == self.selected.count && self.live.values.allSatisfy(\.closed)
    }

    /// The recorded session paired with a live one, if any.
    func recordedSession(of id: LiveID) -> ScriptSession? {
        self.live[id]?.recorded.map { self.plan.script.sessions[$0] }
    }

    // MARK: - Events

    mutating func sessionOpened(_ id: LiveID, name: String, version: EngineIOVersion, now: Int64) -> [Action] {
        self.live[id] = Live(name: name, version: version)
        self.summary.liveSessions += 1
        // Socket.IO v4 servers greet `/` by themselves: pair at once. So does order matching.
        guard self.configuration.matching == .order || version == .v3 else { return [] }
        return self.bind(id, to: self.nextUnserved(), now: now)
    }

    /// A live session ended. Its recorded DISCONNECTs not seen live count as sent (clients that close
    /// the transport without `41` left the room all the same), so what they caused still happens.
    mutating func sessionEnded(_ id: LiveID, now: Int64) {
        guard self.live[id]?.closed == false else { return }
        self.live[id]?.closed = true
        self.queue.removeAll { $0.live == id }
        guard let recorded = self.live[id]?.recorded else { return }
        let leftDisconnects = self.live[id]?.unmatched?.takeDisconnects(in: self.plan.script.sessions[recorded]) ?? []
        // Only the summary's view of an ended session is kept: a server kept running for many
        // clients must not hold every one's matching state.
        self.live[id]?.unmatched = nil
        self.live[id]?.ackIDs = [:]
        for packet in leftDisconnects { self.fire(.clientPacket(session: recorded, packet: packet.index), now: now) }
    }

    /// A complete Socket.IO packet (attachments joined) from a live client.
    mutating func clientPacket(_ id: LiveID, _ packet: SocketIOPacket, now: Int64) -> [Action] {
        // Fields are read through the dictionary, never through a copy of the session, so that the
        // matching state below is mutated in place (a copy would make every packet copy it).
        guard self.live[id]?.closed == false else { return [] }
        guard let recorded = self.live[id]?.recorded else { return self.clientPacketBeforePairing(id, packet, now: now) }
        let script = self.plan.script.sessions[recorded]
        guard let match = self.live[id]?.unmatched?.take(matching: packet, in: script) else {
            // Leaving is always allowed: whether a closing client's last DISCONNECT reached the
            // recorded server is a race, not a difference.
            guard packet.type == .disconnect else {
                return self.unmatched(id, packet, reason: "no such packet left in recorded session \(script.sid)")
            }
            return []
        }
        if let liveAck = packet.ackID, let recordedAck = match.ackID, match.isEvent {
            self.live[id]?.ackIDs[AckKey(namespace: packet.namespace, id: recordedAck)] = liveAck
        }
        self.summary.clientPacketsMatched += 1
        let answeredBeforePairing =
            packet.type == .connect && self.live[id]?.answeredConnects.contains(packet.namespace) == true
        // A CONNECT answered before pairing: the other actions it triggered still happen.
        self.fire(
            .clientPacket(session: recorded, packet: match.index), now: now,
            skippingConnectReplyFor: answeredBeforePairing ? id : nil)
        return []
    }

    /// A packet of a session not paired yet (namespace, auth or events matching): it may decide the
    /// pairing; until then packets wait (a CONNECT is answered at once under events matching).
    private mutating func clientPacketBeforePairing(_ id: LiveID, _ packet: SocketIOPacket, now: Int64) -> [Action] {
        guard self.nextUnserved() != nil else {
            return self.unmatched(id, packet, reason: "no recorded session left to pair this client with")
        }
        self.live[id]?.waiting.append(packet)
        if let choice = self.pairingChoice(for: packet) {
            var actions = self.bind(id, to: choice, now: now)
            let waiting = self.live[id]?.waiting ?? []
            self.live[id]?.waiting = []
            for earlier in waiting { actions += self.clientPacket(id, earlier, now: now) }
            return actions
        }
        guard packet.type == .connect, let version = self.live[id]?.version else { return [] }
        self.live[id]?.answeredConnects.insert(packet.namespace)
        return [.send(id, self.connectReply(namespace: packet.namespace, recorded: nil, version: version))]
    }

    /// A plain HTTP request: the recorded status for it (nil: not recorded), its body, and the
    /// recorded server actions it triggered are scheduled.
    mutating func httpRequest(method: String, path: String, now: Int64) -> (status: Int, body: String)? {
        let pathOnly = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        let candidates = self.plan.http.indices.filter { !self.httpUsed.contains($0) && self.plan.http[$0].method == method }
        guard
            let index = candidates.first(where: { self.plan.http[$0].path == path })
                ?? candidates.first(where: { self.plan.http[$0].path.hasPrefix(pathOnly) && Self.samePath(self.plan.http[$0].path, pathOnly) })
        else {
            self.summary.httpUnknown += 1
            return nil
        }
        self.httpUsed.insert(index)
        self.summary.httpAnswered += 1
        self.fire(.httpRequest(index: index), now: now)
        let key = "\(method) \(pathOnly)"
        let bodies = self.configuration.httpBodies[key] ?? self.configuration.httpBodies["\(method) \(path)"] ?? []
        let use = self.httpBodyUses[key, default: 0]
        self.httpBodyUses[key] = use + 1
        let body = bodies.isEmpty ? "" : bodies[min(use, bodies.count - 1)]
        return (self.plan.http[index].status ?? 502, body)
    }

    /// The server actions whose time has come, in recorded order.
    mutating func due(now: Int64) -> [Action] {
        let ready = self.queue.filter { $0.due <= now }.sorted { ($0.due, $0.step) < ($1.due, $1.step) }
        guard !ready.isEmpty else { return [] }
        self.queue.removeAll { $0.due <= now }
        var actions: [Action] = []
        for item in ready {
            guard let session = self.live[item.live], !session.closed else { continue }
            let step = self.plan.steps[item.step]
            switch step.kind {
            case .packet(let index):
                let recorded = self.plan.script.sessions[step.session].packets[index]
                actions.append(.send(item.live, self.outgoing(recorded.packet, to: session)))
                self.summary.serverPacketsSent += 1
                self.summary.recordLateness(now - item.due)
            case .closePacket:
                actions.append(.close(item.live, sendingClosePacket: true))
            case .dropTransport:
                actions.append(.close(item.live, sendingClosePacket: false))
            }
        }
        return actions
    }

    // MARK: - Pairing sessions

    private func nextUnserved() -> Int? {
        self.selected.first { self.liveByRecorded[$0] == nil }
    }

    /// For namespace/auth/events matching: the recorded session this first packet points to, or
    /// nil when the packet does not decide it yet.
    private func pairingChoice(for packet: SocketIOPacket) -> Int? {
        let unserved = self.selected.filter { self.liveByRecorded[$0] == nil }
        guard !unserved.isEmpty else { return nil }
        let sessions = self.plan.script.sessions
        func firstClient(_ index: Int, _ condition: (ScriptPacket) -> Bool) -> ScriptPacket? {
            sessions[index].packets.first { recorded in recorded.direction == .clientToServer && condition(recorded) }
        }
        func firstConnect(_ index: Int) -> ScriptPacket? { firstClient(index) { $0.type == .connect } }
        switch self.configuration.matching {
        case .order:
            return unserved.first
        case .namespace, .auth:
            guard packet.type == .connect else { return nil }
            let sameNamespace = unserved.filter { firstConnect($0)?.namespace == packet.namespace }
            if self.configuration.matching == .auth,
                let exact = sameNamespace.first(where: { index in
                    guard let recorded = firstConnect(index) else { return false }
                    return ConnectAuth.compatible(recorded: recorded.packet.json, redacted: recorded.redacted, live: packet.json)
                })
            {
                return exact
            }
            return sameNamespace.first ?? unserved.first
        case .events:
            guard packet.type == .event || packet.type == .binaryEvent else { return nil }
            return unserved.first { index in firstClient(index) { $0.isEvent }?.eventName == packet.eventName }
                ?? unserved.first
        }
    }

    private mutating func bind(_ id: LiveID, to recorded: Int?, now: Int64) -> [Action] {
        guard let recorded else {
            self.live[id]?.recorded = nil
            self.summary.liveSessionsUnpaired += 1
            return [.report("client session \(self.live[id]?.name ?? "?"): no recorded session left to serve it")]
        }
        self.live[id]?.recorded = recorded
        self.live[id]?.unmatched = RecordedClientPackets(self.plan.script.sessions[recorded])
        self.liveByRecorded[recorded] = id
        self.summary.sessionsServed += 1
        self.fire(.sessionOpened(session: recorded), now: now)
        return []
    }

    /// A client message that is not a valid Socket.IO packet (`layer`: or not even Engine.IO):
    /// unmatched by definition.
    mutating func undecodableClientPacket(_ id: LiveID, reason: String, layer: String = "Socket.IO") -> [Action] {
        self.summary.clientPacketsUnmatched += 1
        self.summary.clientPacketsMalformed += 1
        let name = self.live[id]?.name ?? "?"
        var actions: [Action] = [.report("unmatched client packet in session \(name): not \(layer) (\(reason))")]
        if self.configuration.onUnmatched == .close { actions.append(.closeUnmatched(id)) }
        return actions
    }

    // MARK: - Matching packets

    private mutating func unmatched(_ id: LiveID, _ packet: SocketIOPacket, reason: String) -> [Action] {
        self.summary.clientPacketsUnmatched += 1
        let name = self.live[id]?.name ?? "?"
        var text = "\(packet.namespace) \(packet.type.name)"
        if let event = packet.eventName { text += " \(event)" }
        if let ack = packet.ackID { text += " #\(ack)" }
        if let json = packet.json { text += " " + String(buffer: json).prefix(120) }
        var actions: [Action] = [.report("unmatched client packet in session \(name): \(text) (\(reason))")]
        if packet.type == .connect, let version = self.live[id]?.version {
            // As a real server refuses a namespace it does not serve, so that the client does not hang.
            var refusal = Self.invalidNamespace(packet.namespace, version: version)
            refusal.parser = packet.parser  // in the client's parser
            actions.append(.send(id, refusal))
        }
        if self.configuration.onUnmatched == .close { actions.append(.closeUnmatched(id)) }
        return actions
    }

    /// The reference server's refusal of a namespace: `44/ns,{"message":"Invalid namespace"}`
    /// (Socket.IO v4: `4/ns,"Invalid namespace"`).
    private static func invalidNamespace(_ namespace: String, version: EngineIOVersion) -> SocketIOPacket {
        let json = version == .v4 ? #"{"message":"Invalid namespace"}"# : #""Invalid namespace""#
        return SocketIOPacket(type: .connectError, namespace: namespace, json: ByteBuffer(string: json))
    }

    // MARK: - Scheduling

    private mutating func fire(_ trigger: ServeTrigger, now: Int64, skippingConnectReplyFor skipped: LiveID? = nil) {
        for stepIndex in self.plan.stepsByTrigger[trigger] ?? [] {
            let step = self.plan.steps[stepIndex]
            guard let target = self.liveByRecorded[step.session], self.live[target]?.closed == false else {
                self.summary.serverActionsUndelivered += 1
                continue
            }
            if target == skipped, case .packet(let index) = step.kind,
                self.plan.script.sessions[step.session].packets[index].type == .connect
            {
                continue
            }
            self.queue.append(Scheduled(due: now + self.configuration.scaled(step.delay), step: stepIndex, live: target))
        }
    }

    /// A recorded server packet as the live client must see it.
    private func outgoing(_ recorded: SocketIOPacket, to session: Live) -> SocketIOPacket {
        var packet = recorded
        switch packet.type {
        case .ack, .binaryAck:
            if let id = packet.ackID, let liveID = session.ackIDs[AckKey(namespace: packet.namespace, id: id)] {
                packet.ackID = liveID
                packet.rawHeader = nil
            }
        case .connect:
            packet = self.connectReply(namespace: packet.namespace, recorded: packet.json, version: session.version)
            packet.parser = recorded.parser
        default:
            break
        }
        return packet
    }

    /// A CONNECT reply with a fresh socket id (v5), or none (v4, where the reply has no payload).
    private func connectReply(namespace: String, recorded: ByteBuffer?, version: EngineIOVersion) -> SocketIOPacket {
        guard version == .v4 else { return SocketIOPacket(type: .connect, namespace: namespace) }
        let fresh = self.makeSocketID()
        if let recorded, let replaced = ConnectAuth.replacingSid(in: recorded, with: fresh) {
            return SocketIOPacket(type: .connect, namespace: namespace, json: replaced)
        }
        return SocketIOPacket(type: .connect, namespace: namespace, json: ByteBuffer(string: "{\"sid\":\"\(fresh)\"}"))
    }

    private static func samePath(_ recorded: String, _ path: String) -> Bool {
        (recorded.split(separator: "?", maxSplits: 1).first.map(String.init) ?? recorded) == path
    }
}
