import SIOWire

/// Matches, for one recorded session, the server packets that arrive live to the recorded ones,
/// as they arrive, and at the end lists the differences.
///
/// A received packet is paired with the first unpaired recorded packet of the same kind (see
/// `PacketComparer.sameKind`) in its namespace, preferring one with an equal payload, so identical
/// packets whose order races still pair. Pairs that arrive against the recorded order are reported
/// as out of order (per namespace) unless `checkOrder` is off.
package struct SessionMatcher: Sendable {
    package let session: ScriptSession
    let comparer: PacketComparer
    let checkOrder: Bool
    /// The recorded server packets.
    let expected: [ScriptPacket]
    /// For each expected packet, the position in `received` of its pair.
    private(set) var pairedWith: [Int?]
    /// Everything received, in arrival order, with the index into `expected` it was paired with.
    private(set) var received: [(packet: SocketIOPacket, expected: Int?)] = []
    /// Recorded server ack id → live ack id, per namespace, for server events that asked for an ack.
    package private(set) var serverAckIDs: [String: [UInt64: UInt64]] = [:]
    /// Namespaces the client has left (sent DISCONNECT on).
    private var left: Set<String> = []
    /// Packets that arrived after the client left their namespace and match nothing recorded:
    /// in flight when the client left, not counted as extra.
    package private(set) var afterLeaving = 0

    /// Recorded server packets after this time (µs) are optional: the recording shows them sent
    /// after the client had closed the session, so whether they arrive is a race.
    let optionalAfter: Int64

    package init(session: ScriptSession, comparer: PacketComparer, checkOrder: Bool = true) {
        self.session = session
        self.comparer = comparer
        self.checkOrder = checkOrder
        self.optionalAfter = session.closedAt ?? Int64.max
        self.expected = session.serverPackets
        self.pairedWith = Array(repeating: nil, count: self.expected.count)
    }

    /// Records a packet from the live server; returns the recorded packet it was paired with.
    @discardableResult
    /// `ids` maps the recorded ids to the live ones known by now.
    package mutating func receive(_ packet: SocketIOPacket, ids: IDMapping = IDMapping()) -> ScriptPacket? {
        var candidate: Int?
        for (i, recorded) in self.expected.enumerated() where self.pairedWith[i] == nil {
            guard PacketComparer.sameKind(recorded.packet, packet, ids: ids) else { continue }
            if self.comparer.difference(recorded: recorded.packet, received: packet, ids: ids) == nil {
                candidate = i
                break
            }
            if candidate == nil { candidate = i }
        }
        guard candidate != nil || !self.left.contains(packet.namespace) else {
            self.afterLeaving += 1
            return nil
        }
        self.received.append((packet, candidate))
        guard let i = candidate else { return nil }
        self.pairedWith[i] = self.received.count - 1
        let recorded = self.expected[i]
        if let recordedID = recorded.ackID, let liveID = packet.ackID, recorded.isEvent {
            self.serverAckIDs[packet.namespace, default: [:]][recordedID] = liveID
        }
        return recorded
    }

    /// The client sent DISCONNECT on `namespace`: what the server still sends there and the
    /// recording does not have was in flight, not an extra packet.
    package mutating func clientLeft(namespace: String) {
        self.left.insert(namespace)
    }

    /// Whether the recorded packet with session index `packetIndex` has arrived.
    package func hasArrived(packetIndex: Int) -> Bool {
        guard let i = self.expected.firstIndex(where: { $0.index == packetIndex }) else { return true }
        return self.pairedWith[i] != nil
    }

    /// The live ack id to use for a recorded client ACK that answers server ack id `recordedID`.
    package func liveAckID(forRecorded recordedID: UInt64, namespace: String) -> UInt64 {
        self.serverAckIDs[namespace]?[recordedID] ?? recordedID
    }

    /// Every difference between what arrived and the recording, recorded ids mapped by `ids`.
    package func differences(ids: IDMapping = IDMapping()) -> [ReplayDifference] {
        var out: [(order: Int, difference: ReplayDifference)] = []
        func make(
            _ kind: ReplayDifference.Kind,
            _ recorded: ScriptPacket?,
            _ received: SocketIOPacket?,
            _ detail: String
        )
            -> ReplayDifference
        {
            ReplayDifference(
                kind: kind,
                sessionIndex: self.session.index,
                sid: self.session.sid,
                namespace: recorded?.namespace ?? received?.namespace,
                packetIndex: recorded?.index,
                recorded: recorded.map { PacketComparer.render($0.packet) },
                received: received.map { PacketComparer.render($0) },
                detail: detail
            )
        }
        for (i, recorded) in self.expected.enumerated() {
            guard let r = self.pairedWith[i] else {
                if recorded.time > self.optionalAfter { continue }
                out.append((recorded.index * 2, make(.missing, recorded, nil, "not received")))
                continue
            }
            if let detail = self.comparer.difference(
                recorded: recorded.packet,
                received: self.received[r].packet,
                ids: ids
            ) {
                out.append((recorded.index * 2, make(.changed, recorded, self.received[r].packet, detail)))
            }
        }
        if self.checkOrder {
            for i in self.outOfOrder() {
                let r = self.pairedWith[i]!
                out.append(
                    (
                        self.expected[i].index * 2,
                        make(
                            .outOfOrder,
                            self.expected[i],
                            self.received[r].packet,
                            "arrived as server packet \(self.arrivalPosition(r)) of its namespace"
                        )
                    )
                )
            }
        }
        for (r, entry) in self.received.enumerated() where entry.expected == nil {
            let after = self.received[..<r].last { $0.expected != nil }?.expected.map { self.expected[$0].index }
            let detail = after.map { "not in the recording (arrived after packet #\($0))" } ?? "not in the recording"
            out.append(((after ?? -1) * 2 + 1, make(.extra, nil, entry.packet, detail)))
        }
        return out.enumerated().sorted { ($0.element.order, $0.offset) < ($1.element.order, $1.offset) }
            .map(\.element.difference)
    }

    private func arrivalPosition(_ r: Int) -> Int {
        let ns = self.received[r].packet.namespace
        return self.received[..<r].filter { $0.packet.namespace == ns }.count + 1
    }

    /// Expected indexes whose pair arrived against the recorded order: those outside a longest
    /// increasing run of recorded positions, in arrival order, per namespace.
    func outOfOrder() -> [Int] {
        var result: [Int] = []
        for ns in Set(self.expected.map(\.namespace)) {
            let sequence = self.received.compactMap { entry -> Int? in
                guard let e = entry.expected, self.expected[e].namespace == ns else { return nil }
                return e
            }
            let keep = Set(Self.longestIncreasing(sequence))
            result += sequence.filter { !keep.contains($0) }
        }
        return result.sorted()
    }

    static func longestIncreasing(_ values: [Int]) -> [Int] {
        guard !values.isEmpty else { return [] }
        var length = Array(repeating: 1, count: values.count)
        var previous = Array(repeating: -1, count: values.count)
        for i in values.indices {
            for j in 0..<i where values[j] < values[i] && length[j] + 1 > length[i] {
                length[i] = length[j] + 1
                previous[i] = j
            }
        }
        var i = length.indices.max { length[$0] < length[$1] }!
        var out: [Int] = []
        while i >= 0 {
            out.append(values[i])
            i = previous[i]
        }
        return out.reversed()
    }
}

extension SessionMatcher {
    /// How many packets the live server sent.
    package var receivedCount: Int { self.received.count }
}
