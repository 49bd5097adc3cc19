import SIORecording
import SIOWire

/// Where and when a packet was seen: what every packet record repeats.
struct PacketContext: Hashable, Sendable {
    /// The session, when known (from the URL or a handshake seen earlier on this connection).
    var sid: String?
    var connection: UInt64
    var direction: Direction
    var transport: EngineIOTransport
    /// The session's Engine.IO version, from the request's `EIO=` parameter.
    var version: EngineIOVersion
    /// Microseconds since the hub started.
    var time: Int64

    /// The `sio` record of `packet` seen here.
    func socketRecord(_ packet: SocketIOPacket, ackLatencyMicros: Int64? = nil, redacted: Bool = false) -> Record {
        Record(
            time: self.time,
            event: .socket(
                .init(
                    sid: self.sid, connection: self.connection, direction: self.direction, transport: self.transport,
                    packet: packet, ackLatencyMicros: ackLatencyMicros, redacted: redacted)))
    }
}

extension Direction {
    var opposite: Direction { self == .clientToServer ? .serverToClient : .clientToServer }
    /// Index into per-direction arrays.
    var index: Int { self == .clientToServer ? 0 : 1 }
    /// The word used in close causes.
    var sender: String { self == .clientToServer ? "client" : "server" }
}
