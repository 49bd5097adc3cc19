import NIOCore
import SIOWire
import Testing

@testable import SIOReplay

private func event(
    _ json: String,
    namespace: String = "/",
    id: UInt64? = nil,
    attachments: [ByteBuffer] = []
)
    -> SocketIOPacket
{
    let name = JSONValue(parsing: json).flatMap { value -> String? in
        if case .array(let items) = value, case .string(let s) = items.first { return s }
        return nil
    }
    return SocketIOPacket(
        type: attachments.isEmpty ? .event : .binaryEvent,
        namespace: namespace,
        ackID: id,
        attachmentCount: attachments.count,
        json: ByteBuffer(string: json),
        attachments: attachments,
        eventName: name
    )
}

private func ack(_ json: String, id: UInt64) -> SocketIOPacket {
    SocketIOPacket(type: .ack, ackID: id, json: ByteBuffer(string: json))
}

private func session(_ packets: [(Direction, SocketIOPacket)]) -> ScriptSession {
    ScriptSession(
        index: 0,
        sid: "S",
        engineIOVersion: .v4,
        initialTransport: .websocket,
        path: "/socket.io/",
        query: [],
        handshake: "{}",
        openedAt: 0,
        packets: packets.enumerated().map { i, p in
            ScriptPacket(index: i, time: Int64(i) * 10, direction: p.0, transport: .websocket, packet: p.1)
        }
    )
}

@Suite struct JSONComparisonTests {
    @Test func keyOrderAndNumberSpellingDoNotMatter() {
        #expect(
            JSONValue(parsing: #"{"a":1,"b":[true,null,"x"]}"#)
                == JSONValue(parsing: #"{ "b": [true, null, "x"], "a": 1.0 }"#)
        )
        #expect(JSONValue(parsing: #"{"a":1}"#) != JSONValue(parsing: #"{"a":"1"}"#))
        #expect(JSONValue(parsing: #"["\u00e9\ud83d\ude00"]"#) == JSONValue(parsing: "[\"é😀\"]"))
        #expect(JSONValue(parsing: "9007199254740993") != JSONValue(parsing: "9007199254740992"))
        #expect(JSONValue(parsing: "[1,") == nil)
        #expect(JSONValue(parsing: String(repeating: "[", count: 1000)) == nil)
    }

    @Test func onlyJSONIsAccepted() {
        // `--auth` is validated with this parser: what a JSON server would refuse is refused here.
        let refused = ["01", "+1", "1.", ".5", "-", "1e", "1e+", "--1", #""\x""#, #""\u12G4""#, "\"a\u{1}b\"", #"{"t":01}"#]
        for bad in refused {
            #expect(JSONValue(parsing: bad) == nil, "\(bad)")
        }
        for good in ["0", "-0", "1.5", "-12.5e+3", "2E-2", #""\/\"\\\b\f\n\r\t\u00e9""#, #"{"t":1}"#] {
            #expect(JSONValue(parsing: good) != nil, "\(good)")
        }
    }

    @Test func ignorePaths() throws {
        let recorded = try #require(JSONValue(parsing: #"["m",{"id":1,"at":5,"inner":{"id":2}}]"#))
        let received = try #require(JSONValue(parsing: #"["m",{"id":7,"at":5,"inner":{"id":9}}]"#))
        let deep = try JSONPath("$..id")
        #expect(deep.ignoring(in: recorded) == deep.ignoring(in: received))
        let shallow = try JSONPath("$[1].id")
        #expect(shallow.ignoring(in: recorded) != shallow.ignoring(in: received))
        let wildcard = try JSONPath("$[*]['inner'].id")
        #expect(
            wildcard.ignoring(in: shallow.ignoring(in: recorded))
                == wildcard.ignoring(in: shallow.ignoring(in: received))
        )
        let extra = try #require(JSONValue(parsing: #"[{"ok":true,"queued":true}]"#))
        let plain = try #require(JSONValue(parsing: #"[{"ok":true}]"#))
        #expect(try JSONPath("$[0].queued").ignoring(in: extra) == plain)
        #expect(try JSONPath("$..queued").ignoring(in: extra) == plain)
        #expect(throws: JSONPath.ParseError.self) { try JSONPath("id") }
        #expect(throws: JSONPath.ParseError.self) { try JSONPath("$[x]") }
    }

    @Test func differencesNameThePath() {
        let comparer = PacketComparer()
        #expect(
            comparer.difference(recorded: event(#"["m",{"a":1,"b":2}]"#), received: event(#"["m",{"b":2,"a":1}]"#))
                == nil
        )
        let detail = comparer.difference(
            recorded: event(#"["m",{"a":1,"b":2}]"#),
            received: event(#"["m",{"a":1,"b":3}]"#)
        )
        #expect(detail == "$[1].b: recorded 2, received 3")
        let bytes = comparer.difference(
            recorded: event(#"["f",{"_placeholder":true,"num":0}]"#, attachments: [ByteBuffer(bytes: [1, 2, 3])]),
            received: event(#"["f",{"_placeholder":true,"num":0}]"#, attachments: [ByteBuffer(bytes: [1, 2, 4])])
        )
        #expect(bytes?.hasPrefix("attachment 0") == true)
        let connect = SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"A"}"#))
        let live = SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"sid":"B"}"#))
        #expect(comparer.difference(recorded: connect, received: live) == nil)
    }
}

@Suite struct SessionMatcherTests {
    @Test func idsInPayloadsAreComparedAsMappedToTheLiveOnes() {
        // A private message tagged with another client's socket id, as the Express chat does.
        let s = session([
            (.serverToClient, event(#"["private",{"from":"elpQk4kMaWfh8zAfAAAB","text":"hi"}]"#)),
            (.serverToClient, event(#"["users",[{"socketId":"elpQk4kMaWfh8zAfAAAB"}]]"#)),
        ])
        var ids = IDMapping()
        ids.add(recorded: "elpQk4kMaWfh8zAfAAAB", live: "dPZ7aaaaaaaaaaaaAAAH")
        var matcher = SessionMatcher(session: s, comparer: PacketComparer())
        matcher.receive(event(#"["private",{"from":"dPZ7aaaaaaaaaaaaAAAH","text":"hi"}]"#), ids: ids)
        matcher.receive(event(#"["users",[{"socketId":"dPZ7aaaaaaaaaaaaAAAH"}]]"#), ids: ids)
        #expect(matcher.differences(ids: ids).isEmpty)
        // Without the mapping (--no-map-ids) the id is a difference, named by its path.
        #expect(matcher.differences().first?.detail.hasPrefix("$[1].from: recorded") == true)
    }

    @Test func identicalSessionHasNoDifferences() {
        let s = session([
            (.clientToServer, event(#"["a"]"#, id: 1)), (.serverToClient, ack("[1]", id: 1)),
            (.serverToClient, event(#"["b",2]"#)),
        ])
        var matcher = SessionMatcher(session: s, comparer: PacketComparer())
        matcher.receive(ack("[1]", id: 1))
        matcher.receive(event(#"["b",2]"#))
        #expect(matcher.differences().isEmpty)
        #expect(matcher.hasArrived(packetIndex: 1) && matcher.hasArrived(packetIndex: 2))
    }

    @Test func missingChangedExtraAndOrder() {
        let s = session([
            (.serverToClient, event(#"["a",1]"#)), (.serverToClient, event(#"["b",1]"#)),
            (.serverToClient, event(#"["c",1]"#)), (.serverToClient, event(#"["d",1]"#)),
        ])
        var matcher = SessionMatcher(session: s, comparer: PacketComparer())
        matcher.receive(event(#"["c",1]"#))
        matcher.receive(event(#"["a",2]"#))
        matcher.receive(event(#"["x"]"#))
        matcher.receive(event(#"["d",1]"#))
        let kinds = matcher.differences().map { "\($0.kind.rawValue)#\($0.packetIndex ?? -1)" }
        #expect(
            Set(kinds) == ["changed#0", "missing#1", "extra#-1", "out of order#0"]
                || Set(kinds) == ["changed#0", "missing#1", "extra#-1", "out of order#2"]
        )
        #expect(!matcher.hasArrived(packetIndex: 1))
    }

    @Test func identicalPacketsMayRace() {
        let s = session([(.serverToClient, event(#"["u",["a"]]"#)), (.serverToClient, event(#"["u",["a","b"]]"#))])
        var matcher = SessionMatcher(session: s, comparer: PacketComparer(), checkOrder: false)
        matcher.receive(event(#"["u",["a","b"]]"#))
        matcher.receive(event(#"["u",["a"]]"#))
        #expect(matcher.differences().isEmpty)
    }

    @Test func serverAckIDsAreMapped() {
        let s = session([(.serverToClient, event(#"["confirm"]"#, id: 41)), (.clientToServer, ack("[true]", id: 41))])
        var matcher = SessionMatcher(session: s, comparer: PacketComparer())
        matcher.receive(event(#"["confirm"]"#, id: 1))
        #expect(matcher.liveAckID(forRecorded: 41, namespace: "/") == 1)
        #expect(matcher.differences().isEmpty)
    }
}

@Suite struct ReplayTimelineTests {
    @Test func stepsWaitForServerPacketsRecordedBeforeThem() throws {
        let script = try ReplayScript.load(path: sampleRecording("chat-acks"))
        let timeline = ReplayTimeline(sessions: script.sessions, endTime: script.endTime)
        #expect(timeline.steps.map(\.time) == timeline.steps.map(\.time).sorted())
        #expect(timeline.steps.filter { if case .open = $0.action { true } else { false } }.count == script.sessions.count)
        #expect(timeline.steps.filter { if case .close = $0.action { true } else { false } }.count == script.sessions.count)
        for step in timeline.steps {
            let before = timeline.expectations.prefix(step.prerequisites)
            #expect(before.allSatisfy { $0.time <= step.time })
            if case .close = step.action {} else {
                #expect(timeline.expectations.dropFirst(step.prerequisites).allSatisfy { $0.time >= step.time })
            }
        }
        // A session's close is its last step: a DISCONNECT recorded after the close (in flight as
        // the WebSocket closed) is sent just before it.
        for session in script.sessions {
            let mine = timeline.steps.filter { $0.session == session.index }
            #expect(mine.first?.action == .open(session: session.index) && mine.last?.action == .close(session: session.index))
            #expect(
                mine.filter { if case .send = $0.action { true } else { false } }.count == session.clientPackets.count
            )
        }
        let bob = script.sessions[2]
        #expect(bob.clientPackets.last?.type == .disconnect && bob.clientPackets.last!.time > bob.closedAt!)
    }
}
