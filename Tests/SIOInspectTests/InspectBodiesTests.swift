import Foundation
import NIOCore
import SIOInspect
import SIORecording
import SIOWire
import Testing

/// HTTP exchanges that are not Engine.IO, with their bodies, in every view of `inspect`.
@Suite struct InspectBodiesTests {
    let dir = ScratchDirectory()

    /// A JSON login POST; a gzip page kept inflated; a binary download over the body limit; a
    /// request that got no response.
    static let records: [Record] = [
        Record(time: 1_000, event: .connectionOpened(.init(connection: 1, peer: "127.0.0.1:1"))),
        Record(
            time: 1_100,
            event: .body(
                .init(
                    connection: 1, direction: .clientToServer, sequence: 0,
                    data: .text(#"{"user":"ann","password":"[redacted]"}"#), contentType: "application/json",
                    last: true, size: 36))),
        Record(
            time: 1_900,
            event: .body(
                .init(
                    connection: 1, direction: .serverToClient, sequence: 0, data: .text(#"{"ok":true}"#),
                    contentType: "application/json", last: true, size: 11))),
        Record(
            time: 2_000,
            event: .http(
                .init(
                    connection: 1, method: "POST", path: "/api/login?next=%2Fhome", status: 200, requestBytes: 36,
                    responseBytes: 11, durationMicros: 1_000,
                    requestHeaders: [.init("Content-Type", "application/json")],
                    responseHeaders: [.init("Content-Type", "application/json")]))),
        Record(
            time: 3_000,
            event: .body(
                .init(
                    connection: 1, direction: .serverToClient, sequence: 0, data: .text("<html>hello</html>"),
                    contentType: "text/html", contentEncoding: "gzip", inflated: true, last: true, size: 9))),
        Record(
            time: 3_000,
            event: .http(
                .init(
                    connection: 1, method: "GET", path: "/", status: 200, requestBytes: 0, responseBytes: 9,
                    durationMicros: 500, requestHeaders: [],
                    responseHeaders: [.init("Content-Type", "text/html"), .init("Content-Encoding", "gzip")]))),
        Record(
            time: 4_000,
            event: .body(
                .init(
                    connection: 2, direction: .serverToClient, sequence: 0, data: .binary(ByteBuffer(bytes: [0, 1, 0xFF])),
                    contentType: "application/octet-stream"))),
        Record(
            time: 4_500,
            event: .body(
                .init(
                    connection: 2, direction: .serverToClient, sequence: 1, data: .binary(ByteBuffer(bytes: [0xFE])),
                    last: true, size: 5_000_000, note: "over the body limit"))),
        Record(
            time: 4_500,
            event: .http(
                .init(
                    connection: 2, method: "GET", path: "/file.bin", status: 200, requestBytes: 0,
                    responseBytes: 5_000_000, durationMicros: 700, requestHeaders: [], responseHeaders: []))),
        Record(
            time: 5_000,
            event: .http(
                .init(
                    connection: 3, method: "GET", path: "/lost", status: nil, requestBytes: 0, responseBytes: 0,
                    durationMicros: 100, requestHeaders: []))),
    ]

    func recording() throws -> String {
        let path = self.dir.file("bodies.siotape.gz")
        try writeRecording(path, Self.records)
        return path
    }

    @Test func harEntriesCarryHeadersBodiesAndTimings() throws {
        let (output, _) = try inspect([try self.recording()]) { $0.format = .har }
        let root = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let entries = try #require((root["log"] as? [String: Any])?["entries"] as? [[String: Any]])
        #expect(entries.count == 4)
        let login = entries[0]
        #expect(login["startedDateTime"] as? String == "2026-11-18T11:06:40.001Z")
        #expect(login["time"] as? Double == 1)
        let request = try #require(login["request"] as? [String: Any])
        #expect(request["method"] as? String == "POST")
        #expect(request["url"] as? String == "http://127.0.0.1:5000/api/login?next=%2Fhome")
        #expect(request["queryString"] as? [[String: String]] == [["name": "next", "value": "/home"]])
        #expect(request["bodySize"] as? Int == 36 && request["headersSize"] as? Int == -1)
        let post = try #require(request["postData"] as? [String: Any])
        #expect(post["mimeType"] as? String == "application/json")
        #expect(post["text"] as? String == #"{"user":"ann","password":"[redacted]"}"#)
        let response = try #require(login["response"] as? [String: Any])
        #expect(response["status"] as? Int == 200 && response["statusText"] as? String == "OK")
        #expect(response["headers"] as? [[String: String]] == [["name": "Content-Type", "value": "application/json"]])
        let content = try #require(response["content"] as? [String: Any])
        #expect(content["text"] as? String == #"{"ok":true}"# && content["size"] as? Int == 11)
        let timings = try #require(login["timings"] as? [String: Any])
        #expect(timings["send"] as? Double == 0 && timings["wait"] as? Double == 1 && timings["receive"] as? Double == 0)

        // The gzip page: decoded text, `size` the decoded length, `compression` what gzip saved.
        let page = try #require((entries[1]["response"] as? [String: Any])?["content"] as? [String: Any])
        #expect(page["text"] as? String == "<html>hello</html>" && page["size"] as? Int == 18)
        #expect(page["compression"] as? Int == 9 && page["mimeType"] as? String == "text/html")
        #expect((entries[1]["request"] as? [String: Any])?["postData"] == nil)

        // The download: base64 of the kept head, the note as a comment.
        let download = try #require((entries[2]["response"] as? [String: Any])?["content"] as? [String: Any])
        #expect(download["encoding"] as? String == "base64" && download["text"] as? String == "AAH//g==")
        #expect(download["size"] as? Int == 5_000_000 && download["comment"] as? String == "over the body limit")

        // No response: status 0, as browsers export a request that failed.
        let lost = try #require(entries[3]["response"] as? [String: Any])
        #expect(lost["status"] as? Int == 0 && lost["bodySize"] as? Int == -1)
    }

    @Test func statsCountBodiesAndVerifyKnowsThem() throws {
        let path = try self.recording()
        let summary = try statistics([path])
        #expect(summary.httpBodies[.clientToServer] == Traffic(packets: 1, bytes: 36))
        #expect(summary.httpBodies[.serverToClient] == Traffic(packets: 3, bytes: 11 + 9 + 5_000_000))
        let text = StatisticsReport.text(summary)
        #expect(text.contains("HTTP bodies"), "\(text)")
        let report = Verifier.verify(path: path)
        #expect(report.isIntact && report.httpBodies == 4, "\(report.description)")
        #expect(report.description.contains("4 HTTP bodies"))
    }

    @Test func textAndJSONLShowBodiesWithEngine() throws {
        let path = try self.recording()
        let text = try inspect([path]) { $0.filter.engine = true }.output
        #expect(text.contains(#"request body conn 1 #0 application/json, 36 bytes {"user":"ann","password":"[redacted]"}"#), "\(text)")
        #expect(!(try inspect([path]).output.contains("body conn")))  // transport-level: hidden by default
        let objects = try jsonObjects(try inspect([path]) {
            $0.format = .jsonl
            $0.filter.engine = true
        }.output)
        #expect(objects.filter { $0["k"] as? String == "body" }.count == 5)
    }
}
