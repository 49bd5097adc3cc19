import SIORecording
import SIOWire

/// A recording reduced to what replay needs: its header and, per Engine.IO session in recorded
/// order, the handshake and the Socket.IO packets of both directions.
///
/// Plain values, no I/O after loading; both `replay serve` and `replay run` work from it.
///
/// ```swift
/// let script = try ReplayScript.load(path: "recordings/chat-acks.siotape.gz")
/// for session in script.sessions { print(session.sid, session.packets.count) }
/// ```
package struct ReplayScript: Hashable, Sendable {
    package var header: RecordingHeader
    /// Sessions in the order they were opened.
    package var sessions: [ScriptSession]
    /// Where the recording is damaged, if it is; the sessions hold what came before the damage.
    package var damage: RecordingDamage?
    /// The time of the last record read, µs since the start.
    package var endTime: Int64

    package init(header: RecordingHeader, sessions: [ScriptSession], damage: RecordingDamage? = nil, endTime: Int64) {
        self.header = header
        self.sessions = sessions
        self.damage = damage
        self.endTime = endTime
    }

    /// The session the recorded server called `sid`.
    package func session(sid: String) -> ScriptSession? {
        self.sessions.first { $0.sid == sid }
    }

    /// Reads the recording at `path`.
    ///
    /// - Throws: `RecordingReadError` when the file cannot be read as a recording at all. Damage
    ///   later in the file does not throw: it is in `damage`, and the sessions hold what came before.
    package static func load(path: String) throws -> ReplayScript {
        let reader = try RecordingReader(path: path)
        var builder = Builder()
        while let record = try reader.next() {
            builder.add(record)
        }
        return ReplayScript(
            header: reader.header,
            sessions: builder.sessions,
            damage: reader.damage,
            endTime: builder.endTime
        )
    }

    /// Builds a script from records already in memory (tests, other front ends).
    package static func build(header: RecordingHeader, records: some Sequence<Record>) -> ReplayScript {
        var builder = Builder()
        for record in records { builder.add(record) }
        return ReplayScript(header: header, sessions: builder.sessions, damage: nil, endTime: builder.endTime)
    }

    /// Folds records into sessions, keyed by sid.
    struct Builder {
        var sessions: [ScriptSession] = []
        var indexBySID: [String: Int] = [:]
        var endTime: Int64 = 0

        mutating func add(_ record: Record) {
            self.endTime = max(self.endTime, record.time)
            switch record.event {
            case .sessionOpened(let open):
                guard self.indexBySID[open.sid] == nil else { return }
                self.indexBySID[open.sid] = self.sessions.count
                self.sessions.append(
                    ScriptSession(
                        index: self.sessions.count,
                        sid: open.sid,
                        engineIOVersion: open.engineIOVersion,
                        initialTransport: open.transport,
                        path: open.path,
                        query: open.query,
                        headers: open.headers,
                        handshake: open.handshake,
                        openedAt: record.time
                    )
                )
            case .upgraded(let upgrade):
                self.update(upgrade.sid, at: record.time) { session in
                    if session.upgradedAt == nil { session.upgradedAt = record.time }
                }
            case .socket(let socket):
                guard let sid = socket.sid else { return }
                self.update(sid, at: record.time) { session in
                    session.packets.append(
                        ScriptPacket(
                            index: session.packets.count,
                            time: record.time,
                            direction: socket.direction,
                            transport: socket.transport,
                            packet: socket.packet,
                            ackLatencyMicros: socket.ackLatencyMicros,
                            redacted: socket.redacted
                        )
                    )
                }
            case .sessionClosed(let close):
                self.update(close.sid, at: record.time) { session in
                    guard session.closedAt == nil else { return }
                    session.closedAt = record.time
                    session.closeCause = close.cause
                }
            case .engine(let packet):
                if let sid = packet.sid { self.update(sid, at: record.time) { _ in } }
            case .webSocketClosed(let close):
                if let sid = close.sid { self.update(sid, at: record.time) { _ in } }
            case .connectionOpened, .connectionClosed, .http, .body, .webSocketOpened, .poll, .undecodable, .note:
                return
            }
        }

        private mutating func update(_ sid: String, at time: Int64, _ change: (inout ScriptSession) -> Void) {
            guard let index = self.indexBySID[sid] else { return }
            change(&self.sessions[index])
            self.sessions[index].lastActivityAt = max(self.sessions[index].lastActivityAt, time)
        }
    }
}
