import ArgumentParser
import NIOCore
import SIOInspect
import SIORecording
import SIOReplay
import SIOView
import SIOWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show, filter, summarise and export recordings.",
        discussion: """
            One line per packet: time, session, direction (→ client to server, ← server to client), transport, \
            namespace, packet type, event, ack id (and for an ACK its latency), arguments. Several recordings \
            are merged by time. Engine.IO and connection-level records (ping, pong, polling bodies, HTTP \
            exchanges, TCP connections) are shown with --engine. Filters combine with AND; a repeated filter \
            matches any of its values. A damaged recording is shown up to the damage and from the next \
            readable gzip member on, with a warning on stderr.

            --format jsonl writes one JSON object per record: the recording's line with wall_us, rel_us \
            (and file, ack_event) added; --format har writes HAR 1.2 for Chrome DevTools (one entry per \
            session, its packets as WebSocket messages); --format html writes one self-contained page (the \
            browser view of `siotape view`, with the selected records in it) that opens from a file. Field \
            names: docs/inspect.md.

            Exit status: 0, or 1 when a recording is damaged (records lost; a missing end trailer alone, \
            as after kill -9 or while recording, is only reported), 2 for usage errors and unreadable files.

            Examples:
              siotape inspect recordings/chat-acks.siotape.gz
              siotape inspect rec.siotape.gz --event 'message:*' --direction client --since 2s --until 10s
              siotape inspect rec.siotape.gz --stats
              siotape inspect rec.siotape.gz --list-sessions
              siotape inspect a.siotape.gz b.siotape.gz --format jsonl | jq -c 'select(.type == "ACK")'
              siotape inspect rec.siotape.gz --format har > session.har
              siotape inspect rec.siotape.gz --format html > report.html
              siotape inspect recordings/live.siotape.gz --follow
            """
    )

    @Argument(help: "Recordings to read (merged by time).")
    var recordings: [String]

    @Option(name: .customLong("session"), help: "Only this session id (or a prefix of it); repeatable.")
    var sessions: [String] = []

    @Option(name: .customLong("namespace"), help: "Only Socket.IO packets of this namespace; repeatable.")
    var namespaces: [String] = []

    @Option(name: .customLong("event"), help: "Only this event (glob: * and ?) and its acks; repeatable.")
    var events: [String] = []

    @Option(help: "Only packets sent by the client or by the server.")
    var direction: DirectionChoice?

    @Option(name: .customLong("type"), help: "Only this packet type (EVENT, ACK, CONNECT_ERROR, ping, ...); repeatable.")
    var types: [String] = []

    @Option(help: "From this time: seconds since the start (90, 1.5s, 250ms, 2m) or ISO-8601 (2026-11-21T17:51:30Z).")
    var since: String?

    @Option(help: "Up to this time, as --since.")
    var until: String?

    @Option(help: "Only packets whose arguments or data contain this text.")
    var grep: String?

    @Flag(help: "Also show Engine.IO and connection-level records (ping, pong, noop, polling bodies, HTTP, TCP).")
    var engine = false

    @Option(help: "Output: text, jsonl, har or html.")
    var format: OutputFormat = .text

    @Flag(help: "Statistics instead of packets: sessions, traffic per direction and namespace, events, ack latency, errors (text, or one JSON object with --format jsonl).")
    var stats = false

    @Flag(
        help: "List the sessions as replay numbers them (the SESSION of replay run's --session and --auth), each with its CONNECTs, and the plain HTTP requests (the N of replay run's --secret), redacted ones marked."
    )
    var listSessions = false

    @Flag(help: "Keep reading a recording that is being written, until it is closed (one recording only).")
    var follow = false

    @Flag(help: "Text view: wall-clock times (UTC) instead of seconds since the start.")
    var wallClock = false

    @Flag(help: "Text view: show arguments in full (on a terminal they are cut to its width).")
    var full = false

    @Option(help: "Colours in the text view: auto (on a terminal), always or never.")
    var color: ColorChoice = .auto

    /// `--list-sessions`: one line per session, then one per client CONNECT.
    static func sessionList(_ script: ReplayScript) -> String {
        var out = ""
        for session in script.sessions {
            let transport = session.initialTransport.rawValue + (session.upgradedAt != nil ? "→websocket" : "")
            let namespaces = Set(session.packets.map(\.namespace)).count
            out += "session \(session.index) \(session.sid) EIO\(session.engineIOVersion.rawValue) \(transport), "
                + "\(session.packets.count) packets in \(namespaces) namespace(s)\n"
            for packet in session.clientPackets where packet.type == .connect {
                let payload = packet.dataText ?? "(no payload)"
                let marker = packet.redacted && payload.contains("[redacted]") ? "  redacted: needs --auth" : ""
                out += "  CONNECT \(packet.namespace) \(payload)\(marker)\n"
            }
        }
        return out
    }

    /// `--list-sessions`, continued: one line per plain HTTP request as `replay run --http` numbers
    /// them (the N of `--secret N:NAME=VALUE`), the redacted ones marked.
    static func requestList(_ exchanges: [RecordedHTTPExchange]) -> String {
        var out = ""
        for (index, exchange) in exchanges.enumerated() {
            let missing = HTTPCredentials().missing(in: [exchange]).first?.names ?? []
            let marker = missing.isEmpty ? "" : "  redacted: needs --secret \(index):NAME=VALUE for \(missing.joined(separator: ", "))"
            out += "http #\(index) \(exchange.method) \(exchange.path) → \(exchange.status.map(String.init) ?? "no answer")\(marker)\n"
        }
        return out
    }

    func validate() throws {
        guard !self.recordings.isEmpty else { throw ValidationError("give at least one recording") }
        guard !(self.follow && self.recordings.count > 1) else {
            throw ValidationError("--follow reads one recording")
        }
        guard !(self.stats && (self.format == .har || self.format == .html)) else {
            throw ValidationError("--stats prints text or, with --format jsonl, JSON; not HAR or HTML")
        }
        guard !(self.follow && self.format == .html) else { throw ValidationError("--format html does not --follow") }
        for bound in [self.since, self.until].compactMap({ $0 }) {
            do { _ = try TimeBound(parsing: bound) } catch { throw ValidationError(error.description) }
        }
    }

    func run() throws {
        if self.listSessions {
            guard self.recordings.count == 1 else { RecordCommand.fail("--list-sessions reads one recording") }
            let script: ReplayScript
            do {
                script = try ReplayScript.load(path: self.recordings[0])
            } catch {
                RecordCommand.fail("\(error)")
            }
            print(Self.sessionList(script), terminator: "")
            let exchanges = (try? RecordedHTTPExchange.load(path: self.recordings[0])) ?? []
            print(Self.requestList(exchanges), terminator: "")
            return
        }
        if self.format == .html { return try self.report() }
        var options = Inspector.Options()
        options.format = self.format.inspectorFormat ?? .text
        options.stats = self.stats
        options.follow = self.follow
        options.wallClock = self.wallClock
        options.toolVersion = Siotape.version
        options.colors = self.format == .text && self.color.enabled(forFileDescriptor: STDOUT_FILENO)
        options.filter.sessions = self.sessions
        options.filter.namespaces = self.namespaces
        options.filter.events = self.events
        options.filter.direction = self.direction?.direction
        options.filter.types = self.types
        options.filter.grep = self.grep
        options.filter.engine = self.engine
        options.since = try self.since.map { try TimeBound(parsing: $0) }
        options.until = try self.until.map { try TimeBound(parsing: $0) }
        if !self.full, isatty(STDOUT_FILENO) != 0 {
            options.argumentWidth = max(20, terminalColumns() - 48)
        }
        let inspector: Inspector
        do {
            inspector = try Inspector(paths: self.recordings, options: options)
        } catch {
            RecordCommand.fail("\(error)")
        }
        let progress = isatty(STDERR_FILENO) != 0 && !self.follow ? ProgressLine() : nil
        let outcome: Inspector.Outcome
        do {
            // The progress line is erased before output, which may go to the same terminal.
            outcome = try inspector.run(
                write: { chunk in
                    progress?.clear()
                    try writeAll(chunk)
                },
                progress: progress.map { p in { p.show($0, $1, $2) } }
            )
        } catch {
            progress?.clear()
            RecordCommand.fail("\(error)")
        }
        progress?.clear()
        for (path, damage) in outcome.damages {
            RecordCommand.printErr("siotape: warning: \(path): \(damage)")
        }
        if outcome.lostRecords { throw ExitCode(1) }
    }
}

extension InspectCommand {
    /// `--format html`: the browser view as one file, over the records the filters select.
    func report() throws {
        var filter = PacketFilter()
        filter.sessions = self.sessions
        filter.namespaces = self.namespaces
        filter.events = self.events
        filter.direction = self.direction?.direction
        filter.types = self.types
        filter.grep = self.grep
        let model: ViewModel
        do {
            model = try ViewModel(
                paths: self.recordings, filter: filter, since: try self.since.map { try TimeBound(parsing: $0) },
                until: try self.until.map { try TimeBound(parsing: $0) }, mode: "report")
        } catch {
            RecordCommand.fail("\(error)")
        }
        try writeAll(StaticReport.render(model))
    }
}

/// `inspect --format`: the formats of `Inspector`, and the HTML report of SIOView.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, jsonl, har, html

    var inspectorFormat: Inspector.Format? { Inspector.Format(rawValue: self.rawValue) }
}

enum DirectionChoice: String, ExpressibleByArgument, CaseIterable {
    case client, server

    var direction: Direction { self == .client ? .clientToServer : .serverToClient }
}


/// Writes all of `buffer` to stdout; a closed pipe (`| head`) ends the program quietly.
func writeAll(_ buffer: ByteBuffer) throws {
    switch buffer.withUnsafeReadableBytes({ Platform.writeAll(STDOUT_FILENO, $0) }) {
    case .written: return
    case .brokenPipe: Platform.exit(0)
    case .failed: throw ExitCode(2)
    }
}

func terminalColumns() -> Int {
    var size = winsize()
    guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 120 }
    return Int(size.ws_col)
}

/// `  42% 12.3 MB/29.0 MB 1.2M records` on stderr, redrawn in place (only on a terminal).
final class ProgressLine {
    private let clock = ContinuousClock()
    private var last: ContinuousClock.Instant?
    private var shown = false

    func show(_ bytes: Int, _ total: Int, _ records: Int) {
        let now = self.clock.now
        if let last = self.last, now - last < .milliseconds(200) { return }
        self.last = now
        let percent = total > 0 ? min(100, bytes * 100 / total) : 0
        let text = "\r\u{1B}[K\(percent)% \(bytes >> 20)/\(total >> 20) MiB, \(records) records"
        _ = text.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        self.shown = true
    }

    func clear() {
        guard self.shown else { return }
        self.shown = false
        _ = "\r\u{1B}[K".withCString { write(STDERR_FILENO, $0, strlen($0)) }
    }
}
