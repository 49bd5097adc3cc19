import SIORecording
import Synchronization

/// Where the proxy hands records to the browser view: a bounded buffer behind a short lock. The
/// proxy's threads only append (no encoding, no I/O, no waiting); the view's server drains it on
/// its own thread. When the view falls behind and the buffer is full, records are dropped and
/// counted, as the terminal live view drops lines: the proxy never waits for a browser.
public final class LiveFeed: Sendable {
    private struct State {
        var records: [Record] = []
        var dropped: Int64 = 0
    }

    private let state = Mutex(State())
    /// The most records held between two drains.
    public let capacity: Int
    /// The recording's start, µs since the epoch: records' `time` is relative to it.
    public let start: Int64

    public init(start: Int64, capacity: Int = 65_536) {
        self.start = start
        self.capacity = capacity
    }

    /// Called by the proxy for every record, on its own threads.
    public func append(_ record: Record) {
        self.state.withLock { state in
            if state.records.count < self.capacity {
                state.records.append(record)
            } else {
                state.dropped += 1
            }
        }
    }

    public func append(contentsOf records: [Record]) {
        self.state.withLock { state in
            let room = max(0, self.capacity - state.records.count)
            state.records.append(contentsOf: records.prefix(room))
            state.dropped += Int64(records.count - min(room, records.count))
        }
    }

    /// Takes what was appended since the last call, and the total dropped so far.
    func drain() -> (records: [Record], dropped: Int64) {
        self.state.withLock { state in
            let records = state.records
            state.records = []
            state.records.reserveCapacity(min(self.capacity, max(64, records.count)))
            return (records, state.dropped)
        }
    }
}
