import CaptureFixtures
import Foundation
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

/// `import har` when the HAR's times disagree with the order Engine.IO imposes: the recording keeps
/// Engine.IO's order (a session's handshake before its packets, a session's frames in the HAR's order,
/// its polls before its upgrade), whatever the milliseconds say.
@Suite struct HARImportOrderTests {
    static func records(_ har: [UInt8]) throws -> [Record] {
        let importer = try HARImporter(try HARArchive.decode(har))
        let sink = CollectingSink()
        _ = importer.run(configuration: CaptureConfiguration(), sink: sink)
        return sink.records
    }

    /// Playwright's HAR of ns-chat's page (alice, then bob; the Engine.IO entries of the HAR the
    /// browser test wrote in a CI run on a loaded machine, as Playwright wrote them). Bob's handshake
    /// answer ends, by its `time`, 3.3 ms after the POST that carried his sid and CONNECT had started.
    /// Imported as stamped, bob's CONNECT came before his session's `open`, and replay, which builds
    /// sessions from `open` records, lost it: replay run's bob never connected, replay serve's page
    /// waited for an answer to a CONNECT it did not have.
    @Test func aSessionsPacketsFollowItsHandshakeWhenTheHARStampsTheAnswerLate() throws {
        let file = try CaptureFixtures.scenario("browser-har").appendingPathComponent("ns-chat-playwright-loaded.har")
        let records = try Self.records(Array(try Data(contentsOf: file)))

        let notes = records.compactMap { record -> String? in
            if case .note(let note) = record.event { note.message } else { nil }
        }
        #expect(!notes.contains { $0.contains("without its handshake") }, "\(notes)")
        var opened: [String] = []
        var firstPackets: [String: [String]] = [:]
        for record in records {
            switch record.event {
            case .sessionOpened(let open):
                opened.append(open.sid)
            case .socket(let socket):
                let sid = try #require(socket.sid)
                #expect(opened.contains(sid), "\(socket.packet.type) of \(sid) at \(record.time) µs before its session's open")
                firstPackets[sid, default: []].append("\(socket.direction == .clientToServer ? "c2s" : "s2c") \(socket.packet.type)")
            default:
                continue
            }
        }
        #expect(opened == ["haiDfzzGQoEh3DTvAAAA", "3Wj2PY7aohwFHYikAAAC"])
        for sid in opened {
            #expect(firstPackets[sid]?.prefix(2) == ["c2s connect", "s2c connect"], "\(sid): \(firstPackets[sid] ?? [])")
        }
    }

    /// A WebSocket entry whose message times go backwards (a `send` and a `receive` stamped by
    /// different threads): the socket's order is the HAR's, so the ack still follows its event.
    @Test func aWebSocketEntrysMessagesKeepTheHARsOrder() throws {
        let har = #"""
            {"log": {"entries": [
             {"startedDateTime": "2026-12-07T10:00:00.000Z", "time": 3, "request": {"method": "GET",
              "url": "ws://h:1/socket.io/?EIO=4&transport=websocket"}, "response": {"status": 101},
              "_webSocketMessages": [
                {"type": "receive", "time": 1796637600020.5, "opcode": 1, "data": "0{\"sid\":\"W1\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}"},
                {"type": "send", "time": 1796637600030, "opcode": 1, "data": "40"},
                {"type": "receive", "time": 1796637600031, "opcode": 1, "data": "40{\"sid\":\"K1\"}"},
                {"type": "send", "time": 1796637600040.9, "opcode": 1, "data": "421[\"echo\",\"hi\"]"},
                {"type": "receive", "time": 1796637600040.2, "opcode": 1, "data": "431[\"hi\"]"}]}]}}
            """#
        let packets = try Self.records(Array(har.utf8)).compactMap { record -> (Int64, Record.SocketPacket)? in
            if case .socket(let socket) = record.event { (record.time, socket) } else { nil }
        }
        #expect(packets.map(\.1.packet.type) == [.connect, .connect, .event, .ack])
        let ack = try #require(packets.last)
        #expect(ack.1.ackLatencyMicros == 0, "the ack is not paired with its event")
        #expect(ack.0 == 40_900)
    }

    /// A long-poll answer the HAR ends after the client's upgrade (`5`): the client upgrades only once
    /// its polls have ended, so the answer's packets come before the upgrade, on polling.
    @Test func aPollAnswerComesBeforeTheUpgradeItHeldUp() throws {
        let har = #"""
            {"log": {"entries": [
             {"startedDateTime": "2026-12-07T10:00:00.100Z", "time": 2,
              "request": {"method": "GET", "url": "http://h:1/socket.io/?EIO=4&transport=polling&t=a"},
              "response": {"status": 200, "content": {"text": "0{\"sid\":\"S1\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}"}}},
             {"startedDateTime": "2026-12-07T10:00:00.200Z", "time": 2,
              "request": {"method": "POST", "url": "http://h:1/socket.io/?EIO=4&transport=polling&t=b&sid=S1",
                "postData": {"mimeType": "text/plain;charset=UTF-8", "text": "40"}},
              "response": {"status": 200, "content": {"text": "ok"}}},
             {"startedDateTime": "2026-12-07T10:00:00.201Z", "time": 150,
              "request": {"method": "GET", "url": "http://h:1/socket.io/?EIO=4&transport=polling&t=c&sid=S1"},
              "response": {"status": 200, "content": {"text": "40{\"sid\":\"K1\"}\u001e42[\"welcome\"]"}}},
             {"startedDateTime": "2026-12-07T10:00:00.300Z", "time": 1000,
              "request": {"method": "GET", "url": "ws://h:1/socket.io/?EIO=4&transport=websocket&sid=S1"},
              "response": {"status": 101},
              "_webSocketMessages": [
                {"type": "send", "time": 1796637600310, "opcode": 1, "data": "2probe"},
                {"type": "receive", "time": 1796637600311, "opcode": 1, "data": "3probe"},
                {"type": "send", "time": 1796637600312, "opcode": 1, "data": "5"},
                {"type": "receive", "time": 1796637600400, "opcode": 1, "data": "42[\"news\"]"}]}]}}
            """#
        var order: [String] = []
        for record in try Self.records(Array(har.utf8)) {
            switch record.event {
            case .upgraded: order.append("upgrade")
            case .socket(let socket): order.append("\(socket.packet.eventName ?? "\(socket.packet.type)") \(socket.transport)")
            default: continue
            }
        }
        #expect(order == ["connect polling", "connect polling", "welcome polling", "upgrade", "news websocket"])
    }
}
