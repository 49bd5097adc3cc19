import NIOCore
import SIOWire
import Testing

@testable import SIOReplay

/// The transport phase of replay run's Engine.IO client, event by event, without sockets: which
/// requests and WebSockets `EngineIOClient` is told to make, and when the session is ready.
@Suite struct EngineIOClientTransportTests {
    typealias Machine = EngineIOClientMachine

    private static let handshake =
        #"0{"sid":"88Sz0ZMO4MucI2y_AAAK","upgrades":["websocket"],"pingInterval":2000,"pingTimeout":2000,"maxPayload":1000000}"#
    private static let sid = "88Sz0ZMO4MucI2y_AAAK"
    private static let event = SocketIOPacket(type: .event, json: ByteBuffer(string: #"["x",1]"#), eventName: "x")
    private static let eventMessage = EngineIOPacket(type: .message, data: ByteBuffer(string: #"2["x",1]"#))

    private static func packets(_ body: String) -> [EngineIOPacket] {
        EngineIOPayload.decode(ByteBuffer(string: body), encoding: .v4Text).packets
    }

    /// A GET answered with `body`, fed the way `EngineIOClient` feeds it.
    private static func answer(_ machine: inout Machine, _ body: String) -> [Machine.Command] {
        var commands = machine.pollFinished(.answered)
        for packet in Self.packets(body) { commands += machine.received(packet, on: .polling) }
        return commands + machine.pollBodyRead(error: nil)
    }

    @Test func pollingUpgradedToWebSocketWaitsForThePendingGETBeforeThe5() {
        var machine = Machine(version: .v4, transport: .polling, upgrade: true, endpoint: "h:1")
        #expect(machine.start() == [.get])
        // The handshake offers the upgrade: the probe WebSocket opens, polling goes on.
        #expect(Self.answer(&machine, Self.handshake) == [.openWebSocket(upgrading: true), .get])
        #expect(machine.isReady == false)
        #expect(machine.webSocketConnected(upgrading: true) == [.sendWebSocket(EngineIOPacket(type: .ping, data: ByteBuffer(string: "probe")))])
        // Sent before the session is ready: held.
        #expect(machine.send(Self.event).isEmpty)
        // The probe is answered while the GET is still pending: no `5` yet.
        #expect(machine.webSocketMessage(ByteBuffer(string: "3probe"), binary: false).isEmpty)
        #expect(machine.phase == .pausing && machine.transportInUse == .polling)
        // engine.io answers the pending GET with a noop: now the `5`, the held packet, ready.
        #expect(
            Self.answer(&machine, "6") == [
                .sendWebSocket(EngineIOPacket(type: .upgrade)), .sendWebSocket(Self.eventMessage),
                .report(.ready(sid: Self.sid)),
            ])
        #expect(machine.transportInUse == .websocket)
        #expect(machine.send(Self.event) == [.sendWebSocket(Self.eventMessage)])
        #expect(machine.webSocketMessage(ByteBuffer(string: #"42["y"]"#), binary: false).count == 1)
        #expect(
            machine.webSocketClosed(code: 1000, byPeer: true) == [
                .tearDown, .report(.closed(reason: "WebSocket closed (1000)", byServer: true)),
            ])
        #expect(machine.send(Self.event).isEmpty)
    }

    @Test func polledPacketsGoOutOnePOSTAtATime() {
        var machine = Machine(version: .v4, transport: .polling, upgrade: false, endpoint: "h:1")
        _ = machine.start()
        // Ready as the handshake is read (the owner may send at once), then the next GET.
        #expect(Self.answer(&machine, Self.handshake) == [.report(.ready(sid: Self.sid)), .get])
        #expect(machine.send(Self.event) == [.post([Self.eventMessage])])
        // While that POST is on the wire, the next packets wait for it, then go out together.
        #expect(machine.send(Self.event).isEmpty)
        #expect(machine.send(Self.event).isEmpty)
        #expect(machine.postFinished(.answered) == [.post([Self.eventMessage, Self.eventMessage])])
        // A server ping on polling is answered by POST too.
        #expect(machine.postFinished(.answered).isEmpty)
        #expect(
            Self.answer(&machine, "2") == [.post([EngineIOPacket(type: .pong)]), .get])
        #expect(machine.postFinished(.status(code: 400)) == [
            .tearDown, .report(.closed(reason: "POST answered HTTP 400", byServer: true)),
        ])
    }

    @Test func closingOverPollingPostsTheClosePacketEvenAfterTheSessionIsOver() {
        var machine = Machine(version: .v4, transport: .polling, endpoint: "h:1")
        _ = machine.start()
        _ = Self.answer(&machine, Self.handshake)
        #expect(machine.send(Self.event) == [.post([Self.eventMessage])])
        // The close packet waits for the POST in flight; the session ends for us at once.
        #expect(
            machine.closeSession() == [.tearDown, .report(.closed(reason: "closed by replay", byServer: false))])
        #expect(machine.phase == .closed)
        #expect(machine.postFinished(.answered) == [.post([EngineIOPacket(type: .close)])])

        // Nothing in flight: the close packet is the final POST.
        var idle = Machine(version: .v4, transport: .polling, endpoint: "h:1")
        _ = idle.start()
        _ = Self.answer(&idle, Self.handshake)
        #expect(idle.closeSession() == [
            .post([EngineIOPacket(type: .close)]), .tearDown, .report(.closed(reason: "closed by replay", byServer: false)),
        ])
    }

    @Test func aProbeThatFailsLeavesTheSessionOnPolling() {
        var machine = Machine(version: .v4, transport: .polling, upgrade: true, endpoint: "h:1")
        _ = machine.start()
        _ = Self.answer(&machine, Self.handshake)
        // The GET the handshake answer started is still pending: no second one.
        let reason = "the probe WebSocket closed before the upgrade; staying on polling"
        #expect(
            machine.webSocketClosed(code: nil, byPeer: true) == [
                .closeWebSocket, .report(.problem(reason)), .report(.ready(sid: Self.sid)),
            ])
        #expect(machine.transportInUse == .polling && machine.phase == .polling)
        #expect(machine.send(Self.event) == [.post([Self.eventMessage])])
    }

    @Test func anUnreachableServerAndARefusedHandshakeFailTheSession() {
        var unreachable = Machine(version: .v4, transport: .polling, endpoint: "h:1")
        _ = unreachable.start()
        #expect(
            unreachable.pollFinished(.failed("connection refused")) == [
                .tearDown, .report(.failed(reason: "cannot reach h:1: connection refused", unreachable: true)),
            ])
        var refused = Machine(version: .v4, transport: .polling, endpoint: "h:1")
        _ = refused.start()
        #expect(
            refused.pollFinished(.status(code: 400, body: "nope")) == [
                .tearDown, .report(.failed(reason: "the handshake was answered HTTP 400 nope", unreachable: false)),
            ])
        var webSocket = Machine(version: .v4, transport: .websocket, endpoint: "h:1")
        #expect(webSocket.start() == [.openWebSocket(upgrading: false)])
        #expect(
            webSocket.webSocketFailed("403", refused: true, upgrading: false) == [
                .tearDown, .report(.failed(reason: "cannot open the WebSocket: 403", unreachable: false)),
            ])
        #expect(webSocket.webSocketConnected(upgrading: false) == nil)
    }

    @Test func aV3ClientPingsAtTheServersInterval() throws {
        var machine = Machine(version: .v3, transport: .websocket, endpoint: "h:1")
        _ = machine.start()
        #expect(machine.webSocketConnected(upgrading: false) == [])
        #expect(
            machine.webSocketMessage(ByteBuffer(string: Self.handshake), binary: false) == [
                .startHeartbeat(intervalMillis: 2000), .report(.ready(sid: Self.sid)),
            ])
        #expect(machine.heartbeatDue() == [.sendWebSocket(EngineIOPacket(type: .ping))])
    }
}
