import Logging
import NIOCore
import SIORecording
import SIOWire
import Synchronization

/// Shared by all connections of one proxy run. Thread-safe.
///
/// Holds the session table (sessions are followed by sid across TCP connections and transports)
/// and the clock every record is stamped with. Records are handed to the sink while the session
/// lock is held, so the records of one session reach the sink in the order they happened even
/// when its requests travel on connections served by different threads.
public final class CaptureHub: Sendable {
    /// The configuration the hub was made with.
    public let configuration: CaptureConfiguration
    let sink: any RecordSink
    /// The sink's recording writer when the sink takes lines (`RecordSink.lineWriter`), asked once.
    let lineWriter: RecordingWriter?
    /// Who takes a copy of the lines written into `lineWriter` (`RecordSink.lineFollower`), asked once.
    let lineFollower: (any RecordLineFollower)?
    let logger: Logger
    private let microsecondsSinceStart: @Sendable () -> Int64
    private let registry: Mutex<SessionRegistry>

    /// Makes a hub stamping records with `ContinuousClock`.
    public convenience init(configuration: CaptureConfiguration, sink: any RecordSink, logger: Logger) {
        self.init(configuration: configuration, sink: sink, logger: logger, clock: ContinuousClock())
    }

    /// Makes a hub stamping records with `clock` (a manual clock in tests). Times are
    /// microseconds since this call.
    public init<C: Clock<Duration>>(
        configuration: CaptureConfiguration, sink: any RecordSink, logger: Logger, clock: C
    ) {
        self.configuration = configuration
        self.sink = sink
        self.lineWriter = sink.lineWriter
        self.lineFollower = sink.lineWriter == nil ? nil : sink.lineFollower
        self.logger = logger
        let start = clock.now
        self.microsecondsSinceStart = {
            let (seconds, attoseconds) = start.duration(to: clock.now).components
            return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        }
        self.registry = Mutex(SessionRegistry(configuration: configuration))
    }

    /// A tap for one client TCP connection; records `conn`.
    public func makeTap(connection: UInt64, peer: String) -> ConnectionTap {
        let tap = ConnectionTap(hub: self, connection: connection)
        tap.connectionOpened(peer: peer)
        return tap
    }

    /// A tap for one client TCP connection that records nothing yet: its first event is
    /// `ConnectionTap.connectionOpened(peer:at:)`.
    public func makeTap(connection: UInt64) -> ConnectionTap {
        ConnectionTap(hub: self, connection: connection)
    }

    /// Counters so far: sessions, packets, bytes per direction, undecodable input.
    public var statistics: CaptureStatistics {
        self.registry.withLock { $0.statistics }
    }

    /// Microseconds since the hub was made: the clock of every record, and of the taps' `at`.
    public func now() -> Int64 {
        self.microsecondsSinceStart()
    }

    /// Runs `body` on the session table and hands the records it produced to the sink, in order,
    /// before the lock is released.
    func withRegistry<R>(
        bytes: inout (clientToServer: Int, serverToClient: Int),
        _ body: (inout SessionRegistry, inout [Record]) -> R
    ) -> R {
        let flushed = bytes
        bytes = (0, 0)
        return self.registry.withLock { registry in
            registry.statistics.bytesClientToServer += flushed.clientToServer
            registry.statistics.bytesServerToClient += flushed.serverToClient
            // The array of the previous call, emptied: no allocation per read.
            var records = registry.spareRecords
            registry.spareRecords = []
            let result = body(&registry, &records)
            registry.maskKnownSecrets(&records)
            if !records.isEmpty { self.deliver(records) }
            if records.capacity <= SessionRegistry.spareRecordsCapacity {
                records.removeAll(keepingCapacity: true)
                registry.spareRecords = records
            }
            return result
        }
    }

    /// `withRegistry` for a sink that takes lines: `body` may write lines into the batch itself
    /// (the fast path) and must encode the records it made so far into it before it does, to keep
    /// their order. Records left in the array at the end are masked and encoded after the lines
    /// (so the sink gets no `Record`). The batch is the writer's pending buffer, lent under its
    /// lock (`RecordingWriter.appendLines`): the lines are written once, where they are compressed from.
    func withRegistry<R>(
        bytes: inout (clientToServer: Int, serverToClient: Int), lines writer: RecordingWriter,
        _ body: (inout SessionRegistry, inout [Record], inout LineBatch) -> R
    ) -> R {
        self.withRegistry(bytes: &bytes) { registry, records in
            var result: R?
            writer.appendLines { pending in
                let start = pending.writerIndex
                var batch = LineBatch(lines: ByteBuffer())
                swap(&batch.lines, &pending)
                result = body(&registry, &records, &batch)
                if !records.isEmpty {
                    registry.maskKnownSecrets(&records)
                    batch.append(encoding: &records)
                }
                swap(&batch.lines, &pending)
                // The view's copy of the very bytes the recording got (one memcpy per read).
                if let follower = self.lineFollower { pending.follow(from: start, count: batch.count, by: follower) }
                return (batch.count, batch.lastTime)
            }
            return result!
        }
    }

    /// Hands records (masked) to the sink: with a line writer, encoded once into the recording and
    /// the same bytes copied to the line follower; otherwise as `Record`s to `RecordSink.receive`.
    private func deliver(_ records: [Record]) {
        guard let writer = self.lineWriter else { return self.sink.receive(contentsOf: records) }
        if let follower = self.lineFollower {
            writer.append(contentsOf: records, follower: follower)
        } else {
            writer.append(contentsOf: records)
        }
    }

    /// Whether a session is tracked (for tests and diagnostics).
    func isTracking(sid: String) -> Bool {
        self.registry.withLock { $0.sessions[sid] != nil }
    }
}
