import NIOCore
import SIOWire

/// The protocol side of one replayed Engine.IO client session, without I/O: handshake,
/// heartbeats, the polling→WebSocket probe, Socket.IO decoding with binary attachments.
///
/// The connection feeds it every Engine.IO packet that arrives, with the transport it arrived
/// on, and carries out the returned actions.
///
/// A session has one live transport at a time, as in socket.io-client: until the client sends
/// `5` (`upgraded()`), that is polling, and the probe WebSocket only carries the probe; from
/// then on it is the WebSocket, and whatever still arrives on polling (engine.io answers a GET
/// left pending across the upgrade with a lone `1`, or `6`) is ignored: the old transport is
/// over, not the session.
struct EngineIOClientMachine {
    enum Action: Equatable {
        /// The handshake arrived: the live sid and the handshake JSON.
        case opened(sid: String, pingIntervalMillis: Int?, upgrades: [String])
        /// A complete Socket.IO packet from the server.
        case deliver(SocketIOPacket)
        /// Send this Engine.IO packet (a heartbeat answer).
        case send(EngineIOPacket)
        /// The server answered the upgrade probe: send `5` on the WebSocket and move there.
        case probeAnswered
        /// The server closed the session (Engine.IO `1` on the live transport).
        case serverClosed
        /// The server closed the probe WebSocket before the upgrade: stay on polling.
        case probeFailed
        /// The server sent something replay cannot read.
        case protocolError(String)
    }

    enum State: Equatable {
        case handshaking
        case open
        case closed
    }

    let version: EngineIOVersion
    private(set) var state: State = .handshaking
    private(set) var sid: String?
    /// The server's handshake JSON, verbatim.
    private(set) var handshake: String?
    /// The transport packets count on: the initial one, the WebSocket once `upgraded()`.
    private(set) var transport: EngineIOTransport
    /// Socket.IO over the session's messages. It holds whatever attachments the server under test
    /// sends: replay run compares its answers, and a cap would turn big ones into a difference.
    private var codec: SocketIOSessionCodec

    init(version: EngineIOVersion, transport: EngineIOTransport = .polling) {
        self.version = version
        self.transport = transport
        self.codec = SocketIOSessionCodec(version: version.socketIOVersion, maxAttachmentBytes: .max)
    }

    /// The client sent `5` on the WebSocket: it is the session's transport from now on.
    mutating func upgraded() {
        self.transport = .websocket
    }

    /// The probe failed: the session stays on polling.
    mutating func upgradeAbandoned() {
        self.transport = .polling
    }

    mutating func receive(_ packet: EngineIOPacket, on transport: EngineIOTransport) -> [Action] {
        guard transport == self.transport else {
            // The probe WebSocket before the upgrade (only the probe's answer counts, a close
            // there ends the probe), or polling after it (ignored, as socket.io-client does).
            guard self.state == .open, transport == .websocket else { return [] }
            switch packet.type {
            case .pong where String(buffer: packet.data) == "probe": return [.probeAnswered]
            case .close: return [.probeFailed]
            default: return []
            }
        }
        return self.receive(packet)
    }

    private mutating func receive(_ packet: EngineIOPacket) -> [Action] {
        switch (self.state, packet.type) {
        case (.closed, _):
            return []
        case (.handshaking, .open):
            let text = String(buffer: packet.data)
            guard let sid = Self.stringField("sid", in: text) else {
                return [.protocolError("handshake without a sid: \(text.prefix(200))")]
            }
            self.sid = sid
            self.handshake = text
            self.state = .open
            return [
                .opened(
                    sid: sid,
                    pingIntervalMillis: ScriptSession.integerField("pingInterval", in: text),
                    upgrades: Self.stringArray("upgrades", in: text)
                )
            ]
        case (.handshaking, _):
            return [.protocolError("expected the handshake, got Engine.IO \(packet.type.name)")]
        case (.open, .ping):
            if String(buffer: packet.data) == "probe" { return [] }
            return self.version == .v4 ? [.send(EngineIOPacket(type: .pong, data: packet.data))] : []
        case (.open, .pong):
            return []
        case (.open, .close):
            self.state = .closed
            return [.serverClosed]
        case (.open, .noop), (.open, .upgrade), (.open, .open):
            return []
        case (.open, .message):
            do {
                return self.assembled(try self.codec.receive(packet))
            } catch {
                return [
                    .protocolError(
                        "undecodable Socket.IO packet (\(error)): \(String(buffer: packet.data).prefix(200))"
                    )
                ]
            }
        }
    }

    /// The session is over on our side; later packets are ignored.
    mutating func close() {
        self.state = .closed
    }

    private func assembled(_ action: SocketIOBinaryAssembler.Action) -> [Action] {
        switch action {
        case .complete(let packet): return [.deliver(packet)]
        case .waiting, .dropped: return []
        case .overLimit(let packet, let limit):
            return [.protocolError("the attachments of a \(packet.type.name) went over \(limit) bytes")]
        case .unexpectedAttachment(let bytes):
            return [.protocolError("a binary message of \(bytes.readableBytes) bytes with no packet waiting for it")]
        case .abandoned(let previous, let then):
            var out: [Action] = [
                .protocolError("\(previous.type.name) lacked attachments when the next packet arrived")
            ]
            if case .complete(let packet) = then { out.append(.deliver(packet)) }
            return out
        }
    }

    /// The Engine.IO packets that carry `packet` (`SocketIOSessionCodec.messages(for:)`).
    func messages(for packet: SocketIOPacket) -> [EngineIOPacket] {
        self.codec.messages(for: packet)
    }

    static func stringField(_ name: String, in json: String) -> String? {
        guard var rest = ScriptSession.fieldValue(name, in: json), rest.first == "\"" else { return nil }
        rest = rest.dropFirst()
        return String(rest.prefix { $0 != "\"" })
    }

    static func stringArray(_ name: String, in json: String) -> [String] {
        guard let rest = ScriptSession.fieldValue(name, in: json), let open = rest.firstIndex(of: "["),
            let close = rest[open...].firstIndex(of: "]")
        else { return [] }
        return rest[rest.index(after: open)..<close].split(separator: ",").map {
            $0.trimmingCharacters(in: " \"")
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(self.drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
