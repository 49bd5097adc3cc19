import Foundation
import SIOInspect
import SIORecording
import SIOWire
import Testing

/// `--stats` against what the scenarios do (tools/apps/*/scenario.py), not against the tool's own output.
@Suite struct InspectStatisticsTests {
    let dir = ScratchDirectory()

    @Test func knownConversation() throws {
        let path = self.dir.file("c.siotape.gz")
        try writeRecording(path, conversation())
        let s = try statistics([path])
        #expect(s.records == 17)
        #expect(s.sessions == 2)
        #expect(s.transports == ["websocket": 1, "upgraded": 1])
        #expect(s.durations.count == 2 && s.durations.max == 66_000)  // B: 4 ms → 70 ms
        #expect(s.closeCauses == ["client close packet": 1, "websocket closed by client": 1])
        #expect(s.socketIO[.clientToServer]?.packets == 4 && s.socketIO[.serverToClient]?.packets == 5)
        #expect(s.engineIO[.clientToServer]?.packets == 1 && s.engineIO[.serverToClient]?.packets == 1)
        // Payload bytes: the JSON as written. c2s: ["chat","hello €"] (20 bytes) + ["chat","from b"] + ["typing"].
        #expect(s.socketIO[.clientToServer]?.bytes == 20 + 17 + 10)
        #expect(s.namespaces["/feed"]?[.serverToClient] == Traffic(packets: 1, bytes: 16))
        #expect(s.namespaces["/admin"]?[.serverToClient]?.packets == 1)
        #expect(s.socketTypes == ["CONNECT": 2, "EVENT": 4, "ACK": 2, "CONNECT_ERROR": 1])
        #expect(s.engineTypes == ["ping": 1, "pong": 1])
        let chat = try #require(s.events["chat"])
        #expect(chat.emitted == [.clientToServer: 2])
        #expect(chat.acks.count == 2 && chat.acks.percentile(0.5) == 2_000 && chat.acks.max == 5_000)
        #expect(chat.acks.percentile(0.99) == 5_000)
        #expect(s.events["news"]?.emitted == [.serverToClient: 1] && s.events["news"]?.acks.count == 0)
        #expect(s.unpairedAcks == 0)
        #expect(s.errors == ["CONNECT_ERROR /admin {\"message\":\"admin token required\"}": 1])
    }

    @Test func statsFollowTheFilters() throws {
        let path = self.dir.file("c.siotape.gz")
        try writeRecording(path, conversation())
        let b = try statistics([path]) { $0.filter.sessions = [sessionB] }
        #expect(b.sessions == 1 && b.events["chat"]?.emitted == [.clientToServer: 1])
        #expect(b.events["chat"]?.acks.max == 5_000)
    }

    /// signalling: camera, viewer and other connect over WebSocket; camera pings, both join room
    /// 123456, other tries `12ab` (error) then joins 654321 and pings; camera sends an offer and
    /// two ICE candidates, the viewer an answer and one candidate; the server forwards each to the
    /// rest of the room only; the viewer leaves (`peer_left` to the camera).
    @Test func signallingScenario() throws {
        let s = try statistics([sampleRecording("signalling")])
        #expect(s.sessions == 3)
        #expect(s.transports == ["websocket": 3])
        func emitted(_ name: String) -> [Direction: Int] { s.events[name]?.emitted ?? [:] }
        #expect(emitted("ping") == [.clientToServer: 2])
        #expect(emitted("pong") == [.serverToClient: 2])
        #expect(emitted("join_room") == [.clientToServer: 4])
        #expect(emitted("join_room_success") == [.serverToClient: 3])
        #expect(emitted("connected") == [.serverToClient: 3])
        #expect(emitted("error") == [.serverToClient: 1])
        #expect(emitted("offer") == [.clientToServer: 1, .serverToClient: 1])
        #expect(emitted("answer") == [.clientToServer: 1, .serverToClient: 1])
        #expect(emitted("ice_candidate") == [.clientToServer: 3, .serverToClient: 3])
        #expect(emitted("peer_joined") == [.serverToClient: 1])
        #expect(emitted("peer_left") == [.serverToClient: 1])
        #expect(s.socketTypes["CONNECT"] == 6)  // 3 clients, request and answer
        #expect(s.socketTypes["ACK"] == nil)
        #expect(s.namespaces.keys.sorted() == ["/"])
    }

    /// chat-acks: alice (two sockets), bob and carol connect, anonymous is refused (`userId
    /// required`); acked calls: presence:list ×4 (bob), conversation:join ×4, message:send ×3
    /// (alice1, carol, alice2), message:read, message:private, conversation:leave; typing
    /// start/stop without acks; message:new reaches bob+alice2, then alice1.
    @Test func chatAcksScenario() throws {
        let s = try statistics([sampleRecording("chat-acks")])
        #expect(s.sessions == 5)
        let acked = [
            "presence:list": 4, "conversation:join": 4, "message:send": 3, "message:read": 1, "message:private": 1,
            "conversation:leave": 1,
        ]
        for (name, n) in acked {
            #expect(s.events[name]?.emitted[.clientToServer] == n, "\(name)")
            #expect(s.events[name]?.acks.count == n, "\(name)")
            #expect((s.events[name]?.acks.max ?? 0) > 0, "\(name)")
        }
        #expect(s.events["typing:start"]?.emitted == [.clientToServer: 1, .serverToClient: 2])
        #expect(s.events["typing:start"]?.acks.count == 0)
        #expect(s.events["message:new"]?.emitted == [.serverToClient: 3])
        #expect(s.socketTypes["ACK"] == 14 && s.unpairedAcks == 0)
        #expect(s.errors["CONNECT_ERROR / {\"message\":\"userId required\"}"] == 1)
    }

    @Test func statsAsJSON() throws {
        let (output, _) = try inspect([sampleRecording("chat-acks")]) {
            $0.stats = true
            $0.format = .jsonl
        }
        let root = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect((root["sessions"] as? [String: Any])?["count"] as? Int == 5)
        let events = try #require(root["events"] as? [String: [String: Any]])
        #expect((events["message:send"]?["acks"] as? [String: Any])?["count"] as? Int == 3)
        let text = try inspect([sampleRecording("chat-acks")]) { $0.stats = true }.output
        #expect(text.contains("sessions    5"))
        #expect(text.contains("message:send"))
    }

    @Test func histogramPercentiles() {
        var h = LatencyHistogram()
        for v in 1...100 { h.add(Int64(v) * 1000) }  // 1 ms … 100 ms
        #expect(h.count == 100 && h.max == 100_000)
        for (p, exact) in [(0.5, 50_000.0), (0.9, 90_000.0), (0.99, 99_000.0)] {
            #expect(abs(Double(h.percentile(p)) - exact) / exact < 0.004)
        }
        var small = LatencyHistogram()
        for v in [5, 1, 3, 2, 4] { small.add(Int64(v)) }
        #expect(small.percentile(0.5) == 3 && small.percentile(0.9) == 5)
    }
}
