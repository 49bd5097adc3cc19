import NIOCore
import SIOWire

/// The brain of `replay serve`, as a plain state machine over a `ServePlan`: pairs live client
/// sessions with recorded ones, pairs live client packets with recorded ones, and schedules the
/// recorded server actions each of them triggered (in any session: a room replays together).
///
/// Pairing (`--match auto`, the default) keeps each live session open to every recorded session
/// consistent with what its client has sent so far (`SessionPairing`): what the server did in all
/// of them alike goes out; where they differ, or a packet fits only some, the pairing narrows.
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
        var closed = false
        /// Whether the session was ever paired (had candidates, or was bound, or found none left).
        var paired = false
        /// No recorded session is left for it (reported once).
        var unpaired = false
        /// Packets that arrived before the session could be paired (namespace/auth/events matching).
        var waiting: [SocketIOPacket] = []
        /// Namespaces whose CONNECT was answered before pairing (events matching).
        var answeredConnects = Set<String>()
    }

    private struct Scheduled {
        var due: Int64
        var step: Int
        var live: LiveID
        /// For an ACK answering a live EVENT: the live client's ack id.
        var ackID: UInt64?
    }

    /// At most this many recorded sessions are a new live session's candidates (the first ones not
    /// decided, in recorded order): matching a packet costs a lookup per candidate.
    static let maxCandidates = 16

    let plan: ServePlan
    let configuration: ServeConfiguration
    private let makeSocketID: () -> String
    /// Recorded sessions to serve, in recorded order.
    private let selected: [Int]
    private var pairing = SessionPairing()
    private var ids: ServeIDs
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
        self.ids = ServeIDs(script: plan.script, makeSocketID: makeSocketID)
    }

    /// When `due(now:)` has something to send.
    var nextDue: Int64? { self.queue.map(\.due).min() }

    /// Every recorded session has been served and every live session has ended.
    var isFinished: Bool {
        self.pairing.decided.count == self.selected.count && self.live.values.allSatisfy(\.closed)
    }

    /// The recorded session decided for a live one, if any.
    func recordedSession(of id: LiveID) -> ScriptSession? {
        self.pairing.decided.first { $0.value == id }.map { self.plan.script.sessions[$0.key] }
    }

    /// The recorded sessions a live one may still be, in recorded order.
    func candidates(of id: LiveID) -> [ScriptSession] {
        self.pairing.recorded(of: id).map { self.plan.script.sessions[$0] }
    }

    // MARK: - Events

    mutating func sessionOpened(_ id: LiveID, name: String, version: EngineIOVersion, now: Int64) -> [Action] {
        self.live[id] = Live(name: name, version: version)
        self.ids.opened(id, sid: name)
        self.summary.liveSessions += 1
        switch self.configuration.matching {
        case .auto:
            let open = self.selected.filter { self.pairing.decided[$0] == nil }
            let sameVersion = open.filter { self.plan.script.sessions[$0].engineIOVersion == version }
            let candidates = (sameVersion.isEmpty ? open : sameVersion).prefix(Self.maxCandidates).map { recorded in
                SessionPairing.Candidate(
                    recorded: recorded, unmatched: RecordedClientPackets(self.plan.script.sessions[recorded]))
            }
            guard !candidates.isEmpty else { return self.bind(id, to: nil, now: now) }
            self.live[id]?.paired = true
            var actions = self.paired(self.pairing.open(id, candidates: Array(candidates)))
            actions += self.happened(
                id,
                as: Dictionary(
                    uniqueKeysWithValues: candidates.map { ($0.recorded, .sessionOpened(session: $0.recorded)) }),
                liveAckID: nil, now: now)
            return actions
        case .order:
            return self.bind(id, to: self.nextUnserved(), now: now)
        case .namespace, .auth, .events:
            // Socket.IO v4 servers greet `/` by themselves: pair at once.
            guard version == .v3 else { return [] }
            return self.bind(id, to: self.nextUnserved(), now: now)
        }
    }

    /// A live session ended. Its recorded DISCONNECTs not seen live count as sent (clients that close
    /// the transport without `41` left the room all the same), so what they caused still happens.
    mutating func sessionEnded(_ id: LiveID, now: Int64) {
        guard self.live[id]?.closed == false else { return }
        self.live[id]?.closed = true
        self.queue.removeAll { $0.live == id }
        // A session that ends undecided is the one recorded order gave it.
        _ = self.paired(self.pairing.decide(id))
        let recorded = self.pairing.recorded(of: id)
        let leftDisconnects = self.pairing.takeDisconnects(id, in: self.plan.script.sessions)
        // Only the summary's view of an ended session is kept: a server kept running for many
        // clients must not hold every one's matching state.
        self.pairing.close(id)
        self.ids.pairingChanged()
        for packet in leftDisconnects { self.fire(.clientPacket(session: recorded[0], packet: packet.index), now: now) }
    }

    /// A complete Socket.IO packet (attachments joined) from a live client.
    mutating func clientPacket(_ id: LiveID, _ packet: SocketIOPacket, now: Int64) -> [Action] {
        guard let session = self.live[id], !session.closed else { return [] }
        let candidates = self.pairing.recorded(of: id)
        guard !candidates.isEmpty else {
            guard session.paired || self.configuration.matching == .auto || session.version == .v3 else {
                return self.clientPacketBeforePairing(id, packet, now: now)
            }
            return self.unmatched(id, packet, reason: "no recorded session left to pair this client with")
        }
        // The live packet against each candidate: which recorded packet it stands for, and whether
        // its payload is byte for byte the recorded one.
        var matches = self.pairing.match(
            id, packet, as: self.asRecorded(packet, from: id, candidates: candidates), in: self.plan.script.sessions)
        guard !matches.isEmpty else {
            // Leaving is always allowed: whether a closing client's last DISCONNECT reached the
            // recorded server is a race, not a difference.
            guard packet.type == .disconnect else {
                let sids = candidates.map { self.plan.script.sessions[$0].sid }.joined(separator: ", ")
                let reason =
                    candidates.count == 1
                    ? "no such packet left in recorded session \(sids)"
                    : "no such packet left in recorded sessions \(sids)"
                return self.unmatched(id, packet, reason: reason)
            }
            return []
        }
        if matches.contains(where: \.exact) { matches.removeAll { !$0.exact } }
        var actions: [Action] = []
        if matches.count < candidates.count {
            actions += self.paired(self.pairing.narrow(id, to: Set(matches.map(\.recorded))))
        }
        self.summary.clientPacketsMatched += 1
        let answeredBeforePairing =
            packet.type == .connect && self.live[id]?.answeredConnects.contains(packet.namespace) == true
        // A CONNECT answered before pairing: the other actions it triggered still happen.
        actions += self.happened(
            id,
            as: Dictionary(
                uniqueKeysWithValues: matches.map {
                    ($0.recorded, .clientPacket(session: $0.recorded, packet: $0.packet.index))
                }),
            liveAckID: packet.ackID, now: now, skippingConnectReply: answeredBeforePairing)
        return actions
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
        let key = ServeIDs.Key.socket(namespace: packet.namespace, ordinal: 0)
        return [.send(id, self.connectReply(packet, key: key, to: id, version: version))]
    }

    /// A plain HTTP request: the recorded answer for it (nil: not recorded), and the recorded
    /// server actions it triggered are scheduled. Recorded requests are used once each, in recorded
    /// order; among those with the same method, path and query, the one whose recorded body is the
    /// live request's body is chosen (several requests that differ only by their body).
    /// An `--http` body for the request replaces the recorded one.
    mutating func httpRequest(
        method: String, path: String, body: ByteBuffer = ByteBuffer(), now: Int64
    ) -> HTTPAnswer? {
        let pathOnly = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        let candidates = self.plan.http.indices.filter {
            !self.httpUsed.contains($0) && self.plan.http[$0].method == method
        }
        let exact = candidates.filter { self.plan.http[$0].path == path }
        guard
            let index = exact.first(where: { (self.plan.http[$0].requestBody ?? ByteBuffer()) == body })
                ?? exact.first
                ?? candidates.first(where: {
                    self.plan.http[$0].path.hasPrefix(pathOnly) && Self.samePath(self.plan.http[$0].path, pathOnly)
                })
        else {
            self.summary.httpUnknown += 1
            return nil
        }
        self.httpUsed.insert(index)
        self.summary.httpAnswered += 1
        self.fire(.httpRequest(index: index), now: now)
        let recorded = self.plan.http[index]
        let key = "\(method) \(pathOnly)"
        let overrides = self.configuration.httpBodies[key] ?? self.configuration.httpBodies["\(method) \(path)"] ?? []
        let status = recorded.status ?? 502
        if !overrides.isEmpty {
            let use = self.httpBodyUses[key, default: 0]
            self.httpBodyUses[key] = use + 1
            return HTTPAnswer(status: status, body: ByteBuffer(string: overrides[min(use, overrides.count - 1)]))
        }
        return HTTPAnswer(
            status: status, body: recorded.responseBody ?? ByteBuffer(),
            headers: recorded.responseHeaders.map(HTTPAnswer.replayable))
    }

    /// The server actions whose time has come, in recorded order.
    mutating func due(now: Int64) -> [Action] {
        let ready = self.queue.filter { $0.due <= now }.sorted { ($0.due, $0.step) < ($1.due, $1.step) }
        guard !ready.isEmpty else { return [] }
        self.queue.removeAll { $0.due <= now }
        var actions: [Action] = []
        for item in ready {
            guard self.live[item.live]?.closed == false else { continue }
            let step = self.plan.steps[item.step]
            switch step.kind {
            case .packet:
                actions.append(.send(item.live, self.outgoing(step, to: item.live, ackID: item.ackID)))
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
        self.selected.first { !self.pairing.isTaken($0) }
    }

    /// For namespace/auth/events matching: the recorded session this first packet points to, or
    /// nil when the packet does not decide it yet.
    private func pairingChoice(for packet: SocketIOPacket) -> Int? {
        let unserved = self.selected.filter { !self.pairing.isTaken($0) }
        guard !unserved.isEmpty else { return nil }
        let sessions = self.plan.script.sessions
        func firstClient(_ index: Int, _ condition: (ScriptPacket) -> Bool) -> ScriptPacket? {
            sessions[index].packets.first { recorded in recorded.direction == .clientToServer && condition(recorded) }
        }
        func firstConnect(_ index: Int) -> ScriptPacket? { firstClient(index) { $0.type == .connect } }
        switch self.configuration.matching {
        case .order, .auto:
            return unserved.first
        case .namespace, .auth:
            guard packet.type == .connect else { return nil }
            let sameNamespace = unserved.filter { firstConnect($0)?.namespace == packet.namespace }
            if self.configuration.matching == .auth,
                let exact = sameNamespace.first(where: { index in
                    guard let recorded = firstConnect(index) else { return false }
                    return ConnectAuth.compatible(
                        recorded: recorded.packet.json, redacted: recorded.redacted, live: packet.json)
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

    /// Pairs a live session with one recorded session at once (the explicit `--match` modes).
    private mutating func bind(_ id: LiveID, to recorded: Int?, now: Int64) -> [Action] {
        guard let recorded else {
            self.summary.liveSessionsUnpaired += 1
            self.live[id]?.paired = true
            self.live[id]?.unpaired = true
            return [.report("client session \(self.live[id]?.name ?? "?"): no recorded session left to serve it")]
        }
        self.live[id]?.paired = true
        let candidate = SessionPairing.Candidate(
            recorded: recorded, unmatched: RecordedClientPackets(self.plan.script.sessions[recorded]))
        let actions = self.paired(self.pairing.open(id, candidates: [candidate]))
        self.fire(.sessionOpened(session: recorded), now: now)
        return actions
    }

    /// Counts the recorded sessions just decided, and reports live sessions left without any.
    private mutating func paired(_ decided: [Int]) -> [Action] {
        self.ids.pairingChanged()
        self.summary.sessionsServed += decided.count
        var actions: [Action] = []
        for id in self.pairing.withoutCandidates {
            guard let session = self.live[id], !session.unpaired, !session.closed else { continue }
            // Its last candidates went to sessions whose packets fitted them better.
            self.live[id]?.unpaired = true
            self.summary.liveSessionsUnpaired += 1
            actions.append(.report("client session \(session.name): no recorded session left to serve it"))
        }
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

    /// The reference server's refusal of a namespace: `44/ns,{"message":"Invalid namespace"}`
    /// (Socket.IO v4: `4/ns,"Invalid namespace"`).
    private static func invalidNamespace(_ namespace: String, version: EngineIOVersion) -> SocketIOPacket {
        let json = version == .v4 ? #"{"message":"Invalid namespace"}"# : #""Invalid namespace""#
        return SocketIOPacket(type: .connectError, namespace: namespace, json: ByteBuffer(string: json))
    }

    // MARK: - Scheduling

    /// Something live session `id` did, as each of its candidates recorded it (`triggers`: recorded
    /// session → its trigger). While the candidates agree on what the server did in the session
    /// itself, that goes out and the pairing stays open; where they differ, the session is decided
    /// for the recorded session it is assigned (recorded order) and that one's actions go out.
    private mutating func happened(
        _ id: LiveID, as triggers: [Int: ServeTrigger], liveAckID: UInt64?, now: Int64,
        skippingConnectReply: Bool = false
    ) -> [Action] {
        var actions: [Action] = []
        let candidates = self.pairing.recorded(of: id)
        if candidates.count > 1 {
            let signatures = candidates.map { recorded in
                self.ownSteps(of: triggers[recorded], in: recorded).map { self.signature(of: $0, to: id) }
            }
            if signatures.contains(where: { $0 != signatures[0] }) {
                actions += self.paired(self.pairing.decide(id))
            }
        }
        guard let assigned = self.pairing.assignment[id], let trigger = triggers[assigned] else { return actions }
        self.fire(trigger, now: now, from: id, liveAckID: liveAckID, skippingConnectReply: skippingConnectReply)
        return actions
    }

    /// The steps a trigger caused in its own recorded session.
    private func ownSteps(of trigger: ServeTrigger?, in recorded: Int) -> [ServeStep] {
        guard let trigger else { return [] }
        return (self.plan.stepsByTrigger[trigger] ?? []).map { self.plan.steps[$0] }.filter { $0.session == recorded }
    }

    /// What the live client would see of a step: its kind, and a packet as it would be sent (ids
    /// mapped as if the live session were the step's recorded session), without its ack id (the
    /// live client's, whichever recorded session it is).
    private mutating func signature(of step: ServeStep, to id: LiveID) -> String {
        switch step.kind {
        case .closePacket: return "close"
        case .dropTransport: return "drop"
        case .packet:
            var packet = self.outgoing(step, to: id, ackID: nil)
            packet.ackID = packet.ackID.map { _ in 0 }
            packet.rawHeader = nil
            var text = "\(packet.type.rawValue)\(packet.namespace),\(packet.ackID.map(String.init) ?? "")"
            if let json = packet.json { text += String(buffer: json) }
            for attachment in packet.attachments { text += "|" + String(buffer: attachment) }
            return text
        }
    }

    /// Schedules what a trigger caused. `from`: the live session that did it, whose own recorded
    /// steps go to it (and an ACK with `liveAckID`).
    private mutating func fire(
        _ trigger: ServeTrigger, now: Int64, from source: LiveID? = nil, liveAckID: UInt64? = nil,
        skippingConnectReply: Bool = false
    ) {
        for stepIndex in self.plan.stepsByTrigger[trigger] ?? [] {
            let step = self.plan.steps[stepIndex]
            let own = source != nil && self.pairing.assignment[source!] == step.session
            guard let target = own ? source : self.pairing.live(for: step.session), self.live[target]?.closed == false
            else {
                self.summary.serverActionsUndelivered += 1
                continue
            }
            var ackID: UInt64?
            if case .packet(let index) = step.kind {
                let packet = self.plan.script.sessions[step.session].packets[index]
                if own, skippingConnectReply, packet.type == .connect { continue }
                if own, packet.isAck { ackID = liveAckID }
            }
            self.queue.append(
                Scheduled(due: now + self.configuration.scaled(step.delay), step: stepIndex, live: target, ackID: ackID)
            )
        }
    }

    /// A recorded server packet as the live client must see it: the live ack id, the recorded ids
    /// (sids, socket ids, in the CONNECT reply and in payloads) mapped to the live ones.
    private mutating func outgoing(_ step: ServeStep, to id: LiveID, ackID: UInt64?) -> SocketIOPacket {
        guard case .packet(let index) = step.kind, let version = self.live[id]?.version else {
            return SocketIOPacket(type: .disconnect)
        }
        var packet = self.plan.script.sessions[step.session].packets[index].packet
        if let ackID, packet.type == .ack || packet.type == .binaryAck {
            packet.ackID = ackID
            packet.rawHeader = nil
        }
        if packet.type == .connect {
            let key = self.ids.connectKeys[step.session][index] ?? .socket(namespace: packet.namespace, ordinal: 0)
            guard version == .v4, packet.json != nil else {
                return self.connectReply(packet, key: key, to: id, version: version)
            }
        }
        guard self.configuration.mapIDs, packet.json != nil else { return packet }
        return self.ids.mapping(self.pairing, as: step.session, live: id).rewriting(packet, .toLive)
    }

    /// A CONNECT reply the recording has no payload for: the socket id of this client (issued now if
    /// it is the first), or none for Socket.IO v4, where the reply has no payload.
    private mutating func connectReply(
        _ packet: SocketIOPacket, key: ServeIDs.Key, to id: LiveID, version: EngineIOVersion
    ) -> SocketIOPacket {
        var reply = SocketIOPacket(type: .connect, namespace: packet.namespace)
        reply.parser = packet.parser  // the recorded server's (or, before pairing, the client's) parser
        guard version == .v4 else { return reply }
        reply.json = ByteBuffer(string: "{\"sid\":\"\(self.ids.socketID(of: id, key))\"}")
        return reply
    }

    /// A live client packet as each candidate would have recorded it (live ids mapped back), for
    /// the byte-for-byte comparison of payloads.
    private mutating func asRecorded(
        _ packet: SocketIOPacket, from id: LiveID, candidates: [Int]
    ) -> [Int: SocketIOPacket] {
        guard self.configuration.mapIDs, packet.json != nil else { return [:] }
        var packets: [Int: SocketIOPacket] = [:]
        for recorded in candidates {
            packets[recorded] = self.ids.mapping(self.pairing, as: recorded, live: id).rewriting(packet, .toRecorded)
        }
        return packets
    }

    private static func samePath(_ recorded: String, _ path: String) -> Bool {
        (recorded.split(separator: "?", maxSplits: 1).first.map(String.init) ?? recorded) == path
    }
}
