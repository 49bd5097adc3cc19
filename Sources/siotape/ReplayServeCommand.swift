import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import SIORecording
import SIOReplay
import ServiceLifecycle

struct ReplayServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a recording as a mock Socket.IO server.",
        discussion: """
            Clients connect to --listen as if it were the recorded server (Engine.IO v3 or v4, long-polling, \
            WebSocket or the upgrade between them, whatever the recording used; heartbeats and sids are live).
            Each client session is paired with a recorded session (--match; by default it stays open to every \
            recorded session consistent with what its client has sent, so clients that connect together in \
            another order than recorded are told apart once their packets diverge), and each of its packets \
            with a recorded client packet. A recorded server packet goes out when what caused it happens live, after \
            the recorded delay: an ack or a reply when its client packet arrives, a broadcast to another session \
            when the packet that caused it arrives there, anything with no cause within --window at its recorded \
            offset from its session's start. Ack ids are mapped to the live client's, and so are sids and socket \
            ids wherever they appear in payloads (--no-map-ids turns the latter off).
            Plain HTTP requests (not Engine.IO) get the recorded answer for their method, path, query (and body \
            when that is all that differs): status, headers (not hop-by-hop ones) and body, in recorded order; \
            --http replaces a body; 404 when the recording has no such request; a request the recorded server \
            answered by dropping a connection drops it again.
            A client packet with no recorded counterpart is reported on stderr (--on-unmatched). The server stops \
            once every recorded session has been served and every client has gone (unless --keep-running), or on \
            Ctrl-C / SIGTERM, and prints a summary on stderr. Exit status: 0, 1 with --on-unmatched fail when \
            a packet did not match, 2 on errors (unreadable recording, address in use).

            Examples:
              siotape replay serve recordings/chat-acks.siotape.gz --listen 127.0.0.1:5000
              siotape replay serve rec.siotape.gz --fast --on-unmatched fail --http 'GET /api/health={"status":"ok"}'
              siotape replay serve recordings/signalling.siotape.gz --http-file tools/apps/signalling/replay-http.txt
              siotape replay serve rec.siotape.gz --session g2-fAMeNJFskXUm-AAAA --match auth
            """
    )

    @Argument(help: "The recording to serve (.siotape.gz).")
    var recording: String

    @Option(help: "Where to listen, HOST:PORT (port 0 picks a free one).")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "Play recorded delays this many times faster (0.5: twice as slow).")
    var speed: Double = 1

    @Flag(help: "Send every server packet as soon as what caused it has happened, ignoring recorded delays.")
    var fast = false

    @Option(name: .customLong("session"), help: "Serve only this recorded session (Engine.IO sid); repeatable.")
    var sessions: [String] = []

    @Option(
        help: """
            How client sessions are paired with recorded ones: auto (every recorded session consistent with \
            what the client has sent so far, narrowed as its packets diverge; recorded order where the \
            recording cannot tell them apart), order (recorded order, at the handshake), namespace (first \
            CONNECT's namespace), auth (and its auth keys), events (first event's name; CONNECTs before it are \
            simply accepted).
            """)
    var match: ServeConfiguration.Matching = .auto

    @Option(help: "A client packet with no recorded counterpart: ignore (report it), close its session, or fail (exit 1).")
    var onUnmatched: ServeConfiguration.UnmatchedPolicy = .ignore

    @Option(
        help: ArgumentHelp(
            "The body of a plain HTTP response: 'METHOD /path=BODY' or 'METHOD /path=@FILE'; repeat for the next answers to the same request.",
            valueName: "METHOD /path=BODY"))
    var http: [String] = []

    @Option(
        help: ArgumentHelp(
            "A file of --http specs, one 'METHOD /path=BODY' per line ('#' comments and blank lines skipped).",
            valueName: "FILE"))
    var httpFile: [String] = []

    @Option(help: "Seconds: a client action at most this long before a server packet may have caused it.")
    var window: Double = 1

    @Flag(
        help: """
            Send recorded payloads as recorded: without it, the server-issued ids of the recording (Engine.IO \
            sids, socket ids) are replaced by the live ones wherever they are a JSON string or part of one \
            (a users list, {"from": socket.id}, "room-<sid>").
            """)
    var noMapIds = false

    @Flag(help: "Keep serving after every recorded session has been served (until Ctrl-C).")
    var keepRunning = false

    @Option(help: "Seconds: close an HTTP connection that has not sent a complete request head for this long.")
    var headTimeout: Double = 60

    /// For tools/bench/serve-timing: appends each server packet's lateness (ns) to this file.
    @Option(help: .hidden)
    var timingRaw: String?

    func validate() throws {
        _ = try RecordCommand.parseListen(self.listen)
        guard self.speed > 0, self.speed.isFinite else { throw ValidationError("--speed must be a positive number") }
        guard !self.fast || self.speed == 1 else { throw ValidationError("--speed and --fast exclude each other") }
        guard self.window >= 0, self.window <= 3600 else { throw ValidationError("--window must be 0-3600 seconds") }
        guard self.headTimeout > 0, self.headTimeout <= 86400 else {
            throw ValidationError("--head-timeout must be more than 0 and at most 86400 seconds")
        }
        _ = try self.httpBodies()
    }

    func httpBodies() throws -> [String: [String]] {
        var bodies: [String: [String]] = [:]
        var specs: [String] = []
        for path in self.httpFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--http-file: cannot read \(path)")
            }
            specs += String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter {
                !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#")
            }
        }
        for item in specs + self.http {
            guard let equals = item.firstIndex(of: "=") else {
                throw ValidationError("--http must be 'METHOD /path=BODY' (got '\(item)')")
            }
            let request = item[..<equals].split(separator: " ", omittingEmptySubsequences: true)
            guard request.count == 2, request[1].hasPrefix("/") else {
                throw ValidationError("--http must start with a method and a path, e.g. 'GET /api/rooms=...' (got '\(item)')")
            }
            var body = String(item[item.index(after: equals)...])
            if body.hasPrefix("@") {
                let path = String(body.dropFirst())
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("--http: cannot read \(path)")
                }
                body = String(decoding: data, as: UTF8.self)
            }
            bodies["\(request[0].uppercased()) \(request[1])", default: []].append(body)
        }
        return bodies
    }

    func run() async throws {
        let logger = RecordCommand.makeLogger()
        let (host, port) = try RecordCommand.parseListen(self.listen)
        let script: ReplayScript
        let http: [RecordedHTTPExchange]
        do {
            script = try ReplayScript.load(path: self.recording)
            http = try RecordedHTTPExchange.load(path: self.recording)
        } catch {
            RecordCommand.fail("cannot read the recording: \(error)")
        }
        if let damage = script.damage, damage.kind == .corrupt || damage.offset == 0 {
            logger.warning("the recording is damaged (\(damage)); serving what came before the damage")
        }
        let known = Set(script.sessions.map(\.sid))
        for sid in self.sessions where !known.contains(sid) {
            RecordCommand.fail("--session \(sid): no such session in \(self.recording) (sessions: \(script.sessions.map(\.sid).joined(separator: ", ")))")
        }
        guard !script.sessions.isEmpty else {
            RecordCommand.fail("\(self.recording) holds no Engine.IO session to serve")
        }

        var configuration = ServeConfiguration(
            host: host, port: port, speed: self.speed, fast: self.fast, sessions: self.sessions, matching: self.match,
            onUnmatched: self.onUnmatched, causalityWindowMicros: Int64(self.window * 1_000_000),
            httpBodies: try self.httpBodies(), exitWhenDone: !self.keepRunning)
        configuration.headTimeoutMillis = Int64(self.headTimeout * 1000)
        configuration.mapIDs = !self.noMapIds
        let plan = ServePlan(script: script, http: http, windowMicros: configuration.causalityWindowMicros)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recording = self.recording
        let served = self.sessions.isEmpty ? script.sessions.count : self.sessions.count
        let server = ReplayServer(
            plan: plan, configuration: configuration, group: group, logger: logger,
            report: { line in RecordCommand.printErr("siotape: \(line)") },
            onListening: { address in
                RecordCommand.printErr(
                    "siotape: replaying \(recording) on \(address.ipAddress ?? host):\(address.port ?? port)"
                        + " (\(served) session(s))")
            })
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        var failure: (any Error)?
        do {
            try await services.run()
        } catch {
            failure = error
        }
        let summary = try? await server.summary
        try? await group.shutdownGracefully()
        if let failure { RecordCommand.fail("\(failure)") }
        guard let summary else { return }
        RecordCommand.printErr("siotape: replay summary: \(summary.description)")
        if let raw = self.timingRaw, let handle = FileHandle(forWritingAtPath: raw) {
            handle.seekToEndOfFile()
            handle.write(Data(summary.latenessMicros.map { "\($0 * 1000)\n" }.joined().utf8))
            try? handle.close()
        }
        if self.onUnmatched == .fail, summary.clientPacketsUnmatched > 0 {
            RecordCommand.printErr("siotape: \(summary.clientPacketsUnmatched) client packet(s) did not match the recording")
            throw ExitCode(1)
        }
    }
}

extension ServeConfiguration.Matching: ExpressibleByArgument {}
extension ServeConfiguration.UnmatchedPolicy: ExpressibleByArgument {}
