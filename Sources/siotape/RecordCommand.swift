import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import SIOCapture
import SIOInspect
import SIOProxy
import SIORecording
import SIOView
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a transparent proxy in front of a Socket.IO server and record every session.",
        discussion: """
            Clients connect to --listen as if it were the server. Every HTTP request, long-polling payload \
            and WebSocket frame is forwarded untouched; a copy is decoded and written to the recording \
            (a gzip file of JSON lines, see docs/recording-format.md) and shown live on stdout.
            Credentials (Authorization, Cookie, Set-Cookie, CONNECT auth values, token-like query values) \
            are redacted unless --keep-credentials is given. Stop with Ctrl-C: the recording is closed \
            properly and a summary is printed on stderr.

            Examples:
              siotape record --upstream http://127.0.0.1:5000
              siotape record --upstream http://127.0.0.1:5000 --listen 127.0.0.1:8080 --out session.siotape.gz
              siotape record --upstream https://dev.example.test --rewrite-host --live jsonl | jq .
              siotape record --upstream http://127.0.0.1:5000 --ui        (browser view on 127.0.0.1:8090)
            """
    )

    @Option(help: "The Socket.IO server to forward to, http:// or https://.")
    var upstream: String

    @Option(help: "Where to listen, HOST:PORT (port 0 picks a free one).")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "A directory (a file named by start time is created in it) or a file path.")
    var out: String = "recordings"

    @Option(help: "Live view on stdout: text, jsonl or off.")
    var live: LiveMode = .text

    @Option(
        defaultAsFlag: "127.0.0.1:8090", parsing: .next,
        help: ArgumentHelp(
            "Also serve a live browser view, on HOST:PORT (127.0.0.1:8090 when given alone); see docs/view.md.",
            valueName: "host:port"))
    var ui: String? = nil

    @Option(help: "Colours in the text live view: auto (on a terminal), always or never.")
    var color: ColorChoice = .auto

    @OptionGroup var capture: CaptureOptions

    @Flag(help: "Send the upstream's host:port as Host instead of the client's Host header.")
    var rewriteHost = false

    @Flag(help: "With an https:// upstream: do not verify its certificate (self-signed development servers).")
    var insecure = false

    @Option(help: "Seconds between flushes of the recording to disk (at most this much is lost on a crash).")
    var flushInterval: Double = 1.0

    @Option(help: "Event-loop threads relaying connections (default: one per core).")
    var threads: Int = System.coreCount

    func validate() throws {
        _ = try Self.parseListen(self.listen)
        if let ui = self.ui { _ = try Self.parseListen(ui, option: "--ui") }
        do {
            _ = try UpstreamURL(self.upstream)
        } catch {
            throw ValidationError(error.description)
        }
        guard self.flushInterval > 0, self.flushInterval <= 60 else {
            throw ValidationError("--flush-interval must be between 0 and 60 seconds")
        }
        guard (1...256).contains(self.threads) else { throw ValidationError("--threads must be between 1 and 256") }
    }

    static func parseListen(_ text: String, option: String = "--listen") throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("\(option) must be HOST:PORT, e.g. 127.0.0.1:8080 (got '\(text)')")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    func run() async throws {
        let logger = Self.makeLogger()
        let (host, port) = try Self.parseListen(self.listen)
        let upstream = try UpstreamURL(self.upstream)
        if host == "0.0.0.0" || host == "::" || host == "*" {
            logger.warning(
                """
                listening on \(host), ALL network interfaces: other machines can connect through this proxy, \
                and their traffic (secrets included unless redacted) is recorded. Use 127.0.0.1 to stay local.
                """)
        } else if host != "127.0.0.1" && host != "localhost" && host != "::1" {
            logger.warning(
                "listening on \(host), which other machines may reach: recorded traffic can hold secrets")
        }

        let startedAt = WallClock.nowMicros()
        let path: String
        do {
            path = try RecordingPath.resolve(self.out, startedAtMicros: startedAt)
        } catch {
            Self.fail("cannot record to \(self.out): \(error)")
        }
        let header = RecordingHeader(
            startedAtMicros: startedAt, tool: Siotape.tool, upstream: upstream.description,
            listen: self.listen, redacted: !self.capture.keepCredentials)
        let writer: RecordingWriter
        do {
            var configuration = RecordingWriter.Configuration()
            configuration.flushInterval = .milliseconds(Int64(self.flushInterval * 1000))
            writer = try RecordingWriter(path: path, header: header, configuration: configuration) { failure in
                // Reported once by the writer; traffic keeps flowing.
                logger.error("recording failed, traffic is still relayed: \(failure)")
            }
        } catch {
            Self.fail("cannot create the recording \(path): \(error)")
        }

        let liveView: LiveView? =
            switch self.live {
            case .off: nil
            case .text: LiveView(mode: .text(color: self.color.enabled(forFileDescriptor: STDOUT_FILENO)))
            case .jsonl: LiveView(mode: .jsonl)
            }
        // The browser view follows the recording's lines through a bounded feed; its server runs on its own thread.
        let feed = self.ui.map { _ in LiveFeed(start: startedAt) }
        var viewServer: ViewServer?
        if let ui = self.ui, let feed {
            let (uiHost, uiPort) = try Self.parseListen(ui, option: "--ui")
            do {
                let server = try await ViewServer(
                    model: ViewModel(feed: feed, redacted: !self.capture.keepCredentials),
                    configuration: .init(host: uiHost, port: uiPort))
                viewServer = server
                Self.printErr("siotape: live view at \(server.url)")
            } catch {
                Self.fail("cannot serve the live view on \(ui): \(error)")
            }
        }
        let sink = FanOutSink(writer: writer, liveView: liveView, feed: feed)
        let hub = CaptureHub(configuration: try self.capture.configuration(), sink: sink, logger: logger)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
        let proxy = try RecordingProxy(
            configuration: ProxyConfiguration(
                upstream: upstream, listenHost: host, listenPort: port, rewriteHost: self.rewriteHost,
                insecureTLS: self.insecure),
            hub: hub, group: group, logger: logger
        ) { address in
            Self.printErr(
                "siotape: listening on \(address.ipAddress ?? host):\(address.port ?? port)"
                    + " → \(upstream), recording to \(path)")
        }
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: proxy)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        var failure: (any Error)?
        do {
            try await services.run()
        } catch {
            failure = error
        }
        try? await group.shutdownGracefully()
        proxy.finishCapture()
        liveView?.close()
        await viewServer?.close()
        let closeError: (any Error)?
        do {
            try writer.close()
            closeError = nil
        } catch {
            closeError = error
        }

        let statistics = hub.statistics
        Self.printErr(
            "siotape: \(statistics.sessionsOpened) session(s), \(statistics.socketIOPackets) Socket.IO and "
                + "\(statistics.engineIOPackets) Engine.IO packet(s); recording \(path) "
                + "(\(writer.statistics.records) records, \(writer.statistics.compressedBytes) bytes"
                + (writer.statistics.droppedRecords > 0 ? ", \(writer.statistics.droppedRecords) records dropped)" : ")"))
        if let failure {
            Self.fail("\(failure)")
        }
        if let storageFailure = writer.failure.map({ "\($0)" }) ?? closeError.map({ "\($0)" }) {
            Self.fail("the recording is incomplete: \(storageFailure)")
        }
    }

    static func makeLogger() -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        var logger = Logger(label: "siotape")
        logger.logLevel = .info
        return logger
    }

    static func printErr(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        _ = bytes.withUnsafeBytes { Platform.writeAll(STDERR_FILENO, $0) }
    }

    static func fail(_ message: String) -> Never {
        Self.printErr("siotape: error: \(message)")
        Platform.exit(2)
    }
}

enum LiveMode: String, ExpressibleByArgument, CaseIterable {
    case text, jsonl, off
}

enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never

    func enabled(forFileDescriptor descriptor: Int32) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto: return isatty(descriptor) != 0 && getenv("NO_COLOR") == nil
        }
    }
}

/// Every record goes to the recording and, when on, the terminal live view and the browser view.
/// Both views follow the recording's lines, so the capture writes lines into the recording
/// directly (its fast path, whatever the views) and each line is encoded once.
struct FanOutSink: RecordSink, RecordLineFollower {
    let writer: RecordingWriter
    /// The terminal live view (`--live text|jsonl`).
    let liveView: LiveView?
    /// The browser view's bounded feed (`--ui`).
    var feed: LiveFeed? = nil

    var lineWriter: RecordingWriter? { self.writer }

    var lineFollower: (any RecordLineFollower)? { self.feed != nil || self.liveView != nil ? self : nil }

    func follow(lines: UnsafeRawBufferPointer, count: Int) {
        self.feed?.follow(lines: lines, count: count)
        self.liveView?.follow(lines: lines, count: count)
    }

    func receive(_ record: Record) {
        self.receive(contentsOf: [record])
    }

    func receive(contentsOf records: [Record]) {
        // Encoded once: the views get the bytes the recording got.
        if let follower = self.lineFollower {
            self.writer.append(contentsOf: records, follower: follower)
        } else {
            self.writer.append(contentsOf: records)
        }
    }
}
