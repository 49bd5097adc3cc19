import Logging
import NIOCore
import NIOHTTP1
import SIOCapture
import SIOProxy
import SIORecording
import SIOView
import SIOWire
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The capture path alone, without sockets: WebSocket (or long-polling, `PollingCapture`) sessions'
/// bytes (the upstream's real answers, from `EchoLogic`) handed to `ConnectionTap`s as the proxy
/// hands them, records written by a
/// `RecordingWriter` to a file. One process and no network, so its cost per message is far steadier
/// than a load run's (a few percent from run to run): it compares two builds on a noisy machine.
struct CaptureCost {
    let connections: Int
    /// Events (each with its ack) per read, as a busy connection delivers them.
    let batch: Int
    let payloads: Payloads
    /// Whether the sink takes encoded lines (the recording alone) or `Record`s (as with a live view).
    var writesLines = true
    /// Long-polling sessions (`PollingCapture`) instead of WebSocket ones.
    var polling = false
    /// Whether the lines are also followed by the browser view's feed, drained into its store by a
    /// thread of its own every 50 ms, as `record --ui` does (without the HTTP server and the page).
    var view = false
    /// Whether the taps are told through the proxy's `CaptureQueue`, as `record` does (a read of
    /// 512 bytes or more at once, smaller ones on its capture thread), instead of called at once.
    var queue = false
    static let readsPerSession = 64

    struct Result {
        var messages = 0
        var records = 0
        var recordedBytes = 0
        var cpuSeconds = 0.0
        var wallSeconds = 0.0
        /// With `view`: lines the view's store received, and lines its feed dropped.
        var viewLines: Int64 = 0
        var viewDropped: Int64 = 0
    }

    /// Runs `messages` EVENT + ACK pairs (rounded down to whole reads) through the taps and closes
    /// the recording at `path`.
    func run(messages: Int, path: String) throws -> Result {
        let writer = try RecordingWriter(
            path: path, header: RecordingHeader(startedAtMicros: 0, tool: "siotape-bench capture"))
        let feed = self.view ? LiveFeed(start: 0) : nil
        let drain = feed.map { ViewDrain(model: ViewModel(feed: $0, redacted: true)) }
        let hub = CaptureHub(
            configuration: CaptureConfiguration(),
            sink: WriterSink(writer: writer, writesLines: self.writesLines, feed: feed),
            logger: Logger(label: "siotape-bench.capture"))
        if self.polling {
            var result = try self.runPolling(messages: messages, hub: hub, writer: writer)
            result.viewLines = drain?.stop() ?? 0
            result.viewDropped = feed?.dropped ?? 0
            return result
        }
        let sessions = (0..<self.connections).map { Session(hub: hub, index: $0) }
        // The bytes are made before the clock starts: a ring of reads per session, ack ids reused
        // once a ring has gone round (every event is acked before its id comes back).
        var id: UInt64 = 0
        let reads = sessions.indices.map { index in
            (0..<Self.readsPerSession).map { _ in
                var client = ByteBuffer()
                var server = ByteBuffer()
                var event = ByteBuffer()
                for _ in 0..<self.batch {
                    id += 1
                    event.clear()
                    self.payloads.writeEvent(id: id, offset: UInt64(index) &* 7919, into: &event)
                    Frames.write(text: event, masked: true, into: &client)
                    if let reply = EchoLogic.reply(toText: event, sid: sessions[index].sid) {
                        Frames.write(text: reply, masked: false, into: &server)
                    }
                }
                return (client: client, server: server)
            }
        }
        let cpu0 = cpuSeconds()
        let wall0 = NIODeadline.now()
        let queue = self.queue ? CaptureQueue(hub: hub) : nil
        var sent = 0
        var round = 0
        while sent + self.batch <= messages {
            for index in sessions.indices where sent + self.batch <= messages {
                let read = reads[index][round % Self.readsPerSession]
                if let queue {
                    queue.tellWebSocketBytes(sessions[index].tap, read.client, direction: .clientToServer)
                    queue.tellWebSocketBytes(sessions[index].tap, read.server, direction: .serverToClient)
                } else {
                    sessions[index].tap.webSocketBytes(read.client, direction: .clientToServer)
                    sessions[index].tap.webSocketBytes(read.server, direction: .serverToClient)
                }
                sent += self.batch
            }
            round += 1
        }
        queue?.finish()
        for session in sessions { session.tap.connectionClosed(cause: "client") }
        try writer.close()
        let viewLines = drain?.stop() ?? 0
        let statistics = writer.statistics
        return Result(
            messages: sent, records: statistics.records, recordedBytes: statistics.compressedBytes,
            cpuSeconds: cpuSeconds() - cpu0,
            wallSeconds: Double((NIODeadline.now() - wall0).nanoseconds) / 1e9,
            viewLines: viewLines, viewDropped: feed?.dropped ?? 0)
    }

    /// The view's thread of `record --ui`: moves the feed into the store every 50 ms.
    final class ViewDrain: Sendable {
        let model: ViewModel
        private let stopping = Atomic<Bool>(false)
        private let thread: Mutex<BackgroundThread?> = Mutex(nil)

        init(model: ViewModel) {
            self.model = model
            let thread = BackgroundThread { [self] in
                while !self.stopping.load(ordering: .acquiring) {
                    self.model.pump()
                    usleep(50_000)
                }
            }
            self.thread.withLock { $0 = thread }
        }

        /// Stops the thread, drains what is left; returns the lines the store received.
        func stop() -> Int64 {
            self.stopping.store(true, ordering: .releasing)
            self.thread.withLock { $0 }?.join()
            return self.model.pump()
        }
    }

    /// `run` for long-polling sessions: a round of a session is one read's worth (`batch` events in a
    /// POST, their acks in the answer to the waiting GET).
    private func runPolling(messages: Int, hub: CaptureHub, writer: RecordingWriter) throws -> Result {
        var sessions = (0..<self.connections).map { PollingCapture.Session(hub: hub, index: $0) }
        var id: UInt64 = 0
        let rounds = sessions.indices.map { index in
            PollingCapture.rounds(
                of: &sessions[index], count: Self.readsPerSession, batch: self.batch, payloads: self.payloads,
                index: index, id: &id)
        }
        let cpu0 = cpuSeconds()
        let wall0 = NIODeadline.now()
        var sent = 0
        var round = 0
        while sent + self.batch <= messages {
            for index in sessions.indices where sent + self.batch <= messages {
                let calls = rounds[index][round % Self.readsPerSession]
                sessions[index].post.run(calls.post)
                sessions[index].get.run(calls.get)
                sessions[index].post.run(calls.postAnswer)
                sent += self.batch
            }
            round += 1
        }
        for session in sessions {
            session.get.tap.connectionClosed(cause: "client")
            session.post.tap.connectionClosed(cause: "client")
        }
        try writer.close()
        let statistics = writer.statistics
        return Result(
            messages: sent, records: statistics.records, recordedBytes: statistics.compressedBytes,
            cpuSeconds: cpuSeconds() - cpu0,
            wallSeconds: Double((NIODeadline.now() - wall0).nanoseconds) / 1e9)
    }

    /// One WebSocket session through its upgrade, handshake and namespace connect.
    struct Session {
        let tap: ConnectionTap
        let sid: String

        init(hub: CaptureHub, index: Int) {
            self.tap = hub.makeTap(connection: UInt64(index + 1), peer: "127.0.0.1:\(40000 + index)")
            self.sid = "capture" + String(repeating: "0", count: 13 - String(index).count) + String(index)
            self.tap.requestHead(
                HTTPHead(
                    method: .GET, uri: "/socket.io/?EIO=4&transport=websocket",
                    headers: [
                        ("Host", "127.0.0.1"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                        ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                    ]))
            self.tap.requestEnd()
            self.tap.webSocketAccepted(HTTPHead(status: 101, headers: [("Upgrade", "websocket"), ("Connection", "Upgrade")]))
            var bytes = ByteBuffer()
            Frames.write(text: EchoLogic.openPacket(sid: self.sid, upgrades: false), masked: false, into: &bytes)
            self.tap.webSocketBytes(bytes, direction: .serverToClient)
            bytes.clear()
            let connect = ByteBuffer(string: "40")
            Frames.write(text: connect, masked: true, into: &bytes)
            self.tap.webSocketBytes(bytes, direction: .clientToServer)
            bytes.clear()
            if let reply = EchoLogic.reply(toText: connect, sid: self.sid) {
                Frames.write(text: reply, masked: false, into: &bytes)
                self.tap.webSocketBytes(bytes, direction: .serverToClient)
            }
        }
    }

    struct WriterSink: RecordSink {
        let writer: RecordingWriter
        /// `false` measures the path through `Record`s (`capture --records`).
        var writesLines = true
        /// The browser view's feed (`capture --view`).
        var feed: LiveFeed?

        var lineWriter: RecordingWriter? { self.writesLines ? self.writer : nil }

        var lineFollower: (any RecordLineFollower)? { self.feed }

        func receive(_ record: Record) { self.receive(contentsOf: [record]) }

        func receive(contentsOf records: [Record]) {
            if let feed = self.feed {
                self.writer.append(contentsOf: records, follower: feed)
            } else {
                self.writer.append(contentsOf: records)
            }
        }
    }
}

/// WebSocket text frames, as a client (masked) or a server sends them.
enum Frames {
    static func write(text: ByteBuffer, masked: Bool, into buffer: inout ByteBuffer) {
        let length = text.readableBytes
        buffer.writeInteger(UInt8(0x81))
        let maskBit: UInt8 = masked ? 0x80 : 0
        if length < 126 {
            buffer.writeInteger(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            buffer.writeInteger(maskBit | 126)
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(maskBit | 127)
            buffer.writeInteger(UInt64(length))
        }
        guard masked else {
            buffer.writeImmutableBuffer(text)
            return
        }
        let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        buffer.writeBytes(key)
        text.withUnsafeReadableBytes { bytes in
            for (i, byte) in bytes.enumerated() { buffer.writeInteger(byte ^ key[i & 3]) }
        }
    }
}

/// User + system CPU time of the whole process (every thread), in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}
