import SIOWire

/// Which recorded session each live client session of `replay serve` stands for, as a plain value.
///
/// A live session holds a set of *candidates*: the recorded sessions still consistent with what its
/// client has sent so far, each with its own record of which recorded client packets the live ones
/// matched. Clients that look the same through the handshake (two chat clients created together)
/// share candidates until their packets diverge; `narrow` drops the candidates a packet ruled out.
///
/// At any moment every live session has at most one *assigned* recorded session, and no two share
/// one: a maximum matching of live sessions to candidates, found live session by live session in
/// the order they opened, each taking its first free candidate in recorded order, or, with none
/// free, one an earlier session can give up for another of its own (an augmenting path). The
/// assignment is what a decision falls back on (recorded order, as `--match order`), and where a
/// broadcast to a recorded session goes.
///
/// A recorded session is *decided* for a live session once it is its only candidate: it is then
/// removed from every other live session's candidates, which may decide those in turn.
struct SessionPairing {
    typealias LiveID = ReplayConductor.LiveID

    struct Candidate {
        var recorded: Int
        /// The recorded client packets of this candidate no live packet has matched yet.
        var unmatched: RecordedClientPackets
    }

    /// Live sessions with candidates, in the order they opened.
    private var order: [LiveID] = []
    private var candidates: [LiveID: [Candidate]] = [:]
    private(set) var assignment: [LiveID: Int] = [:]
    private var assignedLive: [Int: LiveID] = [:]
    /// Recorded session → the live session it was decided for (kept after that session ended).
    private(set) var decided: [Int: LiveID] = [:]

    /// The candidates of a live session, in recorded order (empty: none left, or never paired).
    func candidates(of id: LiveID) -> [Candidate] { self.candidates[id] ?? [] }

    /// The recorded sessions a live session may still be, in recorded order.
    func recorded(of id: LiveID) -> [Int] { self.candidates(of: id).map(\.recorded) }

    /// The live session a recorded session is assigned to (decided or tentatively).
    func live(for recorded: Int) -> LiveID? { self.decided[recorded] ?? self.assignedLive[recorded] }

    /// Whether the recorded session is decided or tentatively assigned to some live session.
    func isTaken(_ recorded: Int) -> Bool { self.live(for: recorded) != nil }

    /// Open live sessions whose candidates have all gone to others, in the order they opened.
    var withoutCandidates: [LiveID] { self.order.filter { self.candidates[$0]?.isEmpty ?? true } }

    /// A live session opens with these candidates. Returns the recorded sessions decided by it.
    mutating func open(_ id: LiveID, candidates: [Candidate]) -> [Int] {
        self.order.append(id)
        self.candidates[id] = candidates.filter { self.decided[$0.recorded] == nil }
        return self.settle()
    }

    /// Matches a live client packet in every candidate of its session: the recorded packet it
    /// stands for in each candidate that has one (now matched there), and whether its payload is
    /// byte for byte the same. A candidate without one is left as it was; the caller narrows.
    ///
    /// The candidates' matching state is changed in place (taken out of the dictionary first), so
    /// that a long session does not copy its pending packets for every live packet.
    /// `asRecorded`: the live packet as each candidate would have recorded it (ids mapped back),
    /// where it differs from `packet`.
    mutating func match(
        _ id: LiveID, _ packet: SocketIOPacket, as asRecorded: [Int: SocketIOPacket], in sessions: [ScriptSession]
    ) -> [(recorded: Int, packet: ScriptPacket, exact: Bool)] {
        guard var list = self.candidates.removeValue(forKey: id) else { return [] }
        var matches: [(recorded: Int, packet: ScriptPacket, exact: Bool)] = []
        for position in list.indices {
            let recorded = list[position].recorded
            let live = asRecorded[recorded] ?? packet
            guard let match = list[position].unmatched.take(matching: live, in: sessions[recorded]) else { continue }
            matches.append((recorded, match.packet, match.exact))
        }
        self.candidates[id] = list
        return matches
    }

    /// Keeps only these candidates. Returns the recorded sessions decided by it.
    mutating func narrow(_ id: LiveID, to kept: Set<Int>) -> [Int] {
        guard var list = self.candidates.removeValue(forKey: id) else { return [] }
        list.removeAll { !kept.contains($0.recorded) }
        self.candidates[id] = list
        return self.settle()
    }

    /// Takes the unmatched DISCONNECTs of a live session's only candidate.
    mutating func takeDisconnects(_ id: LiveID, in sessions: [ScriptSession]) -> [ScriptPacket] {
        guard var list = self.candidates.removeValue(forKey: id) else { return [] }
        defer { self.candidates[id] = list }
        guard list.count == 1 else { return [] }
        return list[0].unmatched.takeDisconnects(in: sessions[list[0].recorded])
    }

    /// Decides a live session for its assigned recorded session (when the recording cannot tell its
    /// candidates apart any longer but the server must answer, or when it ends). Returns the
    /// recorded sessions decided by it; empty when it had no assignment.
    mutating func decide(_ id: LiveID) -> [Int] {
        guard let assigned = self.assignment[id], self.candidates[id] != nil else { return [] }
        return self.narrow(id, to: [assigned])
    }

    /// A live session ended: it no longer takes part in the matching (its decided recorded session,
    /// if any, stays served).
    mutating func close(_ id: LiveID) {
        self.candidates[id] = nil
        self.order.removeAll { $0 == id }
        self.rematch()
    }

    // MARK: - Private

    /// Propagates decisions (a decided recorded session is nobody else's candidate) and matches again.
    private mutating func settle() -> [Int] {
        var newlyDecided: [Int] = []
        var changed = true
        while changed {
            changed = false
            for id in self.order {
                guard let list = self.candidates[id], list.count == 1, self.decided[list[0].recorded] == nil else {
                    continue
                }
                self.decided[list[0].recorded] = id
                newlyDecided.append(list[0].recorded)
                let recorded = list[0].recorded
                for other in self.order where other != id {
                    guard self.candidates[other]?.contains(where: { $0.recorded == recorded }) == true else { continue }
                    self.candidates[other]?.removeAll { $0.recorded == recorded }
                    changed = true
                }
            }
        }
        self.rematch()
        return newlyDecided
    }

    /// A maximum matching, live sessions in the order they opened (decided ones first: their
    /// recorded session is theirs), candidates in recorded order.
    private mutating func rematch() {
        var owner: [Int: LiveID] = [:]
        var assigned: [LiveID: Int] = [:]
        let candidates = self.candidates.mapValues { $0.map(\.recorded) }
        func augment(_ id: LiveID, _ visited: inout Set<Int>) -> Bool {
            // A free candidate first: a session takes another's only when it has no other choice,
            // so that sessions keep recorded order among themselves as far as they can.
            if let free = (candidates[id] ?? []).first(where: { owner[$0] == nil && !visited.contains($0) }) {
                visited.insert(free)
                owner[free] = id
                assigned[id] = free
                return true
            }
            for recorded in candidates[id] ?? [] {
                guard visited.insert(recorded).inserted else { continue }
                if let other = owner[recorded], !augment(other, &visited) { continue }
                owner[recorded] = id
                assigned[id] = recorded
                return true
            }
            return false
        }
        let ordered =
            self.order.filter { (candidates[$0]?.count ?? 0) == 1 }
            + self.order.filter { (candidates[$0]?.count ?? 0) > 1 }
        for id in ordered {
            var visited = Set<Int>()
            _ = augment(id, &visited)
        }
        self.assignment = assigned
        self.assignedLive = owner
    }
}
