import ArgumentParser
import NIOCore
import NIOPosix
import SIORecording

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The benchmark's own peers: a fast echo upstream and a load generator. Driven by `tools/bench/run`.
@main
struct SiotapeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "siotape-bench",
        abstract: "Peers for siotape's benchmark: a fast Socket.IO echo upstream and a load generator.",
        discussion: """
            The harness is tools/bench/run; these commands are its parts.

            Example:
              siotape-bench upstream --port 0            # prints READY <port>
              siotape-bench load --url http://127.0.0.1:8080 --connections 50 --window 8 --duration 10
            """,
        subcommands: [Upstream.self, Load.self, Idle.self, Relay.self, Capture.self]
    )
}

/// `http://host:port` → (host, port).
func parseURL(_ url: String) throws -> (host: String, port: Int) {
    guard url.hasPrefix("http://") else { throw ValidationError("--url must be http://HOST:PORT, got \(url)") }
    let authority = url.dropFirst("http://".count).split(separator: "/").first.map(String.init) ?? ""
    guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) else {
        throw ValidationError("--url must be http://HOST:PORT, got \(url)")
    }
    return (String(authority[..<colon]), port)
}

struct Upstream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An Engine.IO v4 / Socket.IO v5 server that acks every event with its arguments.",
        discussion: """
            Speaks WebSocket (direct) and long-polling on /socket.io/. Prints READY <port> on stdout once it
            listens. Runs until killed.

            Example:
              siotape-bench upstream --port 0 --threads 1
            """)

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0: a free one).") var port = 0
    @Option(help: "Event-loop threads.") var threads = 1

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
        try serveUntilClosed(EchoUpstream.start(host: self.host, port: self.port, group: group))
    }
}

struct Relay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A plain TCP relay on SwiftNIO: the floor any NIO proxy pays, without parsing or recording.",
        discussion: """
            Relays bytes between each client and a connection of its own to --upstream, with backpressure,
            on one event loop per core like siotape. Prints READY <port> on stdout once it listens.

            With --lines RECORDING --out PATH it is the floor of a recording proxy: for every WebSocket
            message it relays, it also hands one of RECORDING's packet lines of the same direction to a
            recording writer, compressed and written to PATH as `record` writes its lines (nothing is
            decoded or encoded). On SIGTERM or SIGINT it closes PATH and prints one JSON line: records
            written and compressed bytes. For WebSocket loads only.

            Example:
              siotape-bench relay --upstream http://127.0.0.1:5000 --port 0
              siotape-bench capture --messages 20000 --keep /tmp/lines.siotape.gz
              siotape-bench relay --upstream http://127.0.0.1:5000 --lines /tmp/lines.siotape.gz --out /tmp/floor.siotape.gz
            """)

    @Option(help: "The server to relay to, http://HOST:PORT.") var upstream: String
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0: a free one).") var port = 0
    @Option(help: "Event-loop threads (default: one per core).") var threads = System.coreCount
    @Option(help: "A recording whose packet lines are written for every relayed WebSocket message (needs --out).")
    var lines: String?
    @Option(help: "Where --lines writes its recording.") var out: String?

    func validate() throws {
        guard (self.lines == nil) == (self.out == nil) else { throw ValidationError("--lines and --out go together") }
    }

    func run() throws {
        let (upstreamHost, upstreamPort) = try parseURL(self.upstream)
        // Before the writer's and the event loops' threads start, so that they inherit the mask.
        let signals = self.lines == nil ? nil : TerminationSignals()
        let feed = try self.lines.map { try LineFeed(linesOf: $0, recordingTo: self.out!) }
        if let feed, let signals {
            signals.onSignal { [writer = feed.writer] in
                try? writer.close()
                let statistics = writer.statistics
                writeLine("{\"records\":\(statistics.records),\"compressed_bytes\":\(statistics.compressedBytes)}")
            }
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
        try serveUntilClosed(
            PlainRelay.start(
                host: self.host, port: self.port, upstreamHost: upstreamHost, upstreamPort: upstreamPort, group: group,
                lines: feed))
    }
}

struct Capture: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The capture path alone: WebSocket or long-polling sessions' bytes through siotape's taps into a recording.",
        discussion: """
            No sockets: the bytes of --connections WebSocket sessions (events of the load generator, acks of
            the bench upstream, --batch of each per read) are handed to siotape's capture taps as the proxy
            hands them, and the records are written to a recording, which is deleted afterwards. With
            --transport polling, each session is two keep-alive HTTP/1.1 connections as `load --transport
            polling` opens them: POSTs of --batch events (one payload, joined by 0x1e), GET long-polls
            answered with the --batch acks. Prints one
            JSON line: CPU (all threads) and wall time per msg (an EVENT and its ACK), records and recorded
            bytes. Much steadier than a load run: for comparing builds of the capture path.

            Example:
              siotape-bench capture --messages 500000
              siotape-bench capture --transport polling --keep /tmp/polling.siotape.gz
            """)

    @Option(help: "EVENT + ACK pairs to capture.") var messages = 500_000
    @Option(help: "WebSocket sessions, served in turn.") var connections = 50
    @Option(help: "Events (and acks) per read.") var batch = 8
    @Option(help: "fixed (100-byte string) or chat (varied JSON chat messages).") var payload = "fixed"
    @Option(help: "Keep the recording at this path (to compare two builds' recordings) instead of deleting it.")
    var keep: String?
    @Flag(help: "Hand every record to the writer as a Record (as with the live view on) instead of lines.")
    var records = false
    @Option(help: "websocket or polling (Engine.IO v4 long-polling sessions).") var transport = "websocket"
    @Flag(help: "Also feed the browser view's live store, drained by a thread of its own, as `record --ui` does.")
    var view = false
    @Flag(
        help: """
            Tell the taps through the proxy's CaptureQueue, as `record` does (WebSocket): reads of 512 bytes or \
            more run at once, smaller ones on its capture thread (--batch 1 for those).
            """)
    var queue = false

    func validate() throws {
        guard ["websocket", "polling"].contains(self.transport) else { throw ValidationError("--transport: websocket or polling") }
        guard PayloadKind(rawValue: self.payload) != nil else { throw ValidationError("--payload: fixed or chat") }
        guard self.messages > 0, self.connections > 0, self.batch > 0 else {
            throw ValidationError("--messages, --connections and --batch must be > 0")
        }
        // Messages go in whole reads of --batch: fewer than one read would measure nothing.
        guard self.messages >= self.batch else {
            throw ValidationError("--messages must be at least --batch (\(self.batch)): messages go in whole reads")
        }
    }

    func run() throws {
        let path = self.keep ?? "/tmp/siotape-bench-capture-\(getpid()).siotape.gz"
        defer { if self.keep == nil { unlink(path) } }
        let cost = CaptureCost(
            connections: self.connections, batch: self.batch, payloads: Payloads(kind: PayloadKind(rawValue: self.payload)!),
            writesLines: !self.records, polling: self.transport == "polling", view: self.view, queue: self.queue)
        let result = try cost.run(messages: self.messages, path: path)
        let n = Double(result.messages)
        writeLine(
            "{\"messages\":\(result.messages),\"records\":\(result.records),"
                + "\"cpu_ns_per_msg\":\(Int((result.cpuSeconds * 1e9 / n).rounded())),"
                + "\"wall_ns_per_msg\":\(Int((result.wallSeconds * 1e9 / n).rounded())),"
                + "\"recorded_bytes_per_msg\":\((Double(result.recordedBytes) / n * 10).rounded() / 10)"
                + (self.view ? ",\"view_lines\":\(result.viewLines),\"view_dropped\":\(result.viewDropped)}" : "}"))
    }
}

struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Socket.IO EVENT+ACK round trips with a window of events in flight per connection.",
        discussion: """
            Each connection connects to the main namespace, then keeps --window `echo` events (with acks) in
            flight. After --warmup seconds, acks are counted for --duration seconds; then the connections stop
            sending and drain. Prints one JSON line: acks/s in the window (msgs_per_s, a msg being an event
            and its ack), all acks of the run (total_msgs), round-trip latency percentiles in microseconds.

            Example:
              siotape-bench load --url http://127.0.0.1:8080 --connections 50 --window 8 --duration 10
            """)

    @Option(help: "The server (or proxy) to load, http://HOST:PORT.") var url: String
    @Option(help: "Concurrent Socket.IO connections.") var connections = 50
    @Option(help: "Events in flight per connection.") var window = 8
    @Option(help: "websocket or polling.") var transport = "websocket"
    @Option(help: "fixed (100-byte string) or chat (varied JSON chat messages).") var payload = "fixed"
    @Option(help: "Seconds measured.") var duration = 10.0
    @Option(help: "Seconds of load before the measurement starts.") var warmup = 2.0
    @Option(help: "Event-loop threads.") var threads = 1
    @Option(
        help: ArgumentHelp(
            "Rate-limited load: msgs/s over all connections, each sending at its share of the rate (websocket only).",
            discussion: "Without it, each ack is answered by a new event: as fast as the target goes."))
    var rate: Int?

    func validate() throws {
        guard ["websocket", "polling"].contains(self.transport) else { throw ValidationError("--transport: websocket or polling") }
        if let rate = self.rate {
            guard rate > 0, self.transport == "websocket" else { throw ValidationError("--rate: > 0, websocket only") }
        }
        guard PayloadKind(rawValue: self.payload) != nil else { throw ValidationError("--payload: fixed or chat") }
        guard self.connections > 0, self.window > 0 else { throw ValidationError("--connections and --window must be > 0") }
    }

    func run() throws {
        let (host, port) = try parseURL(self.url)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
        let pacing = self.rate.map { TimeAmount.nanoseconds(Int64(1e9 * Double(self.connections) / Double($0))) }
        let run = LoadRun(
            payloads: Payloads(kind: PayloadKind(rawValue: self.payload)!), window: self.window, idle: false, pacing: pacing)
        let channels = try connect(
            run: run, host: host, port: port, count: self.connections, polling: self.transport == "polling", group: group)
        let (_, end) = run.startWindow(afterWarmup: self.warmup, duration: self.duration)
        while LoadRun.now() < end { usleep(50_000) }
        run.stop()
        let drained = run.done.lock(whenValue: self.connections, timeoutSeconds: 10)
        if drained { run.done.unlock() }
        let result = run.result
        for channel in channels { channel.close(promise: nil) }
        var latencies = result.latencies
        latencies.sort()
        func percentile(_ p: Double) -> UInt32 {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        let failures = result.failures.prefix(3).map { "\"" + String($0.map { $0 == "\"" || $0 == "\\" ? "'" : $0 }) + "\"" }
        writeLine(
            "{\"transport\":\"\(self.transport)\",\"payload\":\"\(self.payload)\",\"connections\":\(self.connections),"
                + "\"window\":\(self.window),\"rate\":\(self.rate ?? 0),\"duration_s\":\(self.duration),\"window_msgs\":\(result.windowAcks),"
                + "\"msgs_per_s\":\(Int(Double(result.windowAcks) / self.duration)),\"total_msgs\":\(result.acks),"
                + "\"p50_us\":\(percentile(0.5)),\"p99_us\":\(percentile(0.99)),\"p999_us\":\(percentile(0.999)),"
                + "\"drained\":\(drained),\"failures\":\(result.failures.count),\"failure_samples\":[\(failures.joined(separator: ","))]}")
        try? group.syncShutdownGracefully()
        if !result.failures.isEmpty || !drained { throw ExitCode(1) }
    }
}

struct Idle: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Opens idle Socket.IO WebSocket connections and holds them.",
        discussion: """
            Connects --connections WebSocket sessions (handshake and namespace connect done), prints READY <n> on
            stdout, and holds them until stdin is closed.

            Example:
              siotape-bench idle --url http://127.0.0.1:8080 --connections 2000 < /dev/tty
            """)

    @Option(help: "The server (or proxy), http://HOST:PORT.") var url: String
    @Option(help: "Connections to open.") var connections = 2_000
    @Option(help: "Event-loop threads.") var threads = 1

    func run() throws {
        let (host, port) = try parseURL(self.url)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
        let run = LoadRun(payloads: Payloads(kind: .fixed), window: 1, idle: true)
        // Sessions that did not get through within the timeout are reported, not waited for.
        _ = try connect(
            run: run, host: host, port: port, count: self.connections, polling: false, group: group, mustAllBeReady: false)
        let ready = run.ready.value
        let failures = run.result.failures
        if !failures.isEmpty || ready < self.connections {
            writeLine(
                "\(ready) of \(self.connections) sessions ready, \(failures.count) failed"
                    + (failures.first.map { ", e.g. \($0)" } ?? ""), to: 2)
        }
        writeLine("READY \(ready - failures.count)")
        while readLine() != nil {}
    }
}

/// Opens `count` sessions (in batches, so that accept queues do not overflow) and waits until every
/// one has connected its namespace (or failed).
func connect(
    run: LoadRun, host: String, port: Int, count: Int, polling: Bool, group: MultiThreadedEventLoopGroup,
    mustAllBeReady: Bool = true
) throws -> [any Channel] {
    var channels: [any Channel] = []
    var opened = 0
    /// Sessions that did not get ready in time (tolerated when not all must be).
    var stuck = 0
    let batch = 250
    while opened < count {
        let n = min(batch, count - opened)
        for index in opened..<(opened + n) {
            if polling {
                PollingLoadSession.start(run: run, host: host, port: port, seed: UInt64(index), on: group.next())
            } else {
                let seed = UInt64(index)
                let channel = try ClientBootstrap(group: group)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                WebSocketLoadClient(run: run, host: "\(host):\(port)", seed: seed))
                        }
                    }
                    .connect(host: host, port: port).wait()
                channels.append(channel)
            }
        }
        opened += n
        let deadline = LoadRun.now() + 30_000_000_000
        while run.ready.value < opened - stuck && LoadRun.now() < deadline { usleep(1_000) }
        let missing = opened - run.ready.value
        if missing > stuck {
            guard !mustAllBeReady else {
                writeLine("only \(opened - missing) of \(opened) connections got ready within 30 s", to: 2)
                throw ExitCode(1)
            }
            stuck = missing
        }
    }
    return channels
}

/// Prints `READY <port>` (what the harness waits for) and serves until the listener closes.
func serveUntilClosed(_ listener: any Channel) throws {
    writeLine("READY \(listener.localAddress?.port ?? 0)")
    try listener.closeFuture.wait()
}

/// SIGTERM and SIGINT, taken by one thread of the process instead of ending it.
struct TerminationSignals: Sendable {
    private let signals: sigset_t

    /// Blocks both in the calling thread and in every thread it starts from now on: call before
    /// any other thread is started.
    init() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        self.signals = signals
    }

    /// Starts a thread that waits for either signal, runs `finish` and exits.
    func onSignal(_ finish: @escaping @Sendable () -> Void) {
        BackgroundThread.detach { [signals] in
            var signals = signals
            var received: Int32 = 0
            sigwait(&signals, &received)
            finish()
            exit(0)
        }
    }
}

/// Writes a line straight to a file descriptor (unbuffered: the harness waits for these lines).
func writeLine(_ line: String, to descriptor: Int32 = 1) {
    var text = line + "\n"
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { return }
            offset += n
        }
    }
}
