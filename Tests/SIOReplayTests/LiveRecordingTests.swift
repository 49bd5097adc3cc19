import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOReplay

@Suite struct LiveRecordingTests {
    /// A recorded session as `replay run` has it: polling upgraded to WebSocket, a redacted CONNECT.
    private let recorded = ScriptSession(
        index: 2,
        sid: "recordedSid000000001",
        engineIOVersion: .v4,
        initialTransport: .polling,
        upgradedAt: 5,
        path: "/socket.io/",
        query: [Record.KeyValue("EIO", "4"), Record.KeyValue("token", "[redacted]")],
        headers: [Record.KeyValue("User-Agent", "python-requests")],
        handshake: #"{"sid":"recordedSid000000001"}"#,
        openedAt: 0
    )

    @Test func theRunReadsBackAsASessionOfItsOwn() throws {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var live = LiveRecording(start: start)
        let handshake = #"{"sid":"liveSid0000000000001","upgrades":["websocket"],"pingInterval":25000}"#
        live.opened(
            self.recorded,
            sid: "liveSid0000000000001",
            handshake: handshake,
            initialTransport: .polling,
            upgraded: true,
            at: start + .milliseconds(2)
        )
        let connect = SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"token":"[redacted]"}"#))
        live.packet(
            self.recorded,
            connect,
            direction: .clientToServer,
            transport: .websocket,
            redacted: true,
            at: start + .milliseconds(3)
        )
        let reply = SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"liveSocket0000000001"}"#))
        live.packet(
            self.recorded, reply, direction: .serverToClient, transport: .websocket, at: start + .milliseconds(4))
        live.closed(self.recorded, cause: "client close packet", at: start + .milliseconds(9))
        // A packet after the close is not written (the runner drops it too).
        live.packet(
            self.recorded, reply, direction: .serverToClient, transport: .websocket, at: start + .milliseconds(10))

        let header = RecordingHeader(startedAtMicros: 0, tool: "test")
        let script = ReplayScript.build(header: header, records: live.records)
        let session = try #require(script.sessions.first)
        #expect(script.sessions.count == 1)
        #expect(session.sid == "liveSid0000000000001")
        #expect(session.handshake == handshake)
        #expect(session.initialTransport == .polling && session.upgradedAt == 2000)
        #expect(session.query == self.recorded.query && session.headers == self.recorded.headers)
        #expect(session.packets.map(\.direction) == [.clientToServer, .serverToClient])
        #expect(session.packets[0].redacted && session.packets[0].time == 3000)
        #expect(session.packets[1].packet == reply)
        #expect(session.closedAt == 9000 && session.closeCause == "client close packet")
    }

    @Test func aSessionThatNeverOpenedWritesNothing() {
        var live = LiveRecording(start: .now())
        let event = SocketIOPacket(type: .event)
        live.packet(self.recorded, event, direction: .clientToServer, transport: .polling, at: .now())
        live.closed(self.recorded, cause: "client close packet", at: .now())
        #expect(live.records.isEmpty)
    }
}
