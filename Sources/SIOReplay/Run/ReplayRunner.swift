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
    private let timeline: ReplayTimeline
    private var sessions: [Int: LiveSession] = [:]
    private var next = 0
    /// Expectations before this index have arrived or were given up.
    private var satisfied = 0
    private var givenUp = Set<Int>()
    private var waitingSince: NIODeadline?
    private var wakeUp: Scheduled<Void>?
    private var lastStep: (recorded: Int64, actual: NIODeadline)?
    private var timingErrors: [Int64] = []
    private var runError: String?
    private var done: EventLoopPromise<Void>
    private var finished = false
    /// What went over the wire, for `--record-to`.
    private var live: LiveRecording?
    /// Server-issued ids of every session, recorded ↔ live (empty with `mapIDs` off).
    private var ids = IDMapping()
    /// How long before a step's time its timer fires; the rest is waited out on the loop.
    private static let spin = TimeAmount.microseconds(300)

    private init(script: ReplayScript, options: ReplayRunOptions, logger: Logger, loop: EventLoop) {
        self.script = script
        self.options = options
        self.logger = logger
        self.loop = loop
        let selected = script.sessions.filter { options.selects($0) }
        self.timeline = ReplayTimeline(sessions: selected, endTime: script.endTime)
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

    /// Replays `script` against the target in `options` and returns what differed.
    package static func run(
        script: ReplayScript,
        options: ReplayRunOptions,
        logger: Logger
    ) async throws
        -> ReplayRunResult
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let runner = ReplayRunner(script: script, options: options, logger: logger, loop: loop)
        let result = try await loop.flatSubmit { () -> EventLoopFuture<ReplayRunResult> in
            runner.advance()
            return runner.done.futureResult.map { runner.result() }
        }.get()
        try await group.shutdownGracefully()
        return result
    }

    // MARK: - Driving the timeline

    private func advance() {
        while self.next < self.timeline.steps.count, self.runError == nil {
            let step = self.timeline.steps[self.next]
            let now = NIODeadline.now()
            let due = self.due(step)
            if now < due {
                // Timers fire a little late; wake up early and wait out the last stretch on the
                // loop, so the step goes out on time.
                if due - now > Self.spin {
                    self.sleep(until: due - Self.spin)
                    return
                }
                while NIODeadline.now() < due {}
            }
            if !self.ready(for: step) {
                let since = self.waitingSince ?? max(due, now)
                self.waitingSince = since
                if now >= since + self.options.timeout {
                    self.giveUp(step)
                    continue
                }
                self.sleep(until: since + self.options.timeout)
                return
            }
            let waited = self.waitingSince != nil
            self.waitingSince = nil
            self.execute(step)
            let actual = NIODeadline.now()
            if !waited, !self.options.fast, let last = self.lastStep, case .send = step.action {
                let recordedGap = Double(step.time - last.recorded) * 1000 / self.options.speed
                self.timingErrors.append((actual - last.actual).nanoseconds - Int64(recordedGap))
            }
            self.lastStep = (step.time, actual)
            self.next += 1
        }
        if self.next >= self.timeline.steps.count || self.runError != nil {
            self.finishAll()
        }
    }

    private func due(_ step: ReplayTimeline.Step) -> NIODeadline {
        guard !self.options.fast, let last = self.lastStep else { return .uptimeNanoseconds(0) }
        let gap = Double(max(0, step.time - last.recorded)) * 1000 / self.options.speed
        return last.actual + .nanoseconds(Int64(gap))
    }

    private func sleep(until deadline: NIODeadline) {
        self.wakeUp?.cancel()
        self.wakeUp = self.loop.scheduleTask(deadline: deadline) {
            self.wakeUp = nil
            self.advance()
        }
    }

    /// Something arrived that a waiting step may need.
    private func poke() {
        guard self.waitingSince != nil else { return }
        self.wakeUp?.cancel()
        self.wakeUp = nil
        self.advance()
    }

    private func ready(for step: ReplayTimeline.Step) -> Bool {
        while self.satisfied < step.prerequisites {
            let e = self.timeline.expectations[self.satisfied]
            let session = self.sessions[e.session]!
            guard
                self.givenUp.contains(self.satisfied) || session.ended
                    || session.matcher.hasArrived(packetIndex: e.packetIndex)
            else { return false }
            self.satisfied += 1
        }
        if case .send = step.action {
            let session = self.sessions[step.session]!
            return session.ready || session.ended
        }
        return true
    }

    private func giveUp(_ step: ReplayTimeline.Step) {
        for i in self.satisfied..<step.prerequisites { self.givenUp.insert(i) }
        if case .send = step.action, let session = self.sessions[step.session], !session.ready, !session.ended {
            session.sessionDifferences.append(
                ReplayDifference(
                    kind: .session,
                    sessionIndex: session.script.index,
                    sid: session.script.sid,
                    detail: "the session was not open after \(self.options.timeout.nanoseconds / 1_000_000) ms"
                )
            )
            self.end(session)
        }
        self.waitingSince = nil
    }

    private func execute(_ step: ReplayTimeline.Step) {
        let session = self.sessions[step.session]!
        switch step.action {
        case .open:
            session.openedAt = .now()
            let client = EngineIOClient(loop: self.loop, configuration: self.clientConfiguration(session.script)) {
                [unowned session] event in
                self.handle(event, session)
            }
            session.client = client
            client.start()
        case .send(let index):
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
            session.matcher.receive(packet, ids: self.ids)
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
    }

    private func finishAll() {
        guard !self.finished else { return }
        self.finished = true
        self.wakeUp?.cancel()
        for session in self.sessions.values where !session.ended {
            session.client?.close()
            self.end(session)
        }
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
        return ReplayRunResult(
            sessions: sessions,
            error: self.runError,
            timingErrorsNanos: self.timingErrors,
            liveRecords: self.live?.records ?? []
        )
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
