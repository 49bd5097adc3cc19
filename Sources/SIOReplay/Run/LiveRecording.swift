import NIOCore
import SIORecording
import SIOWire

/// What a `replay run` exchanged with the live server, as the records of a new recording in the
/// format `siotape record` writes (`replay run --record-to`): how a user updates a fixture after
/// an intended change.
///
/// Per session: `open` with the live sid and handshake (the recorded path, query and headers,
/// already redacted), `upgrade` when the session moved to WebSocket, every Socket.IO packet in
/// both directions as it went over the wire, and `close`. A CONNECT sent with credentials from
/// `--auth` is written with its recorded, redacted payload, so no credential reaches the file
/// that the source recording did not hold. Times are µs since the run started.
struct LiveRecording {
    let start: NIODeadline
    private(set) var records: [Record] = []
    /// Live sid per session index, once its `open` is written.
    private var sids: [Int: String] = [:]

    init(start: NIODeadline) {
        self.start = start
    }

    private func micros(_ at: NIODeadline) -> Int64 {
        max(0, (at - self.start).nanoseconds / 1000)
    }

    /// The session opened (on its final transport when it upgraded).
    mutating func opened(
        _ session: ScriptSession,
        sid: String,
        handshake: String?,
        initialTransport: EngineIOTransport,
        upgraded: Bool,
        at: NIODeadline
    ) {
        guard self.sids[session.index] == nil else { return }
        self.sids[session.index] = sid
        let connection = UInt64(session.index + 1)
        let time = self.micros(at)
        self.records.append(
            Record(
                time: time,
                event: .sessionOpened(
                    Record.SessionOpened(
                        sid: sid,
                        engineIOVersion: session.engineIOVersion,
                        transport: initialTransport,
                        connection: connection,
                        path: session.path,
                        query: session.query,
                        headers: session.headers,
                        handshake: handshake ?? session.handshake
                    )
                )
            )
        )
        if upgraded {
            self.records.append(Record(time: time, event: .upgraded(Record.Upgraded(sid: sid, connection: connection))))
        }
    }

    /// A Socket.IO packet went over the wire in `session`.
    mutating func packet(
        _ session: ScriptSession,
        _ packet: SocketIOPacket,
        direction: Direction,
        transport: EngineIOTransport,
        redacted: Bool = false,
        at: NIODeadline
    ) {
        guard let sid = self.sids[session.index] else { return }
        self.records.append(
            Record(
                time: self.micros(at),
                event: .socket(
                    Record.SocketPacket(
                        sid: sid,
                        connection: UInt64(session.index + 1),
                        direction: direction,
                        transport: transport,
                        packet: packet,
                        redacted: redacted
                    )
                )
            )
        )
    }

    /// The session ended; `cause` as `siotape record` words it (`server …` when the server ended it).
    mutating func closed(_ session: ScriptSession, cause: String, at: NIODeadline) {
        guard let sid = self.sids.removeValue(forKey: session.index) else { return }
        let close = Record.SessionClosed(sid: sid, cause: cause)
        self.records.append(Record(time: self.micros(at), event: .sessionClosed(close)))
    }
}
