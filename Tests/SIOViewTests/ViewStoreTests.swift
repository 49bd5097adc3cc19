import Foundation
import NIOCore
import Testing

@testable import SIOView

/// The store and its API over hand-written recording lines: sessions, ack joins, filters, paging.
struct ViewStoreTests {
    static let lines = [
        #"{"t":10,"k":"conn","conn":1,"peer":"127.0.0.1:5000"}"#,
        #"{"t":20,"k":"open","sid":"S1","conn":1,"eio":4,"tr":"polling","path":"/socket.io/","query":[],"headers":[],"handshake":{}}"#,
        #"{"t":30,"k":"sio","sid":"S1","conn":1,"dir":"c2s","tr":"polling","type":"CONNECT","nsp":"/","data":{}}"#,
        #"{"t":40,"k":"eio","sid":"S1","conn":1,"dir":"s2c","tr":"polling","type":"ping"}"#,
        #"{"t":50,"k":"upgrade","sid":"S1","conn":2}"#,
        #"{"t":60,"k":"sio","sid":"S1","conn":2,"dir":"c2s","tr":"websocket","type":"EVENT","nsp":"/chat","id":7,"event":"msg:send","data":["msg:send","hi <b>"]}"#,
        #"{"t":90,"k":"sio","sid":"S1","conn":2,"dir":"s2c","tr":"websocket","type":"ACK","nsp":"/chat","id":7,"ack_us":30,"data":[true]}"#,
        #"{"t":95,"k":"sio","sid":"S2","conn":3,"dir":"s2c","tr":"websocket","type":"CONNECT_ERROR","nsp":"/","data":{"message":"nope"}}"#,
        #"{"t":99,"k":"close","sid":"S1","cause":"client close packet"}"#,
    ]

    static func api(capacity: Int = .max) -> ViewAPI {
        let store = ViewStore(start: 1_000_000, capacity: capacity)
        for line in Self.lines {
            Array(line.utf8).withUnsafeBytes { #expect(store.add(line: $0, anchor: 1_000_000, source: 0)) }
        }
        return ViewAPI(store: store)
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test func sessionsAreSummarisedAsInspectCountsThem() throws {
        let result = try Self.json(Self.api().sessions(ViewQuery()))
        let rows = try #require(result["rows"] as? [[String: Any]])
        #expect(rows.count == 2)
        let s1 = rows[0]
        #expect(s1["sid"] as? String == "S1")
        #expect(s1["peer"] as? String == "127.0.0.1:5000")
        #expect(s1["transport"] as? String == "upgraded")
        #expect((s1["transports"] as? [[Any]])?.compactMap { $0[1] as? String } == ["polling", "websocket"])
        #expect(s1["namespaces"] as? [String] == ["/", "/chat"])
        #expect(s1["c2s"] as? Int == 2 && s1["s2c"] as? Int == 1 && s1["eio"] as? Int == 1)
        #expect(s1["p50_us"] as? Int == 30)
        #expect(s1["close"] as? String == "client close packet")
        #expect(s1["duration_us"] as? Int == 79)
        #expect((rows[1]["errors"] as? [String])?.first?.hasPrefix("CONNECT_ERROR / ") == true)
    }

    @Test func anAckIsJoinedToItsEventBothWays() throws {
        let api = Self.api()
        let rows = try #require(try Self.json(api.packets(ViewQuery()))["rows"] as? [[String: Any]])
        let event = try #require(rows.first { ($0["line"] as? [String: Any])?["type"] as? String == "EVENT" })
        let ack = try #require(rows.first { ($0["line"] as? [String: Any])?["type"] as? String == "ACK" })
        #expect(event["pair"] as? Int == ack["seq"] as? Int)
        #expect(ack["pair"] as? Int == event["seq"] as? Int)
        #expect(ack["ack_event"] as? String == "msg:send")
    }

    /// An EVENT whose payload does not start with a name (`emit` of a non-string first argument
    /// from a hand-written client) is still drawn with its ACK.
    @Test func anEventWithoutANameIsJoinedToItsAck() throws {
        let store = ViewStore(start: 0)
        for line in [
            #"{"t":1,"k":"sio","sid":"S1","conn":1,"dir":"c2s","tr":"websocket","type":"EVENT","nsp":"/","id":3,"data":[1,2]}"#,
            #"{"t":5,"k":"sio","sid":"S1","conn":1,"dir":"s2c","tr":"websocket","type":"ACK","nsp":"/","id":3,"ack_us":4,"data":[]}"#,
        ] {
            Array(line.utf8).withUnsafeBytes { #expect(store.add(line: $0, anchor: 0, source: 0)) }
        }
        let event = try #require(store.entry(0)), ack = try #require(store.entry(1))
        #expect(event.pair == 1 && ack.pair == 0 && ack.ackMicros == 4)
    }

    @Test func filtersSelectAsInspectDoesAndPagesAreSlices() throws {
        let api = Self.api()
        func total(_ query: String) throws -> Int {
            try #require(try Self.json(api.packets(ViewQuery(query: query[...])))["total"] as? Int)
        }
        // Without --engine: no conn, eio; open, upgrade, close and the packets are shown.
        #expect(try total("") == 7)
        #expect(try total("engine=1") == 9)
        #expect(try total("event=msg:*") == 2)  // the event and its ack
        #expect(try total("namespace=/chat&dir=server") == 1)
        #expect(try total("session=S2") == 1)
        #expect(try total("type=connect_error") == 1)
        #expect(try total("text=%3Cb%3E") == 1)
        #expect(try total("since=55us&until=92us") == 2)
        let page = try Self.json(api.packets(ViewQuery(query: "offset=2&limit=2")))
        #expect((page["rows"] as? [Any])?.count == 2 && page["total"] as? Int == 7)
    }

    @Test func theWireFormIsTheSocketIOText() throws {
        let api = Self.api()
        let packet = try Self.json(try #require(api.packet(ViewQuery(query: "seq=5"))))
        #expect(packet["wire"] as? String == #"42/chat,7["msg:send","hi <b>"]"#)
    }

    @Test func liveAnswersWhatIsNewAndSaysWhatWasSkipped() throws {
        let api = Self.api()
        let all = try Self.json(api.live(ViewQuery(query: "after=0&engine=1&limit=3")))
        #expect((all["rows"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } == [6, 7, 8])
        #expect(all["skipped"] as? Int == 6)
        #expect(all["next"] as? Int == 9)
        let none = try Self.json(api.live(ViewQuery(query: "after=9")))
        #expect((none["rows"] as? [Any])?.isEmpty == true)
        // A paused page asks with limit=0: no rows, only how many came.
        let paused = try Self.json(api.live(ViewQuery(query: "after=2&engine=1&limit=0")))
        #expect((paused["rows"] as? [Any])?.isEmpty == true)
        #expect(paused["skipped"] as? Int == 7)
        #expect(paused["next"] as? Int == 9)
    }

    @Test func aLiveStoreForgetsItsOldestLinesButKeepsItsSessions() throws {
        let api = Self.api(capacity: 4)
        #expect(api.store.entries.count <= 4)
        #expect(api.store.forgotten >= 5)
        #expect(api.store.sessions.rows.count == 2)
        let rows = try #require(try Self.json(api.packets(ViewQuery(query: "engine=1")))["rows"] as? [[String: Any]])
        #expect(rows.first?["seq"] as? Int == Int(api.store.base))
        #expect((rows.last?["line"] as? [String: Any])?["k"] as? String == "close")
    }

    @Test func aReportCannotBeEndedByAPayload() {
        var json = ByteBuffer(string: #"{"a":"</script><script>alert(1)</script>"}"#)
        let safe = StaticReport.scriptSafe(json)
        #expect(!safe.contains("<"))
        json.clear()
    }
}
