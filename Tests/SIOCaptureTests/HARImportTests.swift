import NIOCore
import SIORecording
import Testing

@testable import SIOCapture

/// `import har` without files or processes: HAR text in, recording lines out (as they would be
/// written), through the same capture as `record`.
@Suite struct HARImportTests {
    /// A Chrome-shaped HAR: the page (gzip, decoded in the HAR, with a cookie), a script from the
    /// memory cache, a polling handshake (Firefox's `+01:00` zone), a CONNECT with a token, the answer
    /// echoing the token, the upgrade with `_webSocketMessages` (seconds, as Chrome writes them): an
    /// event and its ack, a binary event and its attachment (base64), and a poll that never answered.
    static let chrome = #"""
        {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [
         {"startedDateTime": "2026-12-07T10:00:00.000Z", "time": 5,
          "request": {"method": "GET", "url": "http://app.test:5000/#top", "headers": [
            {"name": ":authority", "value": "app.test:5000"}, {"name": "Cookie", "value": "session=s3cr3t-cookie-value"}]},
          "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "text/html"},
            {"name": "Content-Encoding", "value": "gzip"}, {"name": "Content-Length", "value": "40"}],
            "content": {"mimeType": "text/html", "text": "<title>chat</title>"}}},
         {"startedDateTime": "2026-12-07T10:00:00.010Z", "time": 1, "_fromCache": "memory",
          "request": {"method": "GET", "url": "http://app.test:5000/app.js"}, "response": {"status": 200, "content": {"text": "x"}}},
         {"startedDateTime": "2026-12-07T11:00:00.100+01:00", "time": 2,
          "request": {"method": "GET", "url": "http://app.test:5000/socket.io/?EIO=4&transport=polling&t=a"},
          "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "text/plain; charset=UTF-8"}],
            "content": {"text": "0{\"sid\":\"S1\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}"}}},
         {"startedDateTime": "2026-12-07T10:00:00.200Z", "time": 2,
          "request": {"method": "POST", "url": "http://app.test:5000/socket.io/?EIO=4&transport=polling&t=b&sid=S1",
            "postData": {"mimeType": "text/plain;charset=UTF-8", "text": "40{\"token\":\"tok-abcdef123456\"}"}},
          "response": {"status": 200, "content": {"text": "ok"}}},
         {"startedDateTime": "2026-12-07T10:00:00.201Z", "time": 50,
          "request": {"method": "GET", "url": "http://app.test:5000/socket.io/?EIO=4&transport=polling&t=c&sid=S1"},
          "response": {"status": 200, "content": {"text": "40{\"sid\":\"K1\"}\u001e42[\"welcome\",\"tok-abcdef123456\"]"}}},
         {"startedDateTime": "2026-12-07T10:00:00.300Z", "time": 1000,
          "request": {"method": "GET", "url": "ws://app.test:5000/socket.io/?EIO=4&transport=websocket&sid=S1"},
          "response": {"status": 101, "headers": []},
          "_webSocketMessages": [
            {"type": "send", "time": 1796637600.31, "opcode": 1, "data": "2probe"},
            {"type": "receive", "time": 1796637600.311, "opcode": 1, "data": "3probe"},
            {"type": "send", "time": 1796637600.312, "opcode": 1, "data": "5"},
            {"type": "send", "time": 1796637600.4, "opcode": 1, "data": "421[\"echo\",\"hi\"]"},
            {"type": "receive", "time": 1796637600.41, "opcode": 1, "data": "431[\"hi\"]"},
            {"type": "send", "time": 1796637600.5, "opcode": 1, "data": "451-[\"file\",{\"_placeholder\":true,\"num\":0}]"},
            {"type": "send", "time": 1796637600.501, "opcode": 2, "data": "AQID"}]},
         {"startedDateTime": "2026-12-07T10:00:00.305Z", "time": -1,
          "request": {"method": "GET", "url": "http://app.test:5000/socket.io/?EIO=4&transport=polling&t=d&sid=S1"},
          "response": {"status": 0, "content": {}}}
        ]}}
        """#

    static func lines(_ har: String, keepCredentials: Bool = false) throws -> (HARImporter, [String]) {
        let importer = try HARImporter(try HARArchive.decode(Array(har.utf8)))
        let sink = CollectingSink()
        var configuration = CaptureConfiguration()
        configuration.redactCredentials = !keepCredentials
        _ = importer.run(configuration: configuration, sink: sink)
        let encoder = RecordEncoder()
        let lines = sink.records.map { record in
            var line = ByteBuffer()
            encoder.encode(record, into: &line)
            return String(buffer: line).trimmingCharacters(in: .newlines)
        }
        return (importer, lines)
    }

    @Test func aChromeHARBecomesTheRecordsRecordWouldHaveWritten() throws {
        let (importer, lines) = try Self.lines(Self.chrome)
        #expect(importer.startedAtMicros == 1_796_637_600_000_000)
        #expect(importer.upstream == "http://app.test:5000")
        #expect(importer.cachedCount == 1)
        func line(_ parts: String...) -> String? { lines.first { line in parts.allSatisfy { line.contains($0) } } }

        // The page: its body as record keeps a gzip body (inflated), the header back in its place,
        // the cookie redacted; the cached script is not there.
        #expect(line(#""k":"body""#, #""coding":"gzip""#, #""inflated":true"#, #""text":"<title>chat</title>""#) != nil)
        let page = try #require(line(#""k":"http""#, #""path":"/""#))
        #expect(page.contains(#""resp_headers":[["Content-Type","text/html"],["Content-Encoding","gzip"],["Content-Length","40"]]"#))
        #expect(page.contains(#"["Cookie","[redacted]"]"#))
        #expect(!lines.contains { $0.contains("/app.js") })

        // The session, at the HAR's times (the +01:00 handshake is 100 ms after the page).
        let open = try #require(line(#""k":"open""#, #""sid":"S1""#))
        #expect(open.hasPrefix(#"{"t":102000,"#))
        #expect(line(#""k":"sio""#, #""type":"CONNECT""#, #""dir":"c2s""#, #""redacted":true"#, #""data":{"token":"[redacted]"}"#) != nil)
        // The token echoed in welcome is a known secret by then.
        #expect(line(#""event":"welcome""#, #""data":["welcome","[redacted]"]"#) != nil)
        #expect(line(#""k":"upgrade""#, #""sid":"S1""#) != nil)
        let event = try #require(line(#""type":"EVENT""#, #""event":"echo""#, #""tr":"websocket""#))
        #expect(event.hasPrefix(#"{"t":400000,"#))
        #expect(line(#""type":"ACK""#, #""dir":"s2c""#, #""id":1"#, #""ack_us":10000"#) != nil)
        #expect(line(#""type":"BINARY_EVENT""#, #""att":["AQID"]"#) != nil)
        // The poll that never answered: an exchange without a status, as record writes one.
        let pending = try #require(line(#""k":"http""#, "t=d"))
        #expect(!pending.contains(#""status""#))
        // Nothing secret is left.
        #expect(!lines.contains { $0.contains("s3cr3t-cookie-value") || $0.contains("tok-abcdef123456") })
        // Every entry is a connection: `conn` names the entry, and ends after it.
        #expect(line(#""k":"conn""#, #""peer":"har:5""#) != nil)
        #expect(lines.filter { $0.contains(#""k":"conn_close""#) }.count == 6)
    }

    @Test func keepCredentialsKeepsThem() throws {
        let (_, lines) = try Self.lines(Self.chrome, keepCredentials: true)
        #expect(lines.contains { $0.contains(#""data":["welcome","tok-abcdef123456"]"#) })
        #expect(lines.contains { $0.contains("s3cr3t-cookie-value") })
    }

    /// Playwright writes message times in milliseconds.
    @Test func playwrightMessageTimesAreMilliseconds() throws {
        let har = #"""
            {"log": {"entries": [
             {"startedDateTime": "2026-12-07T10:00:00.000Z", "time": 3, "request": {"method": "GET",
              "url": "ws://h:1/socket.io/?EIO=4&transport=websocket"}, "response": {"status": 101},
              "_webSocketMessages": [
                {"type": "receive", "time": 1796637600020.5, "opcode": 1, "data": "0{\"sid\":\"W1\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}"},
                {"type": "send", "time": 1796637600030, "opcode": 1, "data": "40"}]}]}}
            """#
        let (_, lines) = try Self.lines(har)
        #expect(lines.contains { $0.hasPrefix(#"{"t":20500,"k":"open""#) && $0.contains(#""sid":"W1""#) })
        #expect(lines.contains { $0.hasPrefix(#"{"t":30000,"k":"sio""#) && $0.contains(#""type":"CONNECT""#) })
    }

    /// Each malformation is refused with the field it concerns, before anything is recorded.
    @Test(arguments: [
        ("", "the file is empty"),
        ("{\"log\": {\"entries\": [", "not JSON"),
        ("<html>", "not JSON"),
        ("[1, 2]", "not a HAR"),
        ("{\"log\": {}}", "not a HAR: log has no \"entries\""),
        ("{\"log\": {\"entries\": {}}}", "log.entries is not an array"),
        (#"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GET"}, "response": {"status": 200}}]}}"#,
         #"log.entries[0].request has no "url""#),
        (#"{"log": {"entries": [{"startedDateTime": "yesterday", "request": {"method": "GET", "url": "http://h/"}, "response": {"status": 200}}]}}"#,
         "log.entries[0].startedDateTime is not an ISO 8601 date-time"),
        (#"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GET", "url": "/relative"}, "response": {"status": 200}}]}}"#,
         "log.entries[0].request.url is not an absolute"),
        (#"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GET", "url": "http://h/"}, "response": {"status": "ok"}}]}}"#,
         "log.entries[0].response.status is not a number"),
        (#"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GET", "url": "http://h/"}, "response": {"status": 200, "content": {"text": "**not base64**", "encoding": "base64"}}}]}}"#,
         "log.entries[0].response.content.text is marked base64 but is not base64"),
        (#"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GET", "url": "ws://h/"}, "response": {"status": 101}, "_webSocketMessages": [{"type": "send", "time": 1, "opcode": 7, "data": ""}]}]}}"#,
         "log.entries[0]._webSocketMessages[0].opcode is 7"),
        (#"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GET", "url": "http://h/", "headers": [{"name": "Accept", "value": "*/*"}, {"name": "Ünïcode", "value": "x"}]}, "response": {"status": 200}}]}}"#,
         #"log.entries[0].request.headers[1].name is not an HTTP header name: "Ünïcode""#),
        (#"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GÉT", "url": "http://h/"}, "response": {"status": 200}}]}}"#,
         "log.entries[0].request.method is not an HTTP method"),
        (#"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "time": 1e300, "request": {"method": "GET", "url": "http://h/"}, "response": {"status": 200}}]}}"#,
         "log.entries[0].time is out of range"),
        (#"{"log": {"entries": [{"startedDateTime": "2026-12-07T10:00:00Z", "request": {"method": "GET", "url": "ws://h/"}, "response": {"status": 101}, "_webSocketMessages": [{"type": "send", "time": 1e30, "opcode": 1, "data": ""}]}]}}"#,
         "log.entries[0]._webSocketMessages[0].time is out of range"),
    ])
    func malformedHARsAreRefusedNamingWhatIsWrong(_ har: String, _ message: String) {
        #expect {
            _ = try HARImporter(try HARArchive.decode(Array(har.utf8)))
        } throws: { error in
            (error as? HARImportError)?.description.contains(message) == true
        }
    }
}
