import SIOWire

/// The events of a session that asked for an ack, by who sent them, namespace and ack id, with
/// the time each was seen: what pairs an ACK with its EVENT.
///
/// A short array while few are pending (the common case: a window of events in flight), searched
/// by comparing ids; a dictionary once more are. A dictionary alone hashed a key per event and per
/// ack (SipHash, about a third of the session's bookkeeping per packet).
struct PendingAcks: Sendable {
    struct Key: Hashable, Sendable {
        /// Who sent the event (and so expects the ack from the other side).
        var direction: Direction
        var namespace: String
        var id: UInt64

        /// The id first: it tells most keys apart without comparing the namespaces' text.
        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.id == rhs.id && lhs.direction == rhs.direction && lhs.namespace == rhs.namespace
        }

        /// The id and direction only: two pending acks rarely share an id across namespaces, and
        /// hashing the namespace's text too cost a string hash per event and per ack.
        func hash(into hasher: inout Hasher) {
            hasher.combine(self.id)
            hasher.combine(self.direction)
        }
    }

    /// Up to this many entries live in `recent`; beyond, all of them move to `table`.
    static let arrayLimit = 32
    /// The entries while `table` is empty, oldest first.
    private var recent: [(key: Key, time: Int64)] = []
    private var table: [Key: Int64] = [:]

    var count: Int { self.recent.count + self.table.count }

    /// Remembers the event `key` seen at `time` (replacing an entry of the same key); when `limit`
    /// entries are pending already, the oldest is forgotten first.
    mutating func insert(_ key: Key, time: Int64, limit: Int) {
        if self.count >= limit { self.removeOldest() }
        if self.table.isEmpty {
            if let index = self.recent.firstIndex(where: { $0.key == key }) {
                self.recent[index].time = time
                return
            }
            if self.recent.count < Self.arrayLimit {
                self.recent.append((key, time))
                return
            }
            for entry in self.recent { self.table[entry.key] = entry.time }
            self.recent.removeAll(keepingCapacity: true)
        }
        self.table[key] = time
    }

    /// Forgets `key`; returns the time its event was seen, `nil` when it was not pending.
    mutating func remove(_ key: Key) -> Int64? {
        guard self.table.isEmpty else { return self.table.removeValue(forKey: key) }
        guard let index = self.recent.firstIndex(where: { $0.key == key }) else { return nil }
        return self.recent.remove(at: index).time
    }

    /// Forgets the entry seen earliest.
    private mutating func removeOldest() {
        if self.table.isEmpty {
            guard let index = self.recent.indices.min(by: { self.recent[$0].time < self.recent[$1].time }) else { return }
            self.recent.remove(at: index)
        } else if let oldest = self.table.min(by: { $0.value < $1.value }) {
            self.table[oldest.key] = nil
        }
    }
}
