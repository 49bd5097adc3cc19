import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOReplay

/// The reference Node stack's two-client chat (`../shared/captures/node5-two-clients-websocket`:
/// socket.io-client 4.8 ×2 created at once, then echo, binary, rooms, a server ack, `/admin`, a
/// refused third client), its WebSocket messages extracted by `tools/captures/websocket-frames`
/// into `Fixtures/node5-two-clients-websocket.jsonl`, as the script a recording of it would give.
/// Its client side is fed to the conductor in an order the recording does not have.
private struct NodeCapture {
    private struct Line: Decodable {
        var t: Int64
        var conn: Int
        var dir: String
        var text: String?
        var binary: String?
    }

    /// The recorded sessions, by connection (1: the echoer, 2: the joiner, 3: the refused client).
    let script: ReplayScript

    init() throws {
        let url = try #require(
            Bundle.module.url(forResource: "Fixtures/node5-two-clients-websocket", withExtension: "jsonl"))
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(Line.self, from: Data($0.utf8))
        }
        var sessions: [Int: ScriptSession] = [:]
        var order: [Int] = []
        var assemblers: [String: SocketIOBinaryAssembler] = [:]
        for line in lines where line.dir != "open" {
            let direction: Direction = line.dir == "c2s" ? .clientToServer : .serverToClient
            let action: SocketIOBinaryAssembler.Action
            if let hex = line.binary {
                action = assemblers["\(line.conn)\(line.dir)", default: .init()].receiveAttachment(Self.bytes(hex: hex))
            } else {
                let text = try #require(line.text)
                if text.hasPrefix("0{") {
                    // The Engine.IO handshake: the session opens, with the sid the server issued.
                    let sid = try #require(EngineIOHandshake(json: String(text.dropFirst()))?.sid)
                    sessions[line.conn] = ScriptSession(
                        index: order.count, sid: String(sid), engineIOVersion: .v4, initialTransport: .websocket,
                        path: "/socket.io/", query: [], handshake: String(text.dropFirst()), openedAt: line.t)
                    order.append(line.conn)
                    continue
                }
                guard text.hasPrefix("4") else { continue }
                var packet = try SocketIOPacket.decode(ByteBuffer(string: String(text.dropFirst())), version: .v5)
                // What a recording holds: the client's CONNECT auth redacted.
                var redacted = false
                if direction == .clientToServer, packet.type == .connect, packet.json != nil {
                    packet.json = ByteBuffer(string: #"{"token":"[redacted]"}"#)
                    packet.rawHeader = nil
                    redacted = true
                }
                action = assemblers["\(line.conn)\(line.dir)", default: .init()].receive(packet)
                guard case .complete(let complete) = action else { continue }
                sessions[line.conn]!.append(complete, at: line.t, direction, redacted: redacted)
                continue
            }
            guard case .complete(let complete) = action else { continue }
            sessions[line.conn]!.append(complete, at: line.t, direction, redacted: false)
        }
        self.script = ReplayScript(
            header: RecordingHeader(startedAtMicros: 0, tool: "node5-two-clients-websocket"),
            sessions: order.map { sessions[$0]! }, endTime: lines.last?.t ?? 0)
    }

    private static func bytes(hex: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        var characters = hex.makeIterator()
        while let high = characters.next(), let low = characters.next() {
            buffer.writeInteger(UInt8(String([high, low]), radix: 16)!)
        }
        return buffer
    }
}

extension ScriptSession {
    fileprivate mutating func append(_ packet: SocketIOPacket, at time: Int64, _ direction: Direction, redacted: Bool) {
        self.packets.append(
            ScriptPacket(
                index: self.packets.count, time: time, direction: direction, transport: .websocket, packet: packet,
                redacted: redacted))
        self.lastActivityAt = time
    }
}

@Suite struct NodeTwoClientsTests {
    /// A server packet as the test compares it: the CONNECT reply's socket id is the live one.
    private func comparable(_ packet: SocketIOPacket, ackOffset: UInt64 = 0) -> String {
        let ackID = packet.ackID.map { packet.type == .ack || packet.type == .binaryAck ? $0 + ackOffset : $0 }
        var text = "\(packet.type.name) \(packet.namespace) \(ackID.map(String.init) ?? "-")"
        if let json = packet.json {
            let body = String(buffer: json)
            text +=
                " "
                + (packet.type == .connect
                    ? body.replacingOccurrences(of: #""sid":"[^"]+""#, with: #""sid":"*""#, options: .regularExpression)
                    : body)
        }
        return text + packet.attachments.map { " +\($0.readableBytes)B" }.joined()
    }

    @Test func theNodeClientsAreServedTheirOwnSessionsWhenTheyConnectInTheOtherOrder() throws {
        let capture = try NodeCapture()
        let sessions = capture.script.sessions
        #expect(sessions.map(\.packets.count) == [24, 10, 2])
        var machine = ReplayConductor(
            plan: ServePlan(script: capture.script), configuration: ServeConfiguration(fast: true),
            makeSocketID: { ReplayRoom.makeID() })
        var received: [Int: [SocketIOPacket]] = [:]
        func run(_ actions: [ReplayConductor.Action]) {
            for case .send(let live, let packet) in actions + machine.due(now: 0) {
                received[live, default: []].append(packet)
            }
        }
        // Live 1 plays the joiner (recorded second), live 2 the echoer (recorded first); each live
        // client sends its recorded client packets; the joiner connects and speaks first.
        // The joiner numbers its acks from 100 (another client library, or other emits before).
        let joiner = sessions[1].clientPackets.map { recorded in
            var packet = recorded.packet
            if packet.type == .event, let id = packet.ackID {
                packet.ackID = id + 100
                packet.rawHeader = nil
            }
            return packet
        }
        var echoer = sessions[0].clientPackets.map(\.packet)
        echoer[echoer.firstIndex { $0.type == .connect && $0.namespace == "/admin" }!].json = ByteBuffer(
            string: #"{"token":"secret"}"#)
        run(machine.sessionOpened(1, name: "joiner", version: .v4, now: 0))
        run(machine.sessionOpened(2, name: "echoer", version: .v4, now: 0))
        run(machine.clientPacket(1, joiner[0], now: 0))
        run(machine.clientPacket(2, echoer[0], now: 0))
        #expect(machine.candidates(of: 1).count == 2, "the two CONNECTs are alike: both stay open")
        // Then they diverge, the joiner's room traffic before the echoer's echo.
        for packet in joiner[1...] { run(machine.clientPacket(1, packet, now: 0)) }
        for packet in echoer[1...] { run(machine.clientPacket(2, packet, now: 0)) }
        // The refused third client, with its wrong token.
        run(machine.sessionOpened(3, name: "refused", version: .v4, now: 0))
        run(
            machine.clientPacket(
                3, SocketIOPacket(type: .connect, namespace: "/admin", json: ByteBuffer(string: #"{"token":"wrong"}"#)),
                now: 0))

        #expect(machine.recordedSession(of: 1)?.sid == sessions[1].sid)
        #expect(machine.recordedSession(of: 2)?.sid == sessions[0].sid)
        #expect(machine.recordedSession(of: 3)?.sid == sessions[2].sid)
        #expect(machine.summary.clientPacketsUnmatched == 0)
        // Each live client got its recorded session's server packets, the joiner's acks with its
        // own ack ids; only the room broadcast the joiner caused reaches the echoer earlier than
        // recorded (the echoer is replayed after the joiner here).
        let expected = { (index: Int, offset: UInt64) in
            sessions[index].serverPackets.map { self.comparable($0.packet, ackOffset: offset) }
        }
        #expect(received[1, default: []].map { comparable($0) } == expected(1, 100))
        #expect(received[2, default: []].map { comparable($0) }.sorted() == expected(0, 0).sorted())
        #expect(
            received[3, default: []].map { comparable($0) } == [
                #"CONNECT_ERROR /admin - {"message":"Not authorized","data":{"reason":"bad token"}}"#
            ])
        // Socket ids are the live ones, each client its own.
        let connectReplies = received.values.flatMap { $0 }.filter { $0.type == .connect }.compactMap(\.json).map {
            String(buffer: $0)
        }
        #expect(connectReplies.count == 3 && Set(connectReplies).count == 3)
        #expect(
            connectReplies.allSatisfy { reply in
                !sessions.contains {
                    String(buffer: $0.serverPackets.first { $0.type == .connect }?.packet.json ?? ByteBuffer()) == reply
                }
            })
    }
}
