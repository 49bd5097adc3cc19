import NIOCore
import SIORecording
import SIOWire
import Testing

/// The `body` kind and the headers of `http`: their lines, and back.
@Suite struct BodyRecordTests {
    static let records = [
        Record(
            time: 10,
            event: .body(
                .init(
                    connection: 4, direction: .clientToServer, sequence: 0, data: .text(#"{"user":"ann"}"#),
                    contentType: "application/json", last: true, size: 14))),
        Record(
            time: 11,
            event: .body(
                .init(
                    connection: 4, direction: .serverToClient, sequence: 0, data: .text("<html>é</html>"),
                    contentType: "text/html", contentEncoding: "gzip", inflated: true, last: true, size: 40))),
        Record(
            time: 12,
            event: .body(
                .init(
                    connection: 5, direction: .serverToClient, sequence: 3, data: .binary(ByteBuffer(bytes: [0, 0xFF])),
                    last: true, size: 3_000_000, note: "over the body limit"))),
        Record(
            time: 13,
            event: .http(
                .init(
                    connection: 4, method: "POST", path: "/api/login", status: 200, requestBytes: 14,
                    responseBytes: 40, durationMicros: 900,
                    requestHeaders: [.init("Content-Type", "application/json"), .init("Cookie", "[redacted]")],
                    responseHeaders: [.init("Content-Encoding", "gzip")]))),
    ]

    @Test func bodyAndHeadersRoundTrip() throws {
        var decoder = RecordDecoder()
        for record in Self.records {
            var buffer = ByteBuffer()
            RecordEncoder().encode(record, into: &buffer)
            buffer.moveWriterIndex(to: buffer.writerIndex - 1)
            #expect(try decoder.decode(buffer) == .record(record), "\(String(buffer: buffer))")
        }
    }

    @Test func bodyLineIsAsDocumented() {
        var buffer = ByteBuffer()
        RecordEncoder().encode(Self.records[1], into: &buffer)
        #expect(
            String(buffer: buffer)
                == #"{"t":11,"k":"body","conn":4,"dir":"s2c","seq":0,"type":"text/html","coding":"gzip","inflated":true,"text":"<html>é</html>","last":true,"size":40}"#
                + "\n")
        buffer.clear()
        RecordEncoder().encode(Self.records[2], into: &buffer)
        #expect(
            String(buffer: buffer)
                == #"{"t":12,"k":"body","conn":5,"dir":"s2c","seq":3,"b64":"AP8=","last":true,"size":3000000,"note":"over the body limit"}"#
                + "\n")
    }
}
