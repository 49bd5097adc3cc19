import NIOCore
import SIORecording
import Synchronization

/// Where the proxy hands the browser view its lines: a bounded buffer of record lines behind a
/// short lock. The capture copies in the very bytes it wrote into the recording
/// (`RecordLineFollower`: redacted and masked as the file is, encoded once for both); the view's
/// server drains them on its own thread into a `ViewStore`, as `siotape view` reads a file. When
/// the view falls behind and the buffer is full, lines are dropped and counted, as the terminal
/// live view drops lines: the proxy never waits for a browser.
public final class LiveFeed: RecordLineFollower {
    private struct State {
        var lines = ByteBuffer()
        /// The buffer of the drain before the last, emptied: no allocation per drain.
        var spare: ByteBuffer?
        var dropped: Int64 = 0
    }

    private let state = Mutex(State())
    /// The most bytes of lines held between two drains.
    public let capacity: Int
    /// The recording's start, µs since the epoch: lines' `t` is relative to it.
    public let start: Int64

    /// - Parameter capacity: bytes of lines held between two drains (16 MiB: ~60,000 lines of a busy
    ///   WebSocket session, over a second of a saturated proxy at the view's 50 ms drains).
    public init(start: Int64, capacity: Int = 16 << 20) {
        self.start = start
        self.capacity = capacity
    }

    /// Lines dropped so far because the buffer was full.
    public var dropped: Int64 { self.state.withLock { $0.dropped } }

    /// Called by the capture, on the proxy's threads, with the lines it just wrote to the recording.
    public func follow(lines: UnsafeRawBufferPointer, count: Int) {
        self.state.withLock { state in
            // An empty buffer takes any read's lines, so that one huge packet (a large attachment)
            // still reaches the page; the memory held stays bounded by the capacity plus one read.
            if state.lines.readableBytes + lines.count <= self.capacity || state.lines.readableBytes == 0 {
                state.lines.writeBytes(lines)
            } else {
                state.dropped += Int64(count)
            }
        }
    }

    /// Encodes a record and takes its line: for a sink that has `Record`s, not lines.
    public func append(_ record: Record) {
        var line = ByteBuffer()
        RecordEncoder().encode(record, into: &line)
        line.withUnsafeReadableBytes { self.follow(lines: $0, count: 1) }
    }

    /// `append` for several records, encoded into one buffer.
    public func append(contentsOf records: [Record]) {
        guard !records.isEmpty else { return }
        var lines = ByteBuffer()
        let encoder = RecordEncoder()
        for record in records { encoder.encode(record, into: &lines) }
        lines.withUnsafeReadableBytes { self.follow(lines: $0, count: records.count) }
    }

    /// Takes the lines appended since the last call (complete lines, each ending in `\n`), and the
    /// total dropped so far. Hand the buffer back with `recycle` once read.
    func drain() -> (lines: ByteBuffer, dropped: Int64) {
        self.state.withLock { state in
            var fresh = state.spare ?? ByteBuffer()
            state.spare = nil
            swap(&fresh, &state.lines)
            return (fresh, state.dropped)
        }
    }

    /// Gives back a drained buffer, to be written into again.
    func recycle(_ lines: consuming ByteBuffer) {
        // Passed with `consume`, the buffer is held only here: clearing it keeps its storage.
        lines.clear()
        self.state.withLock { state in
            if state.spare == nil, lines.capacity <= self.capacity { state.spare = lines }
        }
    }
}
