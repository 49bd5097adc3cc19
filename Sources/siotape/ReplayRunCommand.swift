import ArgumentParser
import Foundation
import Logging
import NIOCore
import SIOProxy
import SIORecording
import SIOReplay
import SIOWire

struct ReplayRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replay the recorded clients against a live server and report where its answers differ.",
        discussion: """
            Every recorded client session is reconnected to --target (same Engine.IO version, handshake \
            path and query, transport and upgrade as recorded unless overridden), all sessions concurrently \
            at their recorded start offsets. The recorded client packets are sent with the recorded pacing \
            (scaled by --speed), or with --fast as soon as the server packets recorded before them have \
            arrived; a client packet never goes out before the server packets recorded before it (in any \
            session) have arrived or --timeout has passed. Heartbeats are answered live; ack ids the live \
            server chooses are mapped to the recorded ones.

            What the server sends is compared with the recording per session and namespace: packet types, \
            event names, arguments (JSON-aware: key order and number spelling do not matter), ack payloads, \
            binary attachments byte for byte, connect errors, missing and extra packets, and order. \
            Server-issued ids (every session's Engine.IO sid and Socket.IO ids) are mapped from recorded \
            to live wherever they appear in a JSON string, whole or embedded (--no-map-ids turns this \
            off), also in the client packets sent. The sid in a server CONNECT is always ignored; \
            --ignore removes more (JSON paths on the packet's \
            payload: for an EVENT `$[0]` is the event name and `$[1]` the first argument).

            Recordings are redacted, so credentials come from you: --auth JSON replaces every CONNECT \
            payload that was redacted, --auth SESSION=JSON the one of a session (recorded sid or number \
            from 0), and SIOTAPE_AUTH in the environment acts as --auth JSON. --auth-file FILE holds a \
            JSON object of payloads for redacted CONNECTs keyed by session, namespace (/admin) or \
            SESSION:/ns (the most specific wins, before --auth JSON). A redacted CONNECT that nothing \
            replaces is an error naming its session and namespace (`siotape inspect REC \
            --list-sessions` lists them). --query replaces handshake query values.

            A session ends at its recorded close, whoever closed it in the recording (client packets \
            recorded after the close were in flight and go out just before it; server packets recorded \
            after it are optional).

            --http also replays the app's other HTTP requests (a login, a POST that creates what a \
            Socket.IO event then joins), each at its place in the timeline, and compares the status and \
            the body (JSON-aware, with --ignore and the id mapping; other bodies byte for byte). Their \
            redacted values come from --secret [N:]NAME=VALUE (a JSON member, form field or query \
            parameter; NAME:=JSON for raw JSON; SIOTAPE_SECRET_<NAME> in the environment) and \
            --header '[N:]Name: value', N being the request's number (`siotape inspect REC \
            --list-sessions` lists them); a redacted body value left without one is an error.

            Details: docs/replay-run.md. Differences go to stdout, one readable block each; the summary \
            goes to stderr.
            --record-to FILE writes what the live server answered as a new recording (the client packets \
            as sent, the server's as received, live sids; credentials from --auth are not written), to \
            update a fixture after an intended change.

            Exit status: 0 identical, 1 differences, 2 error (bad recording, target unreachable, usage).

            Examples:
              siotape replay run recordings/chat-acks.siotape.gz --target http://127.0.0.1:5000
              siotape replay run rec.siotape.gz --target http://127.0.0.1:5000 --fast --report junit.xml
              siotape replay run rec.siotape.gz --target localhost:5000 --auth '{"token":"dev-token"}' \\
                  --ignore '$..timestamp' --ignore '$[1].messageId'
            """
    )

    @Argument(help: "The recording to replay.")
    var recording: String

    @Option(help: "The live server, http://HOST:PORT.")
    var target: String

    @Option(help: "Pacing factor: 2 replays twice as fast as recorded.")
    var speed: Double = 1

    @Flag(help: "Do not keep the recorded pacing: send each packet once what it followed has arrived.")
    var fast = false

    @Option(name: .customLong("session"), help: "Replay only this session (recorded sid or number from 0); repeatable.")
    var sessions: [String] = []

    @Option(
        name: .customLong("auth"),
        help: "CONNECT payload (JSON) for redacted CONNECTs, or SESSION=JSON for one session; repeatable."
    )
    var auths: [String] = []

    @Option(
        help: ArgumentHelp(
            "A JSON object of CONNECT payloads for redacted CONNECTs, keyed by session (number or recorded sid), "
                + "namespace, or SESSION:/ns.",
            valueName: "file"
        )
    )
    var authFile: String?

    @Flag(help: "Also replay the recorded plain HTTP requests (not Engine.IO) in timeline order and compare their answers.")
    var http = false

    @Option(
        name: .customLong("secret"),
        help: ArgumentHelp(
            "With --http: a value for redacted JSON members, form fields and query parameters named NAME "
                + "(N: only in request N; NAME:=JSON for raw JSON); repeatable.",
            valueName: "[N:]NAME=VALUE"
        )
    )
    var secrets: [String] = []

    @Option(
        name: .customLong("header"),
        help: ArgumentHelp(
            "With --http: set this header on the replayed requests (N: only on request N), replacing the recorded "
                + "value, redacted or not; repeatable.",
            valueName: "[N:]Name: value"
        )
    )
    var headers: [String] = []

    @Option(name: .customLong("query"), help: "Set a handshake query value, NAME=VALUE; repeatable.")
    var queries: [String] = []

    @Option(help: "Use this transport instead of the recorded one: polling or websocket (no upgrade).")
    var transport: TransportChoice?

    @Option(name: .customLong("ignore"), help: "A JSON path to leave out of the comparison, e.g. '$..id'; repeatable.")
    var ignores: [String] = []

    @Option(
        help: ArgumentHelp(
            "Write what the live server answered as a new recording (same format; never overwrites a file).",
            valueName: "file"
        )
    )
    var recordTo: String?

    @Option(help: "Write a JUnit XML report (one test case per session) to this file.")
    var report: String?

    @Option(help: "Seconds to wait for recorded server packets before reporting them missing.")
    var timeout: Double = 5

    @Flag(help: "Do not report packets that arrive in a different order than recorded.")
    var anyOrder = false

    @Flag(help: "Compare server-issued ids (sids, socket ids) as recorded instead of mapping them to the live ones.")
    var noMapIds = false

    @Flag(help: "Print the pacing error of the replayed inter-packet gaps (p50/p99/max) on stderr.")
    var timing = false

    @Option(help: .hidden)
    var timingRaw: String?

    func validate() throws {
        guard self.speed > 0, self.speed.isFinite else { throw ValidationError("--speed must be a positive number") }
        if self.fast && self.speed != 1 { throw ValidationError("--speed and --fast exclude each other") }
        guard self.timeout > 0, self.timeout <= 3600 else {
            throw ValidationError("--timeout must be between 0 and 3600 seconds")
        }
        _ = try self.parsedTarget()
        _ = try self.parsedAuth()
        _ = try self.parsedAuthFile()
        if let path = self.recordTo, FileManager.default.fileExists(atPath: path) {
            throw ValidationError("--record-to: \(path) exists already; siotape never overwrites a recording")
        }
        _ = try self.parsedIgnores()
        _ = try self.parsedQueries()
        _ = try self.parsedHTTPCredentials()
        if !self.http && (!self.secrets.isEmpty || !self.headers.isEmpty) {
            throw ValidationError("--secret and --header apply to --http")
        }
    }

    func run() async throws {
        let options = try self.options()
        let logger = RecordCommand.makeLogger()
        let script: ReplayScript
        do {
            script = try ReplayScript.load(path: self.recording)
        } catch {
            RecordCommand.fail("\(error)")
        }
        if let damage = script.damage {
            if damage.kind == .corrupt { RecordCommand.fail("the recording \(self.recording) is \(damage)") }
            logger.warning("the recording is \(damage); replaying what it holds")
        }
        let selected = script.sessions.filter { s in
            options.sessions.isEmpty || options.sessions.contains(s.sid) || options.sessions.contains(String(s.index))
        }
        for wanted in options.sessions
        where !script.sessions.contains(where: { $0.sid == wanted || String($0.index) == wanted }) {
            RecordCommand.fail("the recording has no session '\(wanted)' (sessions: 0-\(script.sessions.count - 1))")
        }
        guard !selected.isEmpty else { RecordCommand.fail("the recording \(self.recording) holds no session") }
        let missing = options.missingCredentials(in: script.sessions)
        if !missing.isEmpty {
            let list = missing.map { "session \($0.session.index) (\($0.session.sid)) namespace \($0.namespace)" }
            RecordCommand.fail(
                "the recording's CONNECT credentials were redacted and nothing replaces them for: "
                    + list.joined(separator: ", ")
                    + ". Give them with --auth JSON, --auth SESSION=JSON or --auth-file "
                    + "(`siotape inspect \(self.recording) --list-sessions` lists the sessions and their CONNECTs)"
            )
        }

        var exchanges: [RecordedHTTPExchange] = []
        if self.http {
            do {
                exchanges = try RecordedHTTPExchange.load(path: self.recording)
            } catch {
                RecordCommand.fail("\(error)")
            }
            let unfilled = options.httpCredentials.missing(in: exchanges)
            if !unfilled.isEmpty {
                let list = unfilled.map {
                    "http #\($0.index) \($0.exchange.method) \($0.exchange.path): \($0.names.joined(separator: ", "))"
                }
                RecordCommand.fail(
                    "the recording's HTTP requests had redacted values and nothing replaces them for: "
                        + list.joined(separator: "; ") + ". Give them with --secret [N:]NAME=VALUE "
                        + "or SIOTAPE_SECRET_<NAME> (`siotape inspect \(self.recording) --list-sessions` lists the requests)"
                )
            }
        }

        let startedAt = WallClock.nowMicros()
        let result = try await ReplayRunner.run(script: script, http: exchanges, options: options, logger: logger)
        if let error = result.error { RecordCommand.fail(error) }
        if let path = self.recordTo {
            self.writeRecording(result.liveRecords, to: path, startedAt: startedAt, redacted: script.header.redacted)
        }
        // Sessions and HTTP requests in recorded order.
        var blocks: [(time: Int64, text: String)] = []
        for session in result.sessions {
            for difference in session.differences { blocks.append((session.session.openedAt, difference.description)) }
        }
        for request in result.http {
            for difference in request.differences { blocks.append((request.exchange.time, difference.description)) }
        }
        for block in blocks.enumerated().sorted(by: { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }) {
            print(block.element.text + "\n")
        }
        if let report = self.report {
            let xml = JUnitReport.xml(result: result, recording: self.recording, target: self.target)
            do {
                try xml.write(toFile: report, atomically: true, encoding: .utf8)
            } catch {
                RecordCommand.fail("cannot write the report \(report): \(error)")
            }
        }
        for session in result.sessions {
            let verdict = session.differences.isEmpty ? "ok" : "\(session.differences.count) difference(s)"
            RecordCommand.printErr(
                "session \(session.session.index) \(session.session.sid) → \(session.liveSID ?? "-"): "
                    + "\(session.receivedCount)/\(session.session.serverPackets.count) packets, \(verdict)"
            )
        }
        for request in result.http {
            let verdict = request.differences.isEmpty ? "ok" : "\(request.differences.count) difference(s)"
            RecordCommand.printErr(
                "\(request.name) → \(request.status.map(String.init) ?? "no answer") "
                    + "(recorded \(request.exchange.status.map(String.init) ?? "none")), \(verdict)")
        }
        let failing = result.sessions.filter { !$0.differences.isEmpty }.count
        let failingHTTP = result.http.filter { !$0.differences.isEmpty }.count
        RecordCommand.printErr(
            "siotape: replay run: \(result.sessions.count) session(s), \(failing) with differences, "
                + (self.http ? "\(result.http.count) HTTP request(s), \(failingHTTP) with differences, " : "")
                + "\(result.differenceCount) difference(s)"
        )
        if self.timing || self.timingRaw != nil {
            RecordCommand.printErr(Self.timingSummary(result.timingErrorsNanos))
        }
        if let raw = self.timingRaw, let handle = FileHandle(forWritingAtPath: raw) {
            handle.seekToEndOfFile()
            handle.write(Data(result.timingErrorsNanos.map { "\($0)\n" }.joined().utf8))
            try? handle.close()
        }
        if result.differenceCount > 0 { throw ExitCode(1) }
    }

    /// `--record-to`: the run's records as a recording, as `siotape record` writes one.
    private func writeRecording(_ records: [Record], to path: String, startedAt: Int64, redacted: Bool) {
        let header = RecordingHeader(
            startedAtMicros: startedAt,
            tool: "\(Siotape.tool) replay run",
            upstream: self.target,
            redacted: redacted
        )
        do {
            let writer = try RecordingWriter(path: path, header: header)
            writer.append(contentsOf: records)
            try writer.close()
        } catch {
            RecordCommand.fail("cannot write the recording \(path): \(error)")
        }
        let sessions = records.filter { if case .sessionOpened = $0.event { return true } else { return false } }.count
        RecordCommand.printErr("siotape: replay run: wrote \(path) (\(sessions) session(s), \(records.count) records)")
    }

    static func timingSummary(_ errors: [Int64]) -> String {
        guard !errors.isEmpty else { return "timing: no paced gaps" }
        let sorted = errors.map { abs($0) }.sorted()
        func pct(_ p: Double) -> String {
            let v = sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
            return String(format: "%.3f ms", Double(v) / 1_000_000)
        }
        return "timing: \(sorted.count) gaps, |error| p50 \(pct(0.5)), p99 \(pct(0.99)), max \(pct(1))"
    }

    // MARK: - Options

    func options() throws -> ReplayRunOptions {
        let target = try self.parsedTarget()
        let (auth, sessionAuth) = try self.parsedAuth()
        return ReplayRunOptions(
            host: target.host,
            port: target.port,
            speed: self.speed,
            fast: self.fast,
            sessions: self.sessions,
            auth: auth,
            sessionAuth: sessionAuth,
            authFile: try self.parsedAuthFile(),
            query: try self.parsedQueries(),
            transport: self.transport.map { $0 == .polling ? .polling : .websocket },
            ignores: try self.parsedIgnores(),
            timeout: .milliseconds(Int64(self.timeout * 1000)),
            checkOrder: !self.anyOrder,
            mapIDs: !self.noMapIds,
            recordLive: self.recordTo != nil,
            httpCredentials: try self.parsedHTTPCredentials()
        )
    }

    /// `--secret`, `--header` and `SIOTAPE_SECRET_<NAME>`.
    func parsedHTTPCredentials() throws -> HTTPCredentials {
        var credentials = HTTPCredentials()
        for secret in self.secrets where !credentials.addSecret(secret) {
            throw ValidationError("--secret must be [N:]NAME=VALUE or [N:]NAME:=JSON (got \(secret))")
        }
        for header in self.headers where !credentials.addHeader(header) {
            throw ValidationError("--header must be '[N:]Name: value' (got \(header))")
        }
        credentials.addEnvironment(ProcessInfo.processInfo.environment)
        return credentials
    }

    func parsedTarget() throws -> UpstreamURL {
        let url: UpstreamURL
        do {
            url = try UpstreamURL(self.target)
        } catch {
            throw ValidationError("--target: \(error)")
        }
        guard url.scheme == .http else {
            throw ValidationError("--target: only http:// targets are supported by replay run for now")
        }
        return url
    }

    func parsedAuth() throws -> (String?, [String: String]) {
        var global = ProcessInfo.processInfo.environment["SIOTAPE_AUTH"]
        if let env = global, JSONValue(parsing: env) == nil {
            throw ValidationError("SIOTAPE_AUTH is not valid JSON: \(env)")
        }
        var perSession: [String: String] = [:]
        for auth in self.auths {
            let trimmed = auth.drop { $0 == " " }
            if JSONValue(parsing: String(trimmed)) != nil {
                global = String(trimmed)
                continue
            }
            guard let eq = auth.firstIndex(of: "="), JSONValue(parsing: String(auth[auth.index(after: eq)...])) != nil
            else {
                throw ValidationError("--auth must be JSON or SESSION=JSON (got \(auth))")
            }
            perSession[String(auth[..<eq])] = String(auth[auth.index(after: eq)...])
        }
        return (global, perSession)
    }

    /// `--auth-file`: a JSON object whose keys are session numbers, recorded sids, namespaces
    /// (`/admin`) or `SESSION:/ns`, and whose values are the CONNECT payloads.
    func parsedAuthFile() throws -> [String: String] {
        guard let path = self.authFile else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--auth-file: cannot read \(path)")
        }
        guard case .object(let members) = JSONValue(parsing: String(decoding: data, as: UTF8.self)) else {
            throw ValidationError("--auth-file: \(path) is not a JSON object")
        }
        return members.mapValues(\.text)
    }

    func parsedQueries() throws -> [(String, String)] {
        try self.queries.map { q in
            guard let eq = q.firstIndex(of: "="), eq != q.startIndex else {
                throw ValidationError("--query must be NAME=VALUE (got \(q))")
            }
            return (String(q[..<eq]), String(q[q.index(after: eq)...]))
        }
    }

    func parsedIgnores() throws -> [JSONPath] {
        try self.ignores.map { path in
            do {
                return try JSONPath(path)
            } catch {
                throw ValidationError("--ignore: \(error)")
            }
        }
    }
}

enum TransportChoice: String, ExpressibleByArgument, CaseIterable {
    case polling, websocket
}
