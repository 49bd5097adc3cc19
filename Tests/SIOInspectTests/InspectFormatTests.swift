import Foundation
import NIOCore
import SIOInspect
import SIORecording
import SIOWire
import Testing

@Suite struct InspectFormatTests {
    let dir = ScratchDirectory()

    func recording(_ name: String = "c.siotape.gz", offset: Int64 = 0, header: RecordingHeader = testHeader) throws
        -> String
    {
        let path = self.dir.file(name)
        try writeRecording(path, conversation(offset: offset), header: header)
        return path
    }

    @Test func textView() throws {
        let (output, outcome) = try inspect([try self.recording()])
        let lines = output.split(separator: "\n").map(String.init)
        #expect(outcome.shown == lines.count)
        #expect(lines.contains("  0.010 AAAAsess → ws   / EVENT chat #1 [\"hello \u{20ac}\"]"))
        #expect(lines.contains("  0.012 AAAAsess ← ws   / ACK #1 2.0ms [\"ok\"]"))
        #expect(lines.contains { $0.contains("/admin CONNECT_ERROR {\"message\":\"admin token required\"}") })
        #expect(!lines.contains { $0.contains("eio ping") })
        #expect(!output.contains("\u{1B}["))  // no colours unless asked
        let engine = try inspect([try self.recording("e.siotape.gz")]) { $0.filter.engine = true }.output
        #expect(engine.contains("eio ping") && engine.contains("conn 1 from 127.0.0.1:40000"))
    }

    @Test func textViewWallClockColoursAndWidth() throws {
        let path = try self.recording()
        let wall = try inspect([path]) { $0.wallClock = true }.output
        // testStart is 2026-11-18T11:06:40Z; the chat is 10 ms later.
        #expect(wall.contains("11:06:40.010 AAAAsess → ws   / EVENT chat #1"))
        let coloured = try inspect([path]) { $0.colors = true }.output
        #expect(coloured.contains("\u{1B}[32mEVENT\u{1B}[0m"))
        let narrow = try inspect([path]) { $0.argumentWidth = 5 }.output
        #expect(narrow.contains("/ EVENT chat #1 [\"he…"))
    }

    /// Text output parses a line once, strictly, where it can (without filters). Odd lines
    /// (whitespace the index reads otherwise than the decoder, a value only the index accepts, a cut
    /// line) show as before: as the live view shows each line alone, at the time the index reads.
    @Test func textOfOddLinesIsEachLinesOwnText() throws {
        let sio = #""sid":"S1","conn":1,"tr":"websocket""#
        let lines = [
            #"{"t":1000,"k":"conn","conn":1,"peer":"127.0.0.1:5"}"#,
            #"{"t":2000,"k":"sio","# + sio + #","dir":"c2s","type":"EVENT","id":3,"event":"m","data":["m",1]}"#,
            #"{"t":3000,"k":"sio","# + sio + #","dir":"s2c","type":"ACK","id":3,"ack_us":1000,"data":["ok"]}"#,
            #"{"t":4000,"k":"sio","# + sio + #","dir":"c2s","type":"BINARY_EVENT","event":"f","att":["AQID"],"data":["f"]}"#,
            "{\"t\":5000\t,\"k\":\"sio\"," + sio + #","dir":"c2s","type":"EVENT","event":"tab","data":["tab"]}"#,
            #"{"t":6000,"k":"sio","# + sio + ",\"dir\":\"c2s\",\"type\":\"EVENT\",\"id\":4\r,\"event\":\"cr\"}",
            #"{"t":7000,"k":"sio","# + sio + #","dir":"c2s","type":"EVENT","event":"bad","x":01}"#,
            #"{"t":8000,"k":"eio","# + sio + #","dir":"s2c","type":"ping"}"#,
            #"{"t":8500,"k":"sio","# + sio + #","dir":"s2c","type":"ACK","id":4,"data":["ok"]}"#,
            #"{"t":9000,"k":"close","sid":"S1","cause":"client close packet"}"#,
            #"{"t":10000,"k":"sio","#,
            #"{"t":11000,"k":"end","records":10}"#,
        ]
        let header = #"{"format":"siotape","version":1,"wall_us":\#(testStart),"tool":"test"}"#
        let path = self.dir.file("odd.siotape")
        try (([header] + lines).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        // A filter that lets every line through takes the path of filters (the index's own scan).
        for (colors, wallClock, filtered) in [(false, false, false), (true, true, false), (false, false, true)] {
            let (output, outcome) = try inspect([path]) {
                $0.filter.engine = true
                $0.colors = colors
                $0.wallClock = wallClock
                if filtered { $0.until = .offset(1_000_000_000) }
            }
            var live = LiveFormatter(colors: colors, argumentWidth: .max)
            if wallClock { live.wallClockAnchor = testStart }
            var formatter = RecordLineFormatter(live)
            var expected = ByteBuffer()
            var shown = 0
            for line in lines {
                let buffer = ByteBuffer(string: line)
                let index = RecordLine()
                let time = buffer.withUnsafeReadableBytes { bytes -> Int64? in
                    guard (try? index.parse(bytes)) != nil else { return nil }
                    return index.int(.t, bytes) ?? 0
                }
                if let time, formatter.format(buffer, time: time, into: &expected) == .shown { shown += 1 }
            }
            #expect(output == String(buffer: expected))
            #expect(outcome.shown == shown && shown == 9)
            if !colors { #expect(output.contains("BINARY_EVENT f [] +1 bin") && !output.contains("bad")) }
        }
    }

    @Test func jsonlFieldsAreTheRecordingsPlusTime() throws {
        let path = try self.recording()
        let (output, _) = try inspect([path]) { $0.format = .jsonl }
        let objects = try jsonObjects(output)
        #expect(objects.count == 14)  // 17 records less conn, ping and pong
        for o in objects {
            let wall = try #require(o["wall_us"] as? Int64)
            let rel = try #require(o["rel_us"] as? Int64)
            let t = try #require(o["t"] as? Int64)
            #expect(wall == testStart + t && rel == t)
            #expect(o["file"] == nil)
        }
        let ack = try #require(objects.first { $0["type"] as? String == "ACK" })
        #expect(ack["ack_event"] as? String == "chat" && ack["ack_us"] as? Int == 2_000 && ack["id"] as? Int == 1)
        #expect(ack["data"] as? [String] == ["ok"])
        let event = try #require(objects.first { $0["event"] as? String == "chat" })
        #expect(event["sid"] as? String == sessionA && event["dir"] as? String == "c2s" && event["tr"] as? String == "websocket")
        #expect(event["nsp"] as? String == "/" && event["k"] as? String == "sio")
    }

    @Test func severalRecordingsAreMergedByTime() throws {
        // The second recording started 5 ms after the first: its records interleave.
        var later = testHeader
        later.startedAtMicros = testStart + 5_000
        let a = try self.recording("a.siotape.gz")
        let b = try self.recording("b.siotape.gz", header: later)
        let objects = try jsonObjects(try inspect([a, b]) { $0.format = .jsonl }.output)
        #expect(objects.count == 28)
        let walls = objects.map { $0["wall_us"] as! Int64 }
        #expect(walls == walls.sorted())
        #expect(Set(objects.map { $0["file"] as! Int }) == [0, 1])
        let fromB = objects.filter { $0["file"] as? Int == 1 }
        #expect(fromB.allSatisfy { ($0["rel_us"] as! Int64) == ($0["t"] as! Int64) + 5_000 })
        let text = try inspect([a, b]).output
        #expect(text.contains("  0.015 AAAAsess → ws   / EVENT chat #1"))  // b's chat, 5 ms after a's
    }

    /// HAR as Chrome reads it (DevTools' HARImporter and its WebSocket view): log.version,
    /// entries with startedDateTime, time, request {method, url, headers, queryString}, response
    /// {status, content}, timings, _resourceType "websocket" and _webSocketMessages
    /// [{type, time, opcode, data}].
    @Test func harAsChromeReadsIt() throws {
        let path = try self.recording()
        let (output, _) = try inspect([path]) { $0.format = .har }
        let root = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let log = try #require(root["log"] as? [String: Any])
        #expect(log["version"] as? String == "1.2")
        #expect((log["creator"] as? [String: Any])?["name"] as? String == "siotape")
        let entries = try #require(log["entries"] as? [[String: Any]])
        #expect(entries.count == 2)
        for entry in entries {
            #expect(entry["_resourceType"] as? String == "websocket")
            let started = try #require(entry["startedDateTime"] as? String)
            #expect(started.hasPrefix("2026-11-18T11:06:40.") && started.hasSuffix("Z"))
            #expect(entry["time"] is Double || entry["time"] is Int)
            let request = try #require(entry["request"] as? [String: Any])
            #expect(request["method"] as? String == "GET")
            #expect((request["url"] as? String)?.hasPrefix("ws://127.0.0.1:5000/socket.io/?EIO=4&transport=") == true)
            #expect(request["headers"] is [[String: String]] && request["queryString"] is [[String: String]])
            #expect(request["httpVersion"] as? String == "HTTP/1.1" && request["cookies"] is [Any])
            let response = try #require(entry["response"] as? [String: Any])
            #expect(response["status"] as? Int == 101)
            #expect((response["content"] as? [String: Any])?["mimeType"] is String)
            let timings = try #require(entry["timings"] as? [String: Any])
            #expect(timings["send"] != nil && timings["wait"] != nil && timings["receive"] != nil)
            #expect(entry["cache"] is [String: Any])
        }
        let a = try #require(entries.first { $0["_siotapeSid"] as? String == sessionA })
        let messages = try #require(a["_webSocketMessages"] as? [[String: Any]])
        let data = messages.map { $0["data"] as! String }
        #expect(data == [
            "40", "40{\"sid\":\"x\"}", "421[\"chat\",\"hello \u{20ac}\"]", "431[\"ok\"]", "42/feed,[\"news\",{\"n\":1}]",
            "2", "3", "44/admin,{\"message\":\"admin token required\"}",
        ])
        #expect(messages.map { $0["type"] as! String } == ["send", "receive", "send", "receive", "receive", "receive", "send", "receive"])
        #expect(messages.allSatisfy { $0["opcode"] as? Int == 1 })
        let time = try #require(messages[2]["time"] as? Double)
        #expect(abs(time - Double(testStart + 10_000) / 1e6) < 1e-5)
    }

    @Test func harOfEverySampleRecordingIsValid() throws {
        for name in ["signalling", "org-notify", "chat-acks", "job-stream", "ns-chat"] {
            let (output, _) = try inspect([sampleRecording(name)]) { $0.format = .har }
            let root = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(name)")
            let entries = try #require((root["log"] as? [String: Any])?["entries"] as? [[String: Any]])
            #expect(!entries.isEmpty, "\(name)")
            // An entry per Engine.IO session (its WebSocket with its messages) and per plain HTTP
            // exchange (the recordings made with bodies: a page, a login, an ingest POST).
            let sockets = entries.filter { $0["_resourceType"] as? String == "websocket" }
            #expect(!sockets.isEmpty && sockets.allSatisfy { ($0["_webSocketMessages"] as? [Any])?.isEmpty == false }, "\(name)")
            #expect(entries.filter { $0["_resourceType"] as? String != "websocket" }.allSatisfy {
                (($0["response"] as? [String: Any])?["status"] as? Int ?? 0) >= 200 && $0["_webSocketMessages"] == nil
            }, "\(name)")
        }
        // ns-chat shares a file as a binary attachment: an opcode 2 message with base64 data.
        let (output, _) = try inspect([sampleRecording("ns-chat")]) { $0.format = .har }
        #expect(output.contains("\"opcode\":2"))
    }

    @Test func jsonlAndTextOfEverySampleRecording() throws {
        for name in ["signalling", "org-notify", "chat-acks", "job-stream", "ns-chat"] {
            let path = sampleRecording(name)
            let all = try jsonObjects(try inspect([path]) {
                $0.format = .jsonl
                $0.filter.engine = true
            }.output)
            let reader = try RecordingReader(path: path)
            var records = 0
            while try reader.next() != nil { records += 1 }
            #expect(all.count == records, "\(name)")
            let (text, outcome) = try inspect([path])
            #expect(outcome.damages.isEmpty, "\(name)")
            #expect(text.split(separator: "\n").count == outcome.shown)
        }
    }
}
