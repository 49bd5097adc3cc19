import NIOCore
import SIOWire
import Testing

@testable import SIOReplay

/// Bytes of the first session of the `node5-default` capture (socket.io-client 4.8 against a
/// socket.io 4.8 server, polling upgraded to WebSocket), copied from its connections.
private enum Node5Default {
    /// conn1: the handshake GET's body.
    static let handshake =
        #"0{"sid":"88Sz0ZMO4MucI2y_AAAK","upgrades":["websocket"],"pingInterval":2000,"pingTimeout":2000,"maxPayload":1000000}"#
    /// conn4: the GET pending while the probe ran, answered with the CONNECT reply and an event.
    static let pollBeforeProbe = "40{\"sid\":\"exQ_snSKQVTePTHLAAAI\"}\u{1e}42[\"auth\",{\"token\":\"ok\"}]"
    /// conn3: the probe's answer, then what the server sent on the WebSocket after the `5`.
    static let probeAnswer = "3probe"
    static let afterUpgrade = [
        #"40/admin,{"sid":"yZXmUHsDpMaKw2eZAAAJ"}"#,
        #"42/admin,["auth",{"token":"secret"}]"#,
        #"430[{"hello":"wörld","n":[1,2.5,null,true]}]"#,
        #"43/admin,0[7]"#,
    ]
    /// conn10 (second session): the GET pending when the probe arrived, answered with a noop.
    static let noopOnPendingGet = "6"
    /// What engine.io's polling transport writes on a GET still pending when the socket moves to
    /// the WebSocket (`doClose` of a writable polling transport: `send([{type: "close"}])`).
    static let closeOnAbandonedGet = "1"
}

private func polling(_ body: String) -> [EngineIOPacket] {
    let decoded = EngineIOPayload.decode(ByteBuffer(string: body), encoding: .v4Text)
    #expect(decoded.error == nil)
    return decoded.packets
}

private func frame(_ text: String) throws -> EngineIOPacket {
    try EngineIOPacket.decode(webSocketText: ByteBuffer(string: text))
}

private func feed(
    _ machine: inout EngineIOClientMachine,
    _ packets: [EngineIOPacket],
    on transport: EngineIOTransport
) -> [EngineIOClientMachine.Action] {
    packets.flatMap { machine.receive($0, on: transport) }
}

private func delivered(_ actions: [EngineIOClientMachine.Action]) -> [String] {
    actions.compactMap {
        if case .deliver(let packet) = $0 { return String(buffer: packet.encodeText(version: .v5)) }
        return nil
    }
}

/// A session of node5-default opened over polling and probed, the probe answered.
private func probedSession() throws -> EngineIOClientMachine {
    var machine = EngineIOClientMachine(version: .v4, transport: .polling)
    let opened = feed(&machine, polling(Node5Default.handshake), on: .polling)
    #expect(opened == [.opened(sid: "88Sz0ZMO4MucI2y_AAAK", pingIntervalMillis: 2000, upgrades: ["websocket"])])
    let polled = feed(&machine, polling(Node5Default.pollBeforeProbe), on: .polling)
    #expect(delivered(polled) == [#"0{"sid":"exQ_snSKQVTePTHLAAAI"}"#, #"2["auth",{"token":"ok"}]"#])
    #expect(machine.receive(try frame(Node5Default.probeAnswer), on: .websocket) == [.probeAnswered])
    return machine
}

@Suite struct EngineIOClientMachineTests {
    @Test func theCloseOnTheAbandonedGetAfterTheUpgradeDoesNotEndTheSession() throws {
        var machine = try probedSession()
        machine.upgraded()
        #expect(feed(&machine, polling(Node5Default.closeOnAbandonedGet), on: .polling).isEmpty)
        #expect(feed(&machine, polling(Node5Default.noopOnPendingGet), on: .polling).isEmpty)
        #expect(machine.state == .open)
        let after = try Node5Default.afterUpgrade.flatMap { machine.receive(try frame($0), on: .websocket) }
        #expect(
            delivered(after) == [
                #"0/admin,{"sid":"yZXmUHsDpMaKw2eZAAAJ"}"#,
                #"2/admin,["auth",{"token":"secret"}]"#,
                #"30[{"hello":"wörld","n":[1,2.5,null,true]}]"#,
                #"3/admin,0[7]"#,
            ]
        )
        // Heartbeats are answered on the new transport.
        #expect(machine.receive(try frame("2"), on: .websocket) == [.send(EngineIOPacket(type: .pong))])
    }

    @Test func messagesOnTheOldPollingTransportAreIgnoredAfterTheUpgrade() throws {
        var machine = try probedSession()
        machine.upgraded()
        #expect(feed(&machine, polling(#"42["late",1]"#), on: .polling).isEmpty)
        #expect(machine.state == .open)
    }

    @Test func aCloseOnPollingBeforeTheUpgradeEndsTheSession() throws {
        // Polling is still the session's transport until the client has sent `5`.
        var machine = try probedSession()
        #expect(feed(&machine, polling(Node5Default.closeOnAbandonedGet), on: .polling) == [.serverClosed])
        #expect(machine.state == .closed)
    }

    @Test func theNoopThatEndsThePendingGetDuringTheProbeChangesNothing() throws {
        var machine = try probedSession()
        #expect(feed(&machine, polling(Node5Default.noopOnPendingGet), on: .polling).isEmpty)
        #expect(machine.state == .open)
    }

    @Test func aCloseOnTheWebSocketAfterTheUpgradeEndsTheSession() throws {
        var machine = try probedSession()
        machine.upgraded()
        #expect(machine.receive(try frame("1"), on: .websocket) == [.serverClosed])
    }

    @Test func theProbeWebSocketCarriesOnlyTheProbe() throws {
        var machine = EngineIOClientMachine(version: .v4, transport: .polling)
        _ = feed(&machine, polling(Node5Default.handshake), on: .polling)
        #expect(machine.receive(try frame(#"42["early",1]"#), on: .websocket).isEmpty)
        #expect(machine.receive(try frame("1"), on: .websocket) == [.probeFailed])
        #expect(machine.state == .open)
        machine.upgradeAbandoned()
        #expect(delivered(feed(&machine, polling(#"42["still",1]"#), on: .polling)) == [#"2["still",1]"#])
    }

    @Test func aWebSocketOnlySessionCountsItsWebSocket() throws {
        var machine = EngineIOClientMachine(version: .v4, transport: .websocket)
        let opened = machine.receive(try frame(String(Node5Default.handshake)), on: .websocket)
        #expect(opened.count == 1)
        #expect(delivered(machine.receive(try frame(#"42["x",1]"#), on: .websocket)) == [#"2["x",1]"#])
        #expect(machine.receive(try frame("1"), on: .websocket) == [.serverClosed])
    }
}
