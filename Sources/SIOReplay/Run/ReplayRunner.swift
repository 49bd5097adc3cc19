import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SIOWire

/// `replay run`: plays the client side of every selected recorded session against a live server,
/// concurrently and with the recorded pacing (or `fast`), and compares what the server sends.
///
/// Everything runs on one event loop, so the sessions share one clock and no state is shared
/// across threads; sends are timer tasks on that loop, which keeps the pacing within a
/// fraction of a millisecond.
package final class ReplayRunner: @unchecked Sendable {
    private final class LiveSession {
        let script: ScriptSession
        var matcher: SessionMatcher
        var client: EngineIOClient?
        var liveSID: String?
        var ready = false
        var ended = false
        var closeStepDone = false
        var problems: [String] = []
        var sessionDifferences: [ReplayDifference] = []
        var openedAt: NIODeadline?
        var endedAt: NIODeadline?
        /// Server CONNECTs received so far, per namespace (the nth pairs with the nth recorded).
        var connects: [String: Int] = [:]

        init(script: ScriptSession, matcher: SessionMatcher) {
            self.script = script
            self.matcher = matcher
        }
    }

    private let script: ReplayScript
    private let options: ReplayRunOptions
    private let logger: Logger
    private let loop: EventLoop
    private var pacer: ReplayPacer
    private var sessions: [Int: LiveSession] = [:]
    /// The recorded plain HTTP requests to replay (`--http`), and what became of each.
    private let http: [RecordedHTTPExchange]
    private var httpResults: [Int: ReplayHTTPResult] = [:]
    private var httpChannels: [Int: Channel] = [:]
    private var wakeUp: Scheduled<Void>?
    private var runError: String?
    private var done: EventLoopPromise<Void>
    private var finished = false
    /// What went over the wire, for `--record-to`.
    private var live: LiveRecording?
    /// Server-issued ids of every session, recorded ↔ live (empty with `mapIDs` off).
    private var ids = IDMapping()

    private init(
        script: ReplayScript, http: [RecordedHTTPExchange], options: ReplayRunOptions, logger: Logger, loop: EventLoop
    ) {
        self.script = script
        self.http = http
        self.options = options
        self.logger = logger
        self.loop = loop
        let selected = script.sessions.filter { options.selects($0) }
        let spans = http.map { ReplayTimeline.HTTPSpan(start: $0.time, end: $0.endTime ?? $0.time) }
        self.pacer = ReplayPacer(
            timeline: ReplayTimeline(sessions: selected, http: spans, endTime: script.endTime),
            speed: options.speed, fast: options.fast, timeoutNanos: options.timeout.nanoseconds,
            // What made the server end a session (an admin POST) is replayed only with --http.
            awaitServerCloses: !http.isEmpty)
        let comparer = PacketComparer(ignores: options.ignores)
        for session in selected {
            self.sessions[session.index] = LiveSession(
                script: session,
                matcher: SessionMatcher(session: session, comparer: comparer, checkOrder: options.checkOrder)
            )
        }
        self.done = loop.makePromise()
        if options.recordLive { self.live = LiveRecording(start: .now()) }
    }

    /// Replays `script` against the target in `options` and returns what differed. `http`: the
    /// recording's plain HTTP requests (`RecordedHTTPExchange.load`), replayed in timeline order
    /// with the packets and compared too; empty: Socket.IO only.
    package static func run(
        script: ReplayScript,
        http: [RecordedHTTPExchange] = [],
        options: ReplayRunOptions,
        logger: Logger
    ) async throws
        -> ReplayRunResult
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let runner = ReplayRunner(script: script, http: http, options: options, logger: logger, loop: loop)
        let result = try await loop.flatSubmit { () -> EventLoopFuture<ReplayRunResult> in
            runner.advance()
            return runner.done.futureResult.map { runner.result() }
        }.get()
        try await group.shutdownGracefully()
        return result
    }

    // MARK: - Driving the timeline

    private static func now() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds) }

    /// Runs every step that is due, then sleeps until the pacer's next time.
    private func advance() {
        while self.runError == nil {
            switch self.pacer.next(now: Self.now()) {
            case .run(let step):
                self.execute(step)
            case .gaveUp(let step, let sessionNotOpen, let serverDidNotClose):
                if serverDidNotClose, let s = step.session, let session = self.sessions[s] {
                    session.sessionDifferences.append(
                        ReplayDifference(
                            kind: .session, sessionIndex: session.script.index, sid: session.script.sid,
                            detail: "the server did not end the session within "
                                + "\(self.options.timeout.nanoseconds / 1_000_000) ms, as it did in the recording "
                                + "(\(session.script.closeCause ?? "server"))"))
                }
                guard sessionNotOpen, let s = step.session, let session = self.sessions[s] else { continue }
                session.sessionDifferences.append(
                    ReplayDifference(
                        kind: .session,
                        sessionIndex: session.script.index,
                        sid: session.script.sid,
                        detail: "the session was not open after \(self.options.timeout.nanoseconds / 1_000_000) ms"
                    )
                )
                self.end(session)
            case .wait(let until):
                self.sleep(until: .uptimeNanoseconds(UInt64(max(0, until))))
                return
            case .finished:
                // Answers to HTTP requests recorded after the last session step are still compared.
                guard self.httpChannels.isEmpty && self.httpResults.count == self.startedHTTP else { return }
                self.finishAll()
                return
            }
        }
        self.finishAll()
    }

    private var startedHTTP = 0

    private func sleep(until deadline: NIODeadline) {
        self.wakeUp?.cancel()
        self.wakeUp = self.loop.scheduleTask(deadline: deadline) {
            self.wakeUp = nil
            self.advance()
        }
    }

    /// Something arrived that a waiting step may need.
    private func poke() {
        guard self.pacer.isWaitingForArrivals else { return }
        self.wakeUp?.cancel()
        self.wakeUp = nil
        self.advance()
    }

    private func execute(_ step: ReplayTimeline.Step) {
        if case .http(let index) = step.action {
            self.sendHTTP(index)
            return
        }
        let session = self.sessions[step.session!]!
        switch step.action {
        case .http:
            return
        case .open:
            session.openedAt = .now()
            let client = EngineIOClient(loop: self.loop, configuration: self.clientConfiguration(session.script)) {
                [unowned session] event in
                self.handle(event, session)
            }
            session.client = client
            client.start()
        case .send(_, let index):
            guard !session.ended, let client = session.client else { return }
            let recorded = session.script.packets[index]
            let packet = self.outgoing(recorded, session)
            client.send(packet)
            if self.live != nil {
                // Credentials given with --auth stay out of the new recording: the recorded
                // (redacted) payload is written instead.
                let written = packet.json != recorded.packet.json && recorded.type == .connect
                    ? self.ids.rewriting(recorded.packet, .toLive) : packet
                self.live?.packet(
                    session.script,
                    written,
                    direction: .clientToServer,
                    transport: client.transportInUse,
                    redacted: recorded.redacted,
                    at: .now()
                )
            }
            if packet.type == .disconnect { session.matcher.clientLeft(namespace: packet.namespace) }
        case .close:
            session.closeStepDone = true
            session.client?.close()
            self.end(session, cause: session.script.closeCause ?? "client close packet")
        }
    }

    private func outgoing(_ recorded: ScriptPacket, _ session: LiveSession) -> SocketIOPacket {
        var packet = recorded.packet
        if packet.type == .connect, let payload = self.options.connectPayload(for: session.script, packet: recorded) {
            packet.json = ByteBuffer(string: payload)
        }
        // Ids the recorded client sent (a peer's sid to signal, a room named after it) are the
        // live server's now.
        packet = self.ids.rewriting(packet, .toLive)
        if recorded.isAck, let id = packet.ackID {
            let live = session.matcher.liveAckID(forRecorded: id, namespace: packet.namespace)
            if live != id {
                packet.ackID = live
                packet.rawHeader = nil
            }
        }
        return packet
    }

    // MARK: - Events from the sessions

    private func handle(_ event: EngineIOClient.Event, _ session: LiveSession) {
        switch event {
        case .ready(let sid):
            session.liveSID = sid
            session.ready = true
            self.pacer.sessionOpened(session.script.index)
            if self.options.mapIDs { self.ids.add(recorded: session.script.sid, live: sid) }
            if let client = session.client {
                self.live?.opened(
                    session.script,
                    sid: sid,
                    handshake: client.handshake,
                    initialTransport: client.configuration.transport,
                    upgraded: client.transportInUse == .websocket && client.configuration.transport == .polling,
                    at: .now()
                )
            }
            self.logger.debug("session open", metadata: ["recorded": "\(session.script.sid)", "live": "\(sid)"])
        case .packet(let packet):
            guard !session.ended else { return }
            if packet.type == .connect { self.learnSocketID(packet, session) }
            self.live?.packet(
                session.script,
                packet,
                direction: .serverToClient,
                transport: session.client?.transportInUse ?? .polling,
                at: .now()
            )
            if let recorded = session.matcher.receive(packet, ids: self.ids) {
                self.pacer.arrived(.packet(session: session.script.index, packetIndex: recorded.index))
            }
        case .closed(let reason, let byServer):
            if byServer { self.live?.closed(session.script, cause: "server ended it: \(reason)", at: .now()) }
            if byServer && !session.closeStepDone && session.script.closeCause?.contains("server") != true {
                session.sessionDifferences.append(
                    ReplayDifference(
                        kind: .session,
                        sessionIndex: session.script.index,
                        sid: session.script.sid,
                        detail: "the server ended the session (\(reason)); in the recording the client did"
                    )
                )
            }
            self.end(session)
        case .failed(let reason, let unreachable):
            if unreachable {
                self.runError = reason
            } else {
                session.sessionDifferences.append(
                    ReplayDifference(
                        kind: .session,
                        sessionIndex: session.script.index,
                        sid: session.script.sid,
                        detail: reason
                    )
                )
            }
            self.end(session)
        case .problem(let reason):
            session.problems.append(reason)
            self.logger.warning("\(reason)", metadata: ["session": "\(session.script.sid)"])
        }
        self.poke()
        if self.runError != nil { self.finishAll() }
    }

    /// A server CONNECT carries the live Socket.IO id of its namespace (v5); the recorded one is
    /// in the recorded CONNECT it pairs with.
    private func learnSocketID(_ packet: SocketIOPacket, _ session: LiveSession) {
        let n = session.connects[packet.namespace, default: 0]
        session.connects[packet.namespace] = n + 1
        guard self.options.mapIDs, let json = packet.json,
            let live = JSONValue(parsing: String(buffer: json))?["sid"]?.stringValue
        else { return }
        let recorded = session.script.serverPackets.filter { $0.type == .connect && $0.namespace == packet.namespace }
        guard n < recorded.count, let text = recorded[n].dataText,
            let id = JSONValue(parsing: text)?["sid"]?.stringValue
        else { return }
        self.ids.add(recorded: id, live: live)
    }

    private func end(_ session: LiveSession, cause: String = "client close packet") {
        guard !session.ended else { return }
        self.live?.closed(session.script, cause: cause, at: .now())
        session.ended = true
        session.endedAt = .now()
        self.pacer.sessionEnded(session.script.index)
    }

    private func finishAll() {
        guard !self.finished else { return }
        self.finished = true
        self.wakeUp?.cancel()
        for session in self.sessions.values where !session.ended {
            session.client?.close()
            self.end(session)
        }
        for channel in self.httpChannels.values { channel.close(promise: nil) }
        self.succeedWhenQuiet(deadline: .now() + .seconds(1))
    }

    /// Lets the last close packets and connection closes finish before the loop goes away.
    private func succeedWhenQuiet(deadline: NIODeadline) {
        if NIODeadline.now() >= deadline || self.sessions.values.allSatisfy({ $0.client?.isQuiet ?? true }) {
            self.done.succeed()
            return
        }
        self.loop.scheduleTask(in: .milliseconds(5)) { self.succeedWhenQuiet(deadline: deadline) }
    }

    private func result() -> ReplayRunResult {
        let sessions = self.sessions.values.sorted { $0.script.index < $1.script.index }.map { s in
            ReplaySessionResult(
                session: s.script,
                liveSID: s.liveSID,
                differences: s.sessionDifferences + (s.client == nil ? [] : s.matcher.differences(ids: self.ids)),
                problems: s.problems,
                receivedCount: s.matcher.receivedCount,
                durationMicros: s.openedAt.map { ((s.endedAt ?? .now()) - $0).nanoseconds / 1000 } ?? 0
            )
        }
        var result = ReplayRunResult(
            sessions: sessions,
            error: self.runError,
            timingErrorsNanos: self.pacer.timingErrors,
            liveRecords: self.live?.records ?? []
        )
        result.http = self.http.indices.map { i in
            self.httpResults[i]
                ?? ReplayHTTPResult(
                    index: i, exchange: self.http[i], status: nil,
                    differences: [self.httpDifference(i, .missing, "not sent: the run ended first", received: nil)],
                    durationMicros: 0)
        }
        return result
    }

    // MARK: - Configuration

    private func clientConfiguration(_ session: ScriptSession) -> EngineIOClient.Configuration {
        var query = session.query.map { ($0.name, $0.value) }
        for (name, value) in self.options.query {
            if query.contains(where: { $0.0 == name }) {
                query = query.map { $0.0 == name ? (name, value) : $0 }
            } else {
                query.append((name, value))
            }
        }
        var headers = HTTPHeaders()
        let skipped: Set<String> = ["host", "connection", "upgrade", "content-length", "transfer-encoding"]
        for header in session.headers
        where !skipped.contains(header.name.lowercased()) && !header.name.lowercased().hasPrefix("sec-websocket")
            && !header.value.contains("[redacted]")
        {
            headers.add(name: header.name, value: header.value)
        }
        headers.replaceOrAdd(name: "Host", value: "\(self.options.host):\(self.options.port)")
        // An Origin on the loopback named the recording proxy's own address; servers that check
        // Origin against Host would refuse it, so it becomes the target's. Others are kept.
        if let origin = headers.first(name: "Origin"), Self.isLoopbackOrigin(origin) {
            headers.replaceOrAdd(name: "Origin", value: "http://\(self.options.host):\(self.options.port)")
        }
        let transport = self.options.transport ?? session.initialTransport
        return EngineIOClient.Configuration(
            host: self.options.host,
            port: self.options.port,
            path: session.path,
            query: query,
            version: session.engineIOVersion,
            transport: transport,
            upgrade: self.options.transport == nil && session.upgraded,
            headers: headers
        )
    }

    static func isLoopbackOrigin(_ origin: String) -> Bool {
        guard let scheme = origin.firstIndex(of: ":"), origin[scheme...].hasPrefix("://") else { return false }
        let rest = origin[origin.index(scheme, offsetBy: 3)...]
        return rest.hasPrefix("127.") || rest.hasPrefix("localhost") || rest.hasPrefix("[::1]")
    }
}

// MARK: - Plain HTTP requests (`--http`)

extension ReplayRunner {
    /// Sends recorded request `index` (its redacted values filled, its ids mapped) on a connection
    /// of its own; the answer is compared when it has ended, or reported missing after `timeout`.
    fileprivate func sendHTTP(_ index: Int) {
        let exchange = self.http[index]
        let request = self.options.httpCredentials.request(
            for: exchange, index: index, host: self.options.host, port: self.options.port, ids: self.ids)
        let started = NIODeadline.now()
        self.startedHTTP += 1
        if exchange.requestBodyCut {
            self.logger.warning("\(self.httpName(index)): the recording kept only the head of the request body; sending that")
        }
        let timeout = self.loop.scheduleTask(in: self.options.timeout) {
            self.httpChannels.removeValue(forKey: index)?.close(promise: nil)
            self.httpAnswered(
                index, started: started, status: nil,
                differences: [
                    self.httpDifference(
                        index, .missing, "no whole answer within \(self.options.timeout.nanoseconds / 1_000_000) ms",
                        received: nil)
                ])
        }
        HTTPExchange.send(
            on: self.loop, host: self.options.host, port: self.options.port, head: request.head, body: request.body,
            channel: { channel in
                self.loop.execute { if self.httpResults[index] == nil { self.httpChannels[index] = channel } }
            }
        ).whenComplete { result in
            timeout.cancel()
            self.httpChannels.removeValue(forKey: index)
            guard self.httpResults[index] == nil, !self.finished else { return }
            switch result {
            case .success(let response):
                let comparer = HTTPResponseComparer(comparer: PacketComparer(ignores: self.options.ignores))
                let status = Int(response.head.status.code)
                let detail = comparer.difference(
                    recorded: exchange, status: status,
                    contentEncoding: response.head.headers.first(name: "Content-Encoding"), body: response.body,
                    ids: self.ids)
                let received = "\(status) " + Self.excerpt(response.body)
                self.httpAnswered(
                    index, started: started, status: status,
                    differences: detail.map { [self.httpDifference(index, .changed, $0, received: received)] } ?? [])
            case .failure(let error as NIOConnectionError):
                self.runError = "\(self.options.host):\(self.options.port) is unreachable: \(error)"
                self.httpAnswered(index, started: started, status: nil, differences: [])
            case .failure(let error):
                self.httpAnswered(
                    index, started: started, status: nil,
                    differences: [self.httpDifference(index, .missing, "no answer: \(error)", received: nil)])
            }
        }
    }

    private func httpAnswered(_ index: Int, started: NIODeadline, status: Int?, differences: [ReplayDifference]) {
        guard self.httpResults[index] == nil else { return }
        self.httpResults[index] = ReplayHTTPResult(
            index: index, exchange: self.http[index], status: status, differences: differences,
            durationMicros: (NIODeadline.now() - started).nanoseconds / 1000)
        self.pacer.arrived(.response(exchange: index))
        if self.runError != nil {
            self.finishAll()
        } else if self.pacer.isWaitingForArrivals || self.pacer.next >= self.pacer.timeline.steps.count {
            self.wakeUp?.cancel()
            self.wakeUp = nil
            self.advance()
        }
    }

    fileprivate func httpName(_ index: Int) -> String {
        "http #\(index) \(self.http[index].method) \(self.http[index].path)"
    }

    fileprivate func httpDifference(
        _ index: Int, _ kind: ReplayDifference.Kind, _ detail: String, received: String?
    ) -> ReplayDifference {
        let exchange = self.http[index]
        return ReplayDifference(
            kind: kind, sessionIndex: -1, sid: "",
            recorded: exchange.status.map { "\($0) " + Self.excerpt(exchange.responseBody ?? ByteBuffer()) },
            received: received, detail: detail, request: self.httpName(index))
    }

    /// A body for people: its text up to 300 characters, or its size when it is not UTF-8.
    static func excerpt(_ body: ByteBuffer) -> String {
        guard let whole = String(validating: body.readableBytesView, as: UTF8.self) else {
            return "(\(body.readableBytes) bytes)"
        }
        // One line: line breaks written as \n (a JSON answer often ends with one).
        var text = String(whole.prefix(300)).replacingLineBreaks()
        if whole.count > 300 { text += "…" }
        return text
    }
}

extension String {
    fileprivate func replacingLineBreaks() -> String {
        var out = ""
        for character in self {
            switch character {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\r\n": out += "\\r\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
