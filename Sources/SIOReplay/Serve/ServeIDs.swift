import NIOCore
import SIOWire

/// The server-issued ids of `replay serve`: each recorded session's (its Engine.IO sid, the socket id
/// of each CONNECT reply), each live session's (its fresh sid, a fresh socket id per CONNECT reply),
/// and the `IDMapping` between them that the server packets are rewritten with, so that a payload
/// carrying a recorded id (`{"from":"<socket id>"}`, `"room-<sid>"`) carries the live one.
///
/// A recorded session's ids map to the live session it is paired with (decided, or assigned while
/// undecided, `SessionPairing`); a recorded session nobody plays keeps its ids.
struct ServeIDs {
    typealias LiveID = ReplayConductor.LiveID

    /// Which id of a session: the Engine.IO sid, or the socket id of the `ordinal`-th CONNECT reply
    /// in a namespace.
    enum Key: Hashable {
        case engineIO
        case socket(namespace: String, ordinal: Int)
    }

    /// Per recorded session: its ids.
    private let recorded: [[Key: String]]
    /// Per recorded session: packet index → key of each server CONNECT reply.
    let connectKeys: [[Int: Key]]
    private var live: [LiveID: [Key: String]] = [:]
    private let makeSocketID: () -> String
    private var cache: IDMapping?

    init(script: ReplayScript, makeSocketID: @escaping () -> String) {
        self.makeSocketID = makeSocketID
        var recorded: [[Key: String]] = []
        var connectKeys: [[Int: Key]] = []
        for session in script.sessions {
            var ids: [Key: String] = [.engineIO: session.sid]
            var keys: [Int: Key] = [:]
            var counts: [String: Int] = [:]
            for packet in session.packets where packet.direction == .serverToClient && packet.type == .connect {
                let key = Key.socket(namespace: packet.namespace, ordinal: counts[packet.namespace, default: 0])
                counts[packet.namespace, default: 0] += 1
                keys[packet.index] = key
                if let text = packet.dataText, let sid = JSONValue(parsing: text)?["sid"]?.stringValue {
                    ids[key] = sid
                }
            }
            recorded.append(ids)
            connectKeys.append(keys)
        }
        self.recorded = recorded
        self.connectKeys = connectKeys
    }

    /// A live session opened with this Engine.IO sid.
    mutating func opened(_ id: LiveID, sid: String) {
        self.live[id] = [.engineIO: sid]
    }

    /// The socket id of a live session for a CONNECT reply, issued the first time it is needed (so a
    /// client keeps its id whichever recorded session the reply came from).
    mutating func socketID(of id: LiveID, _ key: Key) -> String {
        if let known = self.live[id]?[key] { return known }
        let fresh = self.makeSocketID()
        self.live[id, default: [:]][key] = fresh
        if key != .engineIO { self.cache = nil }
        return fresh
    }

    /// The pairing changed: the mapping is built again when next needed.
    mutating func pairingChanged() {
        self.cache = nil
    }

    /// Every paired recorded session's ids → its live session's.
    mutating func mapping(_ pairing: SessionPairing) -> IDMapping {
        if let cache = self.cache { return cache }
        var players = pairing.assignment.map { (recorded: $0.value, live: $0.key) }
        players += pairing.decided.filter { pairing.assignment[$0.value] == nil }.map {
            (recorded: $0.key, live: $0.value)
        }
        var pairs: [IDMapping.Pair] = []
        for player in players.sorted(by: { $0.recorded < $1.recorded }) {
            pairs += self.pairs(recorded: player.recorded, live: player.live)
        }
        let mapping = IDMapping(pairs)
        self.cache = mapping
        return mapping
    }

    /// The mapping for what `live` is sent as recorded session `recorded` (its assigned one, or a
    /// candidate it may turn out to be): that session's ids are the live session's.
    mutating func mapping(_ pairing: SessionPairing, as recorded: Int, live id: LiveID) -> IDMapping {
        var mapping = self.mapping(pairing)
        guard pairing.assignment[id] != recorded, pairing.decided[recorded] != id else { return mapping }
        for pair in self.pairs(recorded: recorded, live: id) { mapping.add(recorded: pair.recorded, live: pair.live) }
        return mapping
    }

    /// A recorded session's ids with a live session's (socket ids issued as needed).
    private mutating func pairs(recorded index: Int, live id: LiveID) -> [IDMapping.Pair] {
        self.recorded[index].sorted { "\($0.key)" < "\($1.key)" }.map { key, value in
            IDMapping.Pair(
                recorded: value,
                live: key == .engineIO ? self.live[id]?[.engineIO] ?? value : self.socketID(of: id, key))
        }
    }
}
