import NIOCore
import SIOWire
import Testing

@testable import SIOReplay

private func text(_ type: EngineIOPacketType, _ data: String = "") -> EngineIOPacket {
    EngineIOPacket(type: type, data: ByteBuffer(string: data))
}

private func session(_ version: EngineIOVersion = .v4, _ transport: EngineIOTransport = .polling) -> EngineIOServerSession {
    EngineIOServerSession(
        sid: "SID", version: version, transport: transport, now: 0, pingIntervalMillis: 25_000, pingTimeoutMillis: 20_000)
}

@Suite struct EngineIOServerSessionTests {
    @Test func handshakeOffersTheUpgradeOnPollingOnlyAndMaxPayloadInV4() {
        #expect(
            String(buffer: session().handshakePacket(maxPayload: 1000).data)
                == #"{"sid":"SID","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000}"#)
        #expect(
            String(buffer: session(.v3, .websocket).handshakePacket(maxPayload: 1000).data)
                == #"{"sid":"SID","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#)
    }

    @Test func aHeldPollIsAnsweredWithWhatIsSentAndQueuedPacketsGoWithTheNextPoll() {
        var machine = session()
        #expect(machine.pollRequested() == [.holdPoll])
        #expect(machine.send([text(.message, "2[\"a\"]")]) == [.answerHeldPoll([text(.message, "2[\"a\"]")])])
        #expect(machine.send([text(.message, "1"), text(.message, "2")]) == [])
        #expect(machine.pollRequested() == [.respond([text(.message, "1"), text(.message, "2")])])
        #expect(machine.pollRequested() == [.holdPoll])
    }

    @Test func anOverlappingPollIsRefusedAndEndsTheSession() {
        var machine = session()
        _ = machine.pollRequested()
        let actions = machine.pollRequested()
        #expect(actions.first == .rejectRequest(status: 400, message: "Bad request: overlapping long-poll GET"))
        #expect(actions.contains(.ended(reason: "overlapping long-poll GET")))
        #expect(machine.isClosed)
    }

    @Test func upgradeAnswersTheProbeReleasesThePollAndFlushesOnUpgrade() {
        var machine = session()
        #expect(machine.pollRequested() == [.holdPoll])
        #expect(
            machine.webSocketReceived(text(.ping, "probe"), now: 1)
                == [.writeWebSocket([text(.pong, "probe")]), .answerHeldPoll([text(.noop)])])
        #expect(machine.transport == .upgrading)
        #expect(machine.send([text(.message, "2[\"queued\"]")]) == [])
        #expect(machine.webSocketReceived(text(.upgrade), now: 2) == [.writeWebSocket([text(.message, "2[\"queued\"]")])])
        #expect(machine.transport == .websocket)
        #expect(machine.send([text(.message, "x")]) == [.writeWebSocket([text(.message, "x")])])
        #expect(machine.pollRequested() == [.rejectRequest(status: 400, message: "Bad request")])
    }

    /// node5-two-clients-default: the Node client has a GET in flight when `3probe` comes, and
    /// another after it; neither may hang (the client waits for them before sending `5`), and
    /// polling after the upgrade is engine.io's transport mismatch, which leaves the session alone.
    @Test func theNodeClientsPollsAroundTheUpgradeAreAnsweredAndPollingAfterItIsABadRequest() {
        var machine = session()
        #expect(machine.pollRequested() == [.holdPoll])
        #expect(machine.postReceived([text(.message, "0")], now: 1) == [.deliver(text(.message, "0"))])
        #expect(machine.send([text(.message, "0{\"sid\":\"x\"}")]) == [.answerHeldPoll([text(.message, "0{\"sid\":\"x\"}")])])
        #expect(machine.pollRequested() == [.holdPoll])
        #expect(
            machine.webSocketReceived(text(.ping, "probe"), now: 2)
                == [.writeWebSocket([text(.pong, "probe")]), .answerHeldPoll([text(.noop)])])
        #expect(machine.pollRequested() == [.respond([text(.noop)])])
        #expect(machine.webSocketReceived(text(.upgrade), now: 3) == [])
        #expect(machine.pollRequested() == [.rejectRequest(status: 400, message: "Bad request")])
        #expect(machine.postReceived([text(.message, "2[\"late\"]")], now: 4) == [.rejectRequest(status: 400, message: "Bad request")])
        #expect(!machine.isClosed)
        #expect(machine.webSocketReceived(text(.message, "2[\"a\"]"), now: 5) == [.deliver(text(.message, "2[\"a\"]"))])
    }

    /// node5-default, second session: the client closes the probe's WebSocket before `5` and goes
    /// on polling (its `1` comes in a POST); engine.io drops the probe, not the session.
    @Test func aProbeWebSocketThatClosesBeforeTheUpgradeLeavesTheSessionPolling() {
        var machine = session()
        _ = machine.webSocketReceived(text(.ping, "probe"), now: 1)
        #expect(machine.send([text(.message, "4/admin,{}")]) == [])
        #expect(machine.webSocketClosed() == [])
        #expect(machine.transport == .polling && !machine.isClosed)
        #expect(machine.pollRequested() == [.respond([text(.message, "4/admin,{}")])])
        #expect(machine.pollRequested() == [.holdPoll])
        #expect(machine.postReceived([text(.close)], now: 2) == [.answerHeldPoll([text(.noop)]), .ended(reason: "client close packet")])
    }

    @Test func messagesAreDeliveredAndTheClientClosePacketReleasesAHeldPoll() {
        var machine = session()
        _ = machine.pollRequested()
        let actions = machine.postReceived([text(.message, "0"), text(.close)], now: 5)
        #expect(
            actions == [
                .deliver(text(.message, "0")), .answerHeldPoll([text(.noop)]), .ended(reason: "client close packet"),
            ])
        #expect(machine.pollRequested() == [.rejectRequest(status: 400, message: "Session ID unknown")])
    }

    @Test func v4ServerPingsAndEndsTheSessionWhenNoPongComes() {
        var machine = session(.v4, .websocket)
        #expect(machine.tick(now: 24_000_000) == [])
        #expect(machine.tick(now: 25_000_000) == [.writeWebSocket([text(.ping)])])
        #expect(machine.tick(now: 26_000_000) == [])
        #expect(machine.webSocketReceived(text(.pong), now: 26_000_000) == [])
        #expect(machine.tick(now: 49_000_000) == [])
        #expect(machine.tick(now: 50_000_000) == [.writeWebSocket([text(.ping)])])
        #expect(machine.tick(now: 70_000_000) == [.closeWebSocket, .ended(reason: "ping timeout")])
    }

    @Test func v3ServerAnswersClientPingsAndTimesOutASilentClient() {
        var machine = session(.v3, .polling)
        #expect(machine.pollRequested() == [.holdPoll])
        #expect(machine.postReceived([text(.ping)], now: 10_000_000) == [.answerHeldPoll([text(.pong)])])
        #expect(machine.tick(now: 54_000_000) == [])
        #expect(machine.pollRequested() == [.holdPoll])
        #expect(machine.tick(now: 55_000_000) == [.failHeldPoll(status: 400), .ended(reason: "ping timeout")])
    }

    @Test func droppingTheTransportFailsTheHeldPollWhileAClosePacketIsDelivered() {
        var dropped = session()
        _ = dropped.pollRequested()
        #expect(dropped.close(sendingClosePacket: false, reason: "drop") == [.failHeldPoll(status: 400), .ended(reason: "drop")])

        var closed = session()
        #expect(closed.close(sendingClosePacket: true, reason: "bye") == [.ended(reason: "bye")])
        #expect(closed.pollRequested() == [.respond([text(.close)])])

        var webSocket = session(.v4, .websocket)
        #expect(
            webSocket.close(sendingClosePacket: true, reason: "bye")
                == [.writeWebSocket([text(.close)]), .closeWebSocket, .ended(reason: "bye")])
    }
}
