import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOReplay

/// A recorded Socket.IO packet for hand-made scripts.
private func sio(
    _ time: Int64, _ direction: Direction, _ type: SocketIOPacketType, nsp: String = "/", id: UInt64? = nil,
    _ json: String? = nil
) -> (Int64, Direction, SocketIOPacket) {
    var packet = SocketIOPacket(type: type, namespace: nsp, ackID: id, json: json.map { ByteBuffer(string: $0) })
    if type == .event, let json, let quote = json.dropFirst(2).firstIndex(of: "\"") {
        packet.eventName = String(json[json.index(json.startIndex, offsetBy: 2)..<quote])
    }
    return (time, direction, packet)
}

private func session(
    _ index: Int, opened: Int64, closed: (Int64, String)? = nil, _ packets: [(Int64, Direction, SocketIOPacket)]
) -> ScriptSession {
    ScriptSession(
        index: index, sid: "S\(index)", engineIOVersion: .v4, initialTransport: .websocket, path: "/socket.io/",
        query: [], handshake: "{}", openedAt: opened, closedAt: closed?.0, closeCause: closed?.1,
        packets: packets.enumerated().map { offset, item in
            ScriptPacket(index: offset, time: item.0, direction: item.1, transport: .websocket, packet: item.2)
        })
}

private func script(_ sessions: [ScriptSession]) -> ReplayScript {
    ReplayScript(header: RecordingHeader(startedAtMicros: 0, tool: "test"), sessions: sessions, endTime: 10_000_000)
}

/// Two clients in a room: the camera asks for an ack, then its offer is relayed to the viewer.
private let room = script([
    session(
        0, opened: 0,
        [
            sio(1_000, .clientToServer, .connect, "{}"),
            sio(2_000, .serverToClient, .connect, #"{"sid":"recorded-socket-id"}"#),
            sio(3_000, .serverToClient, .event, #"["welcome"]"#),
            sio(50_000, .clientToServer, .event, id: 1, #"["join",{"code":"1"}]"#),
            sio(51_000, .serverToClient, .ack, id: 1, #"[{"ok":true}]"#),
            sio(90_000, .clientToServer, .event, #"["offer",{"sdp":"x"}]"#),
        ]),
    session(
        1, opened: 10_000,
        [
            sio(11_000, .clientToServer, .connect, "{}"),
            sio(12_000, .serverToClient, .connect, #"{"sid":"other"}"#),
            sio(92_000, .serverToClient, .event, #"["offer",{"sdp":"x"}]"#),
        ]),
])

private func conductor(_ script: ReplayScript, _ configure: (inout ServeConfiguration) -> Void = { _ in })
    -> ReplayConductor
{
    var configuration = ServeConfiguration()
    configure(&configuration)
    return ReplayConductor(plan: ServePlan(script: script), configuration: configuration, makeSocketID: { "FRESH" })
}

private func packet(_ type: SocketIOPacketType, id: UInt64? = nil, _ json: String? = nil) -> SocketIOPacket {
    sio(0, .clientToServer, type, id: id, json).2
}

@Suite struct ReplayConductorTests {
    @Test func planAttributesAcksRepliesAndRelaysToTheirTriggers() {
        let plan = ServePlan(script: room)
        let triggers = plan.steps.map { "\($0.session):\($0.kind) <- \($0.trigger) +\($0.delay)" }
        #expect(
            triggers == [
                "0:packet(1) <- clientPacket(session: 0, packet: 0) +1000",
                "0:packet(2) <- clientPacket(session: 0, packet: 0) +2000",
                "1:packet(1) <- clientPacket(session: 1, packet: 0) +1000",
                "0:packet(4) <- clientPacket(session: 0, packet: 3) +1000",
                "1:packet(2) <- clientPacket(session: 0, packet: 5) +2000",
            ])
    }

    @Test func anActionWithNothingInTheWindowIsPlayedAtItsOffsetFromTheSessionStart() {
        let lonely = script([session(0, opened: 0, [sio(5_000_000, .serverToClient, .event, #"["tick"]"#)])])
        let plan = ServePlan(script: lonely, windowMicros: 1_000_000)
        #expect(plan.steps.map(\.trigger) == [.sessionOpened(session: 0)])
        #expect(plan.steps.map(\.delay) == [5_000_000])
    }

    @Test func repliesGoOutAfterTheRecordedDelayWithTheLiveAckIDAndAFreshSocketID() {
        var machine = conductor(room)
        #expect(machine.sessionOpened(1, name: "live-1", version: .v4, now: 100) == [])
        #expect(machine.clientPacket(1, packet(.connect, "{}"), now: 200) == [])
        #expect(machine.nextDue == 1_200)
        #expect(machine.due(now: 1_199) == [])
        #expect(
            machine.due(now: 1_200) == [
                .send(1, SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"FRESH"}"#)))
            ])
        #expect(machine.due(now: 2_200).count == 1)
        // The live client numbers its acks from 7; the recorded server answered id 1.
        #expect(machine.clientPacket(1, packet(.event, id: 7, #"["join",{"code":"1"}]"#), now: 10_000) == [])
        #expect(machine.due(now: 11_000) == [.send(1, packet(.ack, id: 7, #"[{"ok":true}]"#))])
    }

    @Test func speedDividesTheRecordedDelays() {
        var machine = conductor(room) { $0.speed = 4 }
        _ = machine.sessionOpened(1, name: "live-1", version: .v4, now: 0)
        _ = machine.clientPacket(1, packet(.connect, "{}"), now: 1_000)
        // Recorded: CONNECT reply 1 ms and welcome 2 ms after the client's CONNECT.
        #expect(machine.nextDue == 1_250)
        #expect(machine.due(now: 1_250).count == 1)
        #expect(machine.nextDue == 1_500)
    }

    @Test func aPacketInOneSessionTriggersTheRelayToAnother() {
        var machine = conductor(room) { $0.fast = true }
        _ = machine.sessionOpened(1, name: "camera", version: .v4, now: 0)
        _ = machine.sessionOpened(2, name: "viewer", version: .v4, now: 0)
        _ = machine.clientPacket(1, packet(.connect, "{}"), now: 0)
        _ = machine.clientPacket(2, packet(.connect, "{}"), now: 0)
        #expect(machine.due(now: 0).count == 3)
        #expect(machine.clientPacket(1, packet(.event, #"["offer",{"sdp":"x"}]"#), now: 5) == [])
        #expect(machine.due(now: 5) == [.send(2, packet(.event, #"["offer",{"sdp":"x"}]"#))])
        #expect(machine.summary.serverPacketsSent == 4)
        #expect(machine.summary.clientPacketsMatched == 3)
    }

    @Test func anUnmatchedPacketIsReportedAndClosesTheSessionWhenAskedTo() {
        var machine = conductor(room) { $0.onUnmatched = .close }
        _ = machine.sessionOpened(1, name: "live-1", version: .v4, now: 0)
        let actions = machine.clientPacket(1, packet(.event, #"["surprise",1]"#), now: 0)
        #expect(
            actions == [
                .report(
                    #"unmatched client packet in session live-1: / EVENT surprise ["surprise",1] (no such packet left in recorded sessions S0, S1)"#
                ),
                .closeUnmatched(1),
            ])
        #expect(machine.summary.clientPacketsUnmatched == 1)
        #expect(machine.clientPacket(1, packet(.disconnect), now: 0) == [], "leaving is never unmatched")
        #expect(machine.summary.clientPacketsUnmatched == 1)
        #expect(
            machine.undecodableClientPacket(1, reason: "bad") == [
                .report("unmatched client packet in session live-1: not Socket.IO (bad)"), .closeUnmatched(1),
            ])
        #expect(machine.summary.clientPacketsUnmatched == 2 && machine.summary.clientPacketsMalformed == 1)
        #expect(machine.summary.description.contains("0 client packet(s) matched, 2 unmatched (1 malformed)"))
    }

    @Test func aClientThatLeavesWithoutDisconnectStillTriggersWhatItsDisconnectCaused() {
        let leaving = script([
            session(0, opened: 0, [sio(100, .clientToServer, .connect, "{}"), sio(200, .clientToServer, .disconnect)]),
            session(1, opened: 50, [sio(300, .serverToClient, .event, #"["peer_left"]"#)]),
        ])
        var machine = conductor(leaving) { $0.fast = true }
        _ = machine.sessionOpened(1, name: "leaver", version: .v4, now: 0)
        _ = machine.sessionOpened(2, name: "stayer", version: .v4, now: 0)
        _ = machine.clientPacket(1, packet(.connect, "{}"), now: 0)
        machine.sessionEnded(1, now: 10)
        #expect(machine.due(now: 10) == [.send(2, packet(.event, #"["peer_left"]"#))])
    }

    @Test func sessionsArePairedByNamespaceWhenAsked() {
        let two = script([
            session(0, opened: 0, [sio(10, .clientToServer, .connect, nsp: "/admin", "{}")]),
            session(1, opened: 20, [sio(30, .clientToServer, .connect, "{}")]),
        ])
        var machine = conductor(two) { $0.matching = .namespace }
        _ = machine.sessionOpened(1, name: "live", version: .v4, now: 0)
        #expect(machine.recordedSession(of: 1) == nil)
        _ = machine.clientPacket(1, packet(.connect, "{}"), now: 0)
        #expect(machine.recordedSession(of: 1)?.sid == "S1")
    }

    @Test func theServerDroppingAConnectionAfterAnHTTPRequestHappensWhenThatRequestArrives() {
        let drop = script([session(0, opened: 0, closed: (2_000_000, "websocket closed by server"), [])])
        let plan = ServePlan(
            script: drop, http: [RecordedHTTPExchange(method: "POST", path: "/api/admin/drop", status: 200, time: 1_999_000)])
        var machine = ReplayConductor(
            plan: plan, configuration: ServeConfiguration(httpBodies: ["POST /api/admin/drop": [#"{"dropped":1}"#]]),
            makeSocketID: { "X" })
        _ = machine.sessionOpened(1, name: "alice", version: .v4, now: 0)
        #expect(machine.due(now: 5_000_000) == [])
        #expect(machine.httpRequest(method: "GET", path: "/nope", now: 0) == nil)
        let answer = machine.httpRequest(method: "POST", path: "/api/admin/drop", now: 6_000_000)
        #expect(answer?.status == 200 && answer?.body == ByteBuffer(string: #"{"dropped":1}"#))
        #expect(machine.due(now: 6_001_000) == [.close(1, sendingClosePacket: false)])
    }

    @Test func plainHTTPIsAnsweredFromTheRecordingMatchingTheBodyWhenThatIsAllThatDiffers() throws {
        let empty = script([session(0, opened: 0, closed: nil, [])])
        func login(_ user: String, _ answer: String, _ time: Int64) -> RecordedHTTPExchange {
            RecordedHTTPExchange(
                method: "POST", path: "/api/login", status: 200, time: time,
                requestBody: ByteBuffer(string: #"{"user":"\#(user)"}"#), responseBody: ByteBuffer(string: answer),
                responseHeaders: [
                    .init("Content-Type", "application/json"), .init("Content-Length", "99"),
                    .init("Connection", "keep-alive"), .init("Set-Cookie", "[redacted]"), .init("X-App", "1"),
                ])
        }
        let page = RecordedHTTPExchange(
            method: "GET", path: "/page?v=1", status: 200, time: 3, responseBody: ByteBuffer(string: "first"))
        let again = RecordedHTTPExchange(
            method: "GET", path: "/page?v=1", status: 304, time: 4, responseBody: ByteBuffer(string: "second"))
        let plan = ServePlan(script: empty, http: [login("ann", "A", 1), login("bob", "B", 2), page, again])
        var machine = ReplayConductor(plan: plan, configuration: ServeConfiguration(), makeSocketID: { "X" })
        // bob logs in first: his recorded answer, not the first recorded login.
        let answer = machine.httpRequest(
            method: "POST", path: "/api/login", body: ByteBuffer(string: #"{"user":"bob"}"#), now: 0)
        let bob = try #require(answer)
        #expect(bob.body == ByteBuffer(string: "B") && bob.status == 200)
        // Recorded headers without hop-by-hop ones, Content-Length or redacted values.
        #expect(bob.headers?.map(\.name) == ["Content-Type", "X-App"])
        let ann = machine.httpRequest(method: "POST", path: "/api/login", body: ByteBuffer(string: "other"), now: 0)
        #expect(ann?.body == ByteBuffer(string: "A"))
        // Repeats in recorded order; the query is part of the match.
        #expect(machine.httpRequest(method: "GET", path: "/page?v=1", now: 0)?.body == ByteBuffer(string: "first"))
        #expect(machine.httpRequest(method: "GET", path: "/page?v=1", now: 0)?.status == 304)
        #expect(machine.httpRequest(method: "GET", path: "/page?v=1", now: 0) == nil)
    }
}

/// The usual chat test: two clients created together look the same through the handshake, then one
/// echoes and the other joins a room (and broadcasts to it). Recorded: the joiner connected first.
private let twins = script([
    session(
        0, opened: 0,
        [
            sio(1_000, .clientToServer, .connect, "{}"),
            sio(2_000, .serverToClient, .connect, #"{"sid":"joiner-socket"}"#),
            sio(2_100, .serverToClient, .event, #"["welcome",{"nsp":"/"}]"#),
            sio(3_000_000, .clientToServer, .event, id: 0, #"["join","room1"]"#),
            sio(3_001_000, .serverToClient, .ack, id: 0, #"["room1"]"#),
            sio(6_000_000, .clientToServer, .event, #"["broadcast","hi"]"#),
        ]),
    session(
        1, opened: 10_000,
        [
            sio(11_000, .clientToServer, .connect, "{}"),
            sio(12_000, .serverToClient, .connect, #"{"sid":"echoer-socket"}"#),
            sio(12_100, .serverToClient, .event, #"["welcome",{"nsp":"/"}]"#),
            sio(2_000_000, .clientToServer, .event, id: 2, #"["echo","hello"]"#),
            sio(2_001_000, .serverToClient, .ack, id: 2, #"["hello"]"#),
            sio(6_002_000, .serverToClient, .event, #"["room-message","hi"]"#),
        ]),
])

@Suite struct SessionPairingTests {
    @Test func clientsThatConnectInTheOtherOrderArePairedOnceTheirPacketsDiverge() {
        var ids = ["live-a", "live-b"].makeIterator()
        var machine = ReplayConductor(
            plan: ServePlan(script: twins), configuration: ServeConfiguration(fast: true), makeSocketID: { ids.next()! })
        // The echoer connects first live; the joiner first in the recording.
        #expect(machine.sessionOpened(1, name: "echoer", version: .v4, now: 0) == [])
        #expect(machine.sessionOpened(2, name: "joiner", version: .v4, now: 0) == [])
        #expect(machine.clientPacket(1, packet(.connect, "{}"), now: 1) == [])
        #expect(machine.clientPacket(2, packet(.connect, "{}"), now: 1) == [])
        // What both recorded sessions did alike goes out: a CONNECT reply with each one's own
        // socket id, and the welcome. Neither is decided.
        #expect(
            machine.due(now: 1) == [
                .send(1, SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"live-a"}"#))),
                .send(1, packet(.event, #"["welcome",{"nsp":"/"}]"#)),
                .send(2, SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"live-b"}"#))),
                .send(2, packet(.event, #"["welcome",{"nsp":"/"}]"#)),
            ])
        #expect(machine.candidates(of: 1).map(\.sid) == ["S0", "S1"])
        #expect(machine.candidates(of: 2).map(\.sid) == ["S0", "S1"])
        #expect(machine.summary.sessionsServed == 0)

        // The echo only fits the echoer's recording: both narrow, and its ack carries the live id.
        #expect(machine.clientPacket(1, packet(.event, id: 0, #"["echo","hello"]"#), now: 2) == [])
        #expect(machine.recordedSession(of: 1)?.sid == "S1")
        #expect(machine.recordedSession(of: 2)?.sid == "S0")
        #expect(machine.summary.sessionsServed == 2)
        #expect(machine.due(now: 2) == [.send(1, packet(.ack, id: 0, #"["hello"]"#))])
        #expect(machine.clientPacket(2, packet(.event, id: 5, #"["join","room1"]"#), now: 3) == [])
        #expect(machine.due(now: 3) == [.send(2, packet(.ack, id: 5, #"["room1"]"#))])
        // The joiner's broadcast reaches the echoer.
        #expect(machine.clientPacket(2, packet(.event, #"["broadcast","hi"]"#), now: 4) == [])
        #expect(machine.due(now: 4) == [.send(1, packet(.event, #"["room-message","hi"]"#))])
        #expect(machine.summary.clientPacketsUnmatched == 0)
    }

    @Test func whereTheRecordedServerAnsweredTheSameClientsDifferentlyRecordedOrderDecides() {
        let greeted = script([
            session(0, opened: 0, [sio(1, .clientToServer, .connect, "{}"), sio(2, .serverToClient, .event, #"["you",1]"#)]),
            session(1, opened: 5, [sio(6, .clientToServer, .connect, "{}"), sio(7, .serverToClient, .event, #"["you",2]"#)]),
        ])
        var machine = conductor(greeted) { $0.fast = true }
        _ = machine.sessionOpened(1, name: "first", version: .v4, now: 0)
        _ = machine.sessionOpened(2, name: "second", version: .v4, now: 0)
        #expect(machine.candidates(of: 2).count == 2)
        _ = machine.clientPacket(2, packet(.connect, "{}"), now: 1)
        // The client that connected second live gets the second recorded session's greeting, as
        // with `--match order`, though it asked first; the other one is then decided too.
        #expect(machine.due(now: 1) == [.send(2, packet(.event, #"["you",2]"#))])
        #expect(machine.recordedSession(of: 2)?.sid == "S1")
        #expect(machine.recordedSession(of: 1)?.sid == "S0")
    }

    @Test func aPayloadTheSameByteForByteNarrowsToTheSessionsThatSentIt() {
        let chat = script([
            session(0, opened: 0, [sio(1, .clientToServer, .event, #"["say","from alice"]"#)]),
            session(1, opened: 5, [sio(6, .clientToServer, .event, #"["say","from bob"]"#)]),
        ])
        var machine = conductor(chat) { $0.fast = true }
        _ = machine.sessionOpened(1, name: "bob", version: .v4, now: 0)
        _ = machine.clientPacket(1, packet(.event, #"["say","from bob"]"#), now: 1)
        #expect(machine.recordedSession(of: 1)?.sid == "S1")
        // Same name, another payload: still consistent with both, recorded order would decide.
        var other = conductor(chat) { $0.fast = true }
        _ = other.sessionOpened(1, name: "carol", version: .v4, now: 0)
        _ = other.clientPacket(1, packet(.event, #"["say","from carol"]"#), now: 1)
        #expect(other.candidates(of: 1).map(\.sid) == ["S0", "S1"])
        other.sessionEnded(1, now: 2)
        #expect(other.recordedSession(of: 1)?.sid == "S0")
    }

    @Test("Every --match mode completes the namespace CONNECT", arguments: ServeConfiguration.Matching.allCases)
    func everyModeCompletesTheHandshake(_ mode: ServeConfiguration.Matching) {
        var echoer = twins
        echoer.sessions = [twins.sessions[1]]
        echoer.sessions[0].index = 0
        var machine = conductor(echoer) {
            $0.fast = true
            $0.matching = mode
        }
        _ = machine.sessionOpened(1, name: "live", version: .v4, now: 0)
        let answered = machine.clientPacket(1, packet(.connect, "{}"), now: 1) + machine.due(now: 1)
        #expect(answered.contains(.send(1, SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"FRESH"}"#)))))
        // The events mode pairs at the first event and sends what the CONNECT caused then.
        _ = machine.clientPacket(1, packet(.event, id: 3, #"["echo","hello"]"#), now: 2)
        let later = machine.due(now: 2)
        #expect(later.contains(.send(1, packet(.ack, id: 3, #"["hello"]"#))), "\(mode): \(later)")
        #expect(!later.contains { if case .send(_, let sent) = $0 { sent.type == .connect } else { false } })
    }
}


@Suite struct ServeIDMappingTests {
    /// A signalling server tags relayed offers with the sender's socket id, and the viewer answers
    /// to that id.
    private let signalling = script([
        session(
            0, opened: 0,
            [
                sio(1_000, .clientToServer, .connect, "{}"),
                sio(2_000, .serverToClient, .connect, #"{"sid":"cameraSocketRecorded"}"#),
                sio(3_000_000, .serverToClient, .event, #"["answer",{"from":"viewerSocketRecorded"}]"#),
            ]),
        session(
            1, opened: 10_000,
            [
                sio(11_000, .clientToServer, .connect, "{}"),
                sio(12_000, .serverToClient, .connect, #"{"sid":"viewerSocketRecorded"}"#),
                sio(13_000, .serverToClient, .event, #"["peers",["cameraSocketRecorded","viewerSocketRecorded"],"S1"]"#),
                sio(2_999_000, .clientToServer, .event, #"["answer",{"to":"cameraSocketRecorded"}]"#),
            ]),
    ])

    @Test func recordedIDsInPayloadsAreTheLiveOnesAndLiveIDsAreMappedBackForComparison() {
        var issued = ["cameraSocketLive1", "viewerSocketLive1"].makeIterator()
        var machine = ReplayConductor(
            plan: ServePlan(script: signalling), configuration: ServeConfiguration(fast: true),
            makeSocketID: { issued.next()! })
        _ = machine.sessionOpened(1, name: "camera-sid", version: .v4, now: 0)
        _ = machine.clientPacket(1, packet(.connect, "{}"), now: 0)
        _ = machine.sessionOpened(2, name: "viewer-sid", version: .v4, now: 0)
        _ = machine.clientPacket(2, packet(.connect, "{}"), now: 0)
        #expect(
            machine.due(now: 0) == [
                .send(1, SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"cameraSocketLive1"}"#))),
                .send(2, SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"viewerSocketLive1"}"#))),
                .send(2, packet(.event, #"["peers",["cameraSocketLive1","viewerSocketLive1"],"viewer-sid"]"#)),
            ])
        // The viewer answers to the camera's live id: as recorded, once mapped back.
        #expect(machine.clientPacket(2, packet(.event, #"["answer",{"to":"cameraSocketLive1"}]"#), now: 1) == [])
        #expect(machine.due(now: 1) == [.send(1, packet(.event, #"["answer",{"from":"viewerSocketLive1"}]"#))])
        #expect(machine.summary.clientPacketsUnmatched == 0)
    }

    @Test func withoutMappingRecordedPayloadsGoOutAsRecorded() {
        var configuration = ServeConfiguration(fast: true)
        configuration.mapIDs = false
        var machine = ReplayConductor(plan: ServePlan(script: signalling), configuration: configuration, makeSocketID: { "X" })
        _ = machine.sessionOpened(1, name: "camera-sid", version: .v4, now: 0)
        _ = machine.clientPacket(1, packet(.connect, "{}"), now: 0)
        #expect(
            machine.due(now: 0) == [
                .send(1, SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"cameraSocketRecorded"}"#)))
            ])
    }
}
