import CompressNIO
import NIOCore
import NIOHTTP1
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

extension Record {
    var body: HTTPBody? { if case .body(let p) = self.event { return p } else { return nil } }
}

/// Bodies of HTTP exchanges that are not Engine.IO, as the recording keeps them.
@Suite struct BodyCaptureTests {
    /// One exchange through a tap; the records it gave.
    static func exchange(
        _ harness: Harness, connection: UInt64 = 1, method: HTTPMethod = .POST, uri: String = "/api/login",
        requestHeaders: [(String, String)] = [], request: [String] = [], responseHeaders: [(String, String)] = [],
        response: [ByteBuffer] = []
    ) {
        let tap = harness.hub.makeTap(connection: connection, peer: "p")
        tap.requestHead(HTTPHead(method: method, uri: uri, headers: requestHeaders))
        for piece in request { tap.requestBody(ByteBuffer(string: piece)) }
        tap.requestEnd()
        tap.responseHead(HTTPHead(status: 200, headers: responseHeaders))
        for piece in response { tap.responseBody(piece) }
        tap.responseEnd()
    }

    @Test func requestAndResponseBodiesComeBeforeTheirExchangeWithTypeAndSize() throws {
        let harness = Harness()
        Self.exchange(
            harness, requestHeaders: [("Content-Type", "text/plain"), ("Content-Length", "11")],
            request: ["hello ", "world"],
            responseHeaders: [("Content-Type", "application/octet-stream"), ("Content-Length", "3")],
            response: [ByteBuffer(bytes: [0xFF, 0x00, 0x80])])
        let kinds = harness.records.compactMap { r -> String? in
            r.body.map { "body \($0.direction.rawValue)" } ?? r.http.map { _ in "http" }
        }
        #expect(kinds == ["body c2s", "body s2c", "http"])
        let bodies = harness.records.compactMap(\.body)
        #expect(
            bodies[0]
                == .init(
                    connection: 1, direction: .clientToServer, sequence: 0, data: .text("hello world"),
                    contentType: "text/plain", last: true, size: 11))
        #expect(bodies[1].data == .binary(ByteBuffer(bytes: [0xFF, 0x00, 0x80])))
        let http = try #require(harness.records.compactMap(\.http).first)
        #expect(http.requestHeaders?.map(\.name) == ["Content-Type", "Content-Length"])
        #expect(http.responseHeaders?.first?.value == "application/octet-stream")
    }

    @Test func pastTheLimitTheHeadIsKeptWithTheFullSize() throws {
        var configuration = CaptureConfiguration()
        configuration.bodyLimit = 8
        let harness = Harness(configuration: configuration)
        Self.exchange(
            harness, method: .GET, uri: "/big", responseHeaders: [("Content-Length", "20")],
            response: [ByteBuffer(string: "0123456789"), ByteBuffer(string: "abcdefghij")])
        let body = try #require(harness.records.compactMap(\.body).first)
        #expect(body.data == .text("01234567"))
        #expect(body.size == 20 && body.last)
        #expect(body.note?.contains("body limit of 8 bytes") == true, "\(body.note ?? "")")
    }

    @Test func gzipIsInflatedOnTheCopyOtherEncodingsAreKeptAsSent() throws {
        let text = String(repeating: "{\"n\":1}", count: 200)
        var compressed = ByteBuffer(string: text)
        compressed = try compressed.compress(with: .gzip())
        let harness = Harness()
        Self.exchange(
            harness, method: .GET, uri: "/data",
            responseHeaders: [("Content-Encoding", "gzip"), ("Content-Length", "\(compressed.readableBytes)")],
            response: [compressed])
        Self.exchange(
            harness, connection: 2, method: .GET, uri: "/br",
            responseHeaders: [("Content-Encoding", "br"), ("Content-Length", "3")],
            response: [ByteBuffer(bytes: [0x8B, 0x01, 0x80])])
        let bodies = harness.records.compactMap(\.body)
        #expect(bodies[0].data == .text(text) && bodies[0].inflated && bodies[0].contentEncoding == "gzip")
        #expect(bodies[0].size == compressed.readableBytes)
        #expect(bodies[1].data == .binary(ByteBuffer(bytes: [0x8B, 0x01, 0x80])) && !bodies[1].inflated)
        #expect(bodies[1].contentEncoding == "br")
    }

    @Test func streamedResponsesAreRecordedPieceByPieceWithTheirTimes() throws {
        let harness = Harness()
        let tap = harness.hub.makeTap(connection: 1, peer: "p")
        tap.requestHead(HTTPHead(method: .GET, uri: "/events"))
        tap.requestEnd()
        tap.responseHead(
            HTTPHead(status: 200, headers: [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")]))
        harness.clock.set(.microseconds(1000))
        tap.responseBody(ByteBuffer(string: "data: one\n\n"))
        harness.clock.set(.microseconds(2000))
        // "é" cut between two reads: the first piece waits for its second byte.
        var cut = ByteBuffer(string: "data: caf")
        cut.writeInteger(UInt8(0xC3))
        tap.responseBody(cut)
        harness.clock.set(.microseconds(3000))
        tap.responseBody(ByteBuffer(bytes: [0xA9, 0x0A, 0x0A]))
        tap.responseEnd()
        let pieces = harness.records.filter { $0.body != nil }
        #expect(pieces.map(\.time) == [1000, 2000, 3000, 3000])
        #expect(pieces.compactMap(\.body).map(\.data) == [.text("data: one\n\n"), .text("data: caf"), .text("é\n\n"), .text("")])
        #expect(pieces.compactMap(\.body).map(\.sequence) == [0, 1, 2, 3])
        #expect(pieces.last?.body?.size == 24 && pieces.last?.body?.last == true)
    }

    @Test func engineIOExchangesKeepNoBody() {
        let harness = Harness()
        Self.exchange(
            harness, method: .POST, uri: "/socket.io/?EIO=4&transport=polling&sid=S", request: ["40"],
            response: [ByteBuffer(string: "ok")])
        #expect(harness.records.compactMap(\.body).isEmpty)
        #expect(harness.records.compactMap(\.http).first?.requestHeaders == nil)
    }

    @Test func credentialMembersAndFieldsAreMaskedAndExtendable() throws {
        var configuration = CaptureConfiguration()
        configuration.redactNames = ["pin_code"]
        let harness = Harness(configuration: configuration)
        Self.exchange(
            harness, requestHeaders: [("Content-Type", "application/json")],
            request: [#"{"user":"ann","password":"hunter2-long","nested":{"apiKey":42,"pin_code":"7788"}}"#],
            responseHeaders: [("Content-Type", "application/json")],
            response: [ByteBuffer(string: #"{"access_token":"eyJhbGciOi.abc.def","expires":3600}"#)])
        Self.exchange(
            harness, connection: 2, requestHeaders: [("Content-Type", "application/x-www-form-urlencoded")],
            request: ["user=ann&Pass%77ord=s3cr%21t-value&next=%2F"])
        let bodies = harness.records.compactMap(\.body)
        #expect(
            bodies[0].data
                == .text(#"{"user":"ann","password":"[redacted]","nested":{"apiKey":"[redacted]","pin_code":"[redacted]"}}"#))
        #expect(bodies[1].data == .text(#"{"access_token":"[redacted]","expires":3600}"#))
        #expect(bodies[2].data == .text("user=ann&Pass%77ord=[redacted]&next=%2F"))
    }

    @Test func keepCredentialsKeepsBodies() {
        var configuration = CaptureConfiguration()
        configuration.redactCredentials = false
        let harness = Harness(configuration: configuration)
        let json = #"{"password":"hunter2-long"}"#
        Self.exchange(harness, requestHeaders: [("Content-Type", "application/json")], request: [json])
        #expect(harness.records.compactMap(\.body).first?.data == .text(json))
    }

    @Test func knownSecretsAreMaskedWhereverTheyReappear() throws {
        let harness = Harness()
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiYW5uIn0.c2lnbmF0dXJl"
        Self.exchange(
            harness, responseHeaders: [("Content-Type", "application/json"), ("Set-Cookie", "sess=cookie-value-123; Path=/")],
            response: [ByteBuffer(string: #"{"token":"\#(jwt)"}"#)])
        Self.exchange(
            harness, connection: 2, method: .GET, uri: "/api/me?id=1",
            requestHeaders: [("Authorization", "Bearer header-token-456")],
            response: [ByteBuffer(string: "you are \(jwt), cookie cookie-value-123, header header-token-456")])
        let later = try #require(harness.records.compactMap(\.body).first { $0.connection == 2 })
        #expect(later.data == .text("you are [redacted], cookie [redacted], header [redacted]"))
        let text = "\(harness.records)"
        #expect(!text.contains(jwt) && !text.contains("cookie-value-123") && !text.contains("header-token-456"))
    }

    @Test func knownSecretsAreMaskedInBinaryAttachments() {
        var secrets = KnownSecrets()
        secrets.learn("eyJhbGciOiJIUzI1NiJ9.c2lnbmF0dXJl")
        var attachment = ByteBuffer(bytes: [0x00, 0xFF])
        attachment.writeString("eyJhbGciOiJIUzI1NiJ9.c2lnbmF0dXJl")
        attachment.writeBytes([0x01])
        let packet = SocketIOPacket(
            type: .binaryEvent, attachmentCount: 2, json: ByteBuffer(string: #"["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
            attachments: [attachment, ByteBuffer(bytes: [0x02, 0x03])], eventName: "upload")
        var record = Record(
            time: 0, event: .socket(.init(sid: "s", connection: 1, direction: .clientToServer, transport: .websocket, packet: packet)))
        secrets.mask(&record)
        guard case .socket(let masked) = record.event else { Issue.record("not a socket record"); return }
        var expected = ByteBuffer(bytes: [0x00, 0xFF])
        expected.writeString("[redacted]")
        expected.writeBytes([0x01])
        #expect(masked.packet.attachments == [expected, ByteBuffer(bytes: [0x02, 0x03])])
        #expect(masked.packet.attachmentCount == 2)
    }

    @Test func shortOrNumericValuesAreNotLearned() {
        var secrets = KnownSecrets()
        secrets.learn("abc")
        secrets.learn("12345678901")
        #expect(secrets.isEmpty)
        secrets.learn("a-long-secret")
        #expect(secrets.mask("x a-long-secret y a-long-secre") == "x [redacted] y a-long-secre")
    }
}
