import Logging
import NIOCore
import SIOCapture
import SIORecording
import SIOWire
import Synchronization
import Testing

@testable import SIOProxy

/// The taps' work queued off the event loops (`CaptureQueue`): what a user of `record` would notice
/// is the recording, so every test reads the records the hub hands its sink.
@Suite
struct CaptureQueueTests {
    /// Collects records and lets a test wait (with a deadline that only fails it) for a count.
    private final class Sink: RecordSink, @unchecked Sendable {
        private let mutex = ConditionMutex()
        private var storage: [Record] = []

        func receive(_ record: Record) {
            self.mutex.lock()
            self.storage.append(record)
            self.mutex.signal()
            self.mutex.unlock()
        }

        var records: [Record] {
            self.mutex.lock()
            defer { self.mutex.unlock() }
            return self.storage
        }

        /// The records once there are `count`, or what there is after 30 s.
        func records(count: Int) -> [Record] {
            let deadline = ContinuousClock.now + .seconds(30)
            self.mutex.lock()
            defer { self.mutex.unlock() }
            while self.storage.count < count && ContinuousClock.now < deadline {
                self.mutex.wait(microseconds: 100_000)
            }
            return self.storage
        }
    }

    private struct Harness {
        /// Moves only when told to: the records' times are the tell-times.
        let clock = StepClock()
        let sink = Sink()
        let hub: CaptureHub
        let queue: CaptureQueue

        init(_ limits: CaptureQueue.Limits) {
            self.hub = CaptureHub(
                configuration: CaptureConfiguration(), sink: self.sink, logger: Logger(label: "test"), clock: self.clock)
            self.queue = CaptureQueue(hub: self.hub, limits: limits)
        }

        /// Tells `work` at `time` (microseconds on the hub's clock).
        func tell(_ tap: ConnectionTap, _ work: CaptureQueue.Work, at time: Int64) {
            self.clock.set(microseconds: time)
            self.queue.tell(tap, work)
        }
    }

    /// Kinds of records, for comparing order.
    private static func kinds(_ records: [Record]) -> [String] {
        records.map { record in
            switch record.event {
            case .connectionOpened(let opened): "conn \(opened.connection)"
            case .connectionClosed(let closed): "conn_close \(closed.connection)"
            case .note(let note): "note \(note.connection.map { "\($0)" } ?? "-")"
            default: "other"
            }
        }
    }

    @Test func theCaptureThreadRecordsEventsInTheOrderTheyHappenedStampedWhenTheyHappened() {
        let harness = Harness(CaptureQueue.Limits())
        let first = harness.hub.makeTap(connection: 1)
        let second = harness.hub.makeTap(connection: 2)
        harness.tell(first, .opened(peer: "127.0.0.1:1"), at: 10)
        harness.tell(second, .opened(peer: "127.0.0.1:2"), at: 20)
        harness.tell(second, .event(.upstreamUnreachable(reason: "refused")), at: 40)
        harness.tell(first, .event(.connectionClosed(cause: "client")), at: 50)
        harness.tell(second, .event(.connectionClosed(cause: "client")), at: 60)
        // Long after: the records keep the times of the events, not of the thread's run.
        harness.clock.set(microseconds: 90_000)
        let records = harness.sink.records(count: 5)
        #expect(Self.kinds(records) == ["conn 1", "conn 2", "note 2", "conn_close 1", "conn_close 2"])
        #expect(records.map(\.time) == [10, 20, 40, 50, 60])
        harness.queue.finish()
        #expect(harness.sink.records.count == 5)
    }

    @Test func aWebSocketSessionIsRecordedAsTheTapRecordsItAtOnce() throws {
        let open = #"0{"sid":"queuedSID","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
        var frame = ByteBuffer(bytes: [0x81, UInt8(open.utf8.count)])
        frame.writeString(open)
        let connect = ByteBuffer(bytes: [0x81, 0x02] + Array("40".utf8))
        func run(_ limits: CaptureQueue.Limits) -> [Record] {
            let harness = Harness(limits)
            let tap = harness.hub.makeTap(connection: 7)
            harness.tell(tap, .opened(peer: "127.0.0.1:7"), at: 1)
            harness.tell(
                tap,
                .event(
                    .requestHead(
                        HTTPHead(
                            method: .GET, uri: "/socket.io/?EIO=4&transport=websocket",
                            headers: [("Upgrade", "websocket")]))), at: 2)
            harness.tell(tap, .event(.requestEnd), at: 3)
            harness.tell(tap, .event(.webSocketAccepted(HTTPHead(status: 101, headers: [("Upgrade", "websocket")]))), at: 4)
            harness.tell(tap, .event(.responseEnd), at: 5)
            harness.tell(tap, .event(.webSocketBytes(frame, .serverToClient)), at: 6)
            harness.tell(tap, .event(.webSocketBytes(connect, .serverToClient)), at: 7)
            harness.tell(tap, .event(.connectionClosed(cause: "client")), at: 8)
            harness.queue.finish()
            #expect(harness.hub.statistics.bytesServerToClient == frame.readableBytes + connect.readableBytes)
            return harness.sink.records
        }
        let atOnce = run(.init(deferred: false))
        let queued = run(.init())
        // Every read at once on the event loop, uncopied.
        let large = run(.init(atOnceBytes: 1, captureThread: false))
        #expect(atOnce.contains { if case .sessionOpened(let opened) = $0.event { opened.sid == "queuedSID" } else { false } })
        #expect(queued == atOnce)
        #expect(large == atOnce)
    }

    @Test func anEventLoopRunsTheQueueItselfOnceItHoldsMaxEvents() {
        let harness = Harness(.init(maxEvents: 3, captureThread: false))
        let tap = harness.hub.makeTap(connection: 1)
        harness.tell(tap, .opened(peer: "p"), at: 1)
        harness.tell(tap, .event(.upstreamUnreachable(reason: "refused")), at: 2)
        #expect(harness.sink.records.isEmpty)
        harness.tell(tap, .event(.connectionClosed(cause: "client")), at: 3)
        #expect(Self.kinds(harness.sink.records) == ["conn 1", "note 1", "conn_close 1"])
    }

    @Test func anEventLoopRunsTheQueueItselfOnceTheOldestEventIsMaxAgeOld() {
        let harness = Harness(.init(maxAge: 100, captureThread: false))
        let tap = harness.hub.makeTap(connection: 1)
        harness.tell(tap, .opened(peer: "p"), at: 1_000)
        harness.tell(tap, .event(.upstreamUnreachable(reason: "refused")), at: 1_099)
        #expect(harness.sink.records.isEmpty)
        harness.tell(tap, .event(.connectionClosed(cause: "client")), at: 1_100)
        #expect(harness.sink.records.map(\.time) == [1_000, 1_099, 1_100])
    }

    @Test func anEventLoopRunsTheQueueItselfOnceItHoldsMaxBytes() {
        let harness = Harness(.init(maxBytes: 1_000, atOnceBytes: .max, captureThread: false))
        let tap = harness.hub.makeTap(connection: 1)
        let bytes = ByteBuffer(repeating: 0x41, count: 600)
        harness.tell(tap, .opened(peer: "p"), at: 1)
        // The connection is no WebSocket: its bytes are counted, and make no record.
        harness.tell(tap, .event(.webSocketBytes(bytes, .clientToServer)), at: 2)
        #expect(harness.sink.records.isEmpty)
        harness.tell(tap, .event(.webSocketBytes(bytes, .clientToServer)), at: 3)
        #expect(Self.kinds(harness.sink.records) == ["conn 1"])
    }

    @Test func aLargeReadRunsAtOnceAfterWhatIsQueuedAndSmallerOnesAreQueued() {
        let harness = Harness(.init(atOnceBytes: 100, captureThread: false))
        let first = harness.hub.makeTap(connection: 1)
        let second = harness.hub.makeTap(connection: 2)
        harness.tell(first, .opened(peer: "p"), at: 1)
        harness.tell(second, .opened(peer: "q"), at: 2)
        // Neither connection is a WebSocket: their bytes are counted, and make no record.
        harness.tell(first, .event(.webSocketBytes(ByteBuffer(repeating: 0x41, count: 99), .clientToServer)), at: 3)
        #expect(harness.sink.records.isEmpty)
        // A large read: what is queued runs first, then the read, at once.
        harness.tell(second, .event(.webSocketBytes(ByteBuffer(repeating: 0x41, count: 100), .clientToServer)), at: 4)
        #expect(Self.kinds(harness.sink.records) == ["conn 1", "conn 2"])
        harness.tell(first, .event(.connectionClosed(cause: "client")), at: 5)
        #expect(harness.sink.records.count == 2)
        harness.queue.finish()
        #expect(Self.kinds(harness.sink.records) == ["conn 1", "conn 2", "conn_close 1"])
        #expect(harness.sink.records.map(\.time) == [1, 2, 5])
    }

    @Test func finishRunsWhatIsQueuedAndLaterEventsRunAtOnce() {
        let harness = Harness(.init(captureThread: false))
        let tap = harness.hub.makeTap(connection: 1)
        harness.tell(tap, .opened(peer: "p"), at: 1)
        #expect(harness.sink.records.isEmpty)
        harness.queue.finish()
        #expect(Self.kinds(harness.sink.records) == ["conn 1"])
        harness.tell(tap, .event(.connectionClosed(cause: "client")), at: 2)
        #expect(Self.kinds(harness.sink.records) == ["conn 1", "conn_close 1"])
    }
}
