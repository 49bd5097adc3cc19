import NIOCore
import NIOHTTP1
import SIOWire
import Testing

/// What a relay sees when it feeds `input` to a parser in pieces of `pieceSize` bytes.
private struct Observed {
    var forwarded = ByteBuffer()
    var heads: [HTTPHead] = []
    var bodies: [String] = []
    var ends = 0
    var currentBody = ""

    var requestHeads: [HTTPHead] { self.heads.filter(\.isRequest) }

    var responseHeads: [HTTPHead] { self.heads.filter { !$0.isRequest } }
}

private func observe(
    _ parser: inout HTTP1StreamParser, _ input: String, pieceSize: Int = .max, closeAtEnd: Bool = false
) -> Observed {
    var observed = Observed()
    let bytes = Array(input.utf8)
    var start = 0
    let handle: (HTTP1StreamParser.Event) -> Void = { event in
        switch event {
        case .head(let head):
            observed.heads.append(head)
            observed.forwarded.writeImmutableBuffer(head.raw)
        case .forward(let bytes):
            observed.forwarded.writeImmutableBuffer(bytes)
        case .content(let bytes):
            observed.currentBody += String(buffer: bytes)
        case .end:
            observed.ends += 1
            observed.bodies.append(observed.currentBody)
            observed.currentBody = ""
        }
    }
    while start < bytes.count {
        let end = min(bytes.count, start + max(1, pieceSize))
        parser.parse(ByteBuffer(bytes: bytes[start..<end]), handle)
        start = end
    }
    if closeAtEnd {
        parser.inputClosed(handle)
    }
    return observed
}

private let pieceSizes = [1, 2, 3, 7, 64, Int.max]

@Suite struct HTTP1StreamParserTests {
    @Test(arguments: pieceSizes)
    func keepAliveRequestsWithBodiesAreForwardedByteForByte(pieceSize: Int) {
        let input =
            "POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n"
            + "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 14\r\n\r\n42[\"hey\",\"j\"]x"
            + "GET /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n\r\n"
        var parser = HTTP1StreamParser(role: .request)
        let observed = observe(&parser, input, pieceSize: pieceSize)
        #expect(String(buffer: observed.forwarded) == input)
        #expect(observed.requestHeads.map(\.method) == [.POST, .GET])
        #expect(observed.requestHeads.first?.uri == "/socket.io/?EIO=4&transport=polling&sid=abc")
        #expect(observed.requestHeads.first?.headers["content-type"] == ["text/plain;charset=UTF-8"])
        #expect(observed.bodies == ["42[\"hey\",\"j\"]x", ""])
        #expect(parser.isIdle)
        #expect(parser.error == nil)
    }

    @Test(arguments: pieceSizes)
    func chunkedBodiesKeepTheirFramingAndAreReportedDechunked(pieceSize: Int) {
        let input =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
            + "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        var parser = HTTP1StreamParser(role: .response)
        parser.expectResponse(to: .GET)
        parser.expectResponse(to: .POST)
        let observed = observe(&parser, input, pieceSize: pieceSize)
        #expect(String(buffer: observed.forwarded) == input)
        #expect(observed.bodies == ["hello, world", "ok"])
        #expect(observed.responseHeads.map(\.status.code) == [200, 200])
    }

    @Test func responsesWithoutBodiesEndAtTheirHead() {
        let input =
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
        var parser = HTTP1StreamParser(role: .response)
        for method in [HTTPMethod.HEAD, .GET, .GET, .POST] { parser.expectResponse(to: method) }
        let observed = observe(&parser, input)
        #expect(String(buffer: observed.forwarded) == input)
        #expect(observed.bodies == ["", "", "", "OK"])
    }

    @Test func interimResponsesPrecedeTheFinalOne() {
        let input = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        var parser = HTTP1StreamParser(role: .response)
        parser.expectResponse(to: .POST)
        let observed = observe(&parser, input, pieceSize: 5)
        #expect(observed.responseHeads.map(\.status.code) == [100, 200])
        #expect(observed.bodies.last == "ok")
        #expect(String(buffer: observed.forwarded) == input)
    }

    @Test(arguments: pieceSizes)
    func switchingProtocolsMakesTheRestOpaque(pieceSize: Int) {
        let frames = "\u{81}\u{06}3probe\u{81}\u{01}6"
        let input =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
            + "Sec-WebSocket-Accept: pRXVSYbsiR3rqvdFjelP0+viCBw=\r\n\r\n" + frames
        var parser = HTTP1StreamParser(role: .response)
        parser.expectResponse(to: .GET)
        let observed = observe(&parser, input, pieceSize: pieceSize)
        #expect(parser.isOpaque)
        #expect(observed.responseHeads.map(\.status.code) == [101])
        #expect(String(buffer: observed.forwarded) == input)
        #expect(observed.bodies == [""])
    }

    @Test func aResponseWithoutLengthEndsWhenTheConnectionCloses() {
        let input = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>all of it</html>"
        var parser = HTTP1StreamParser(role: .response)
        parser.expectResponse(to: .GET)
        let observed = observe(&parser, input, pieceSize: 4, closeAtEnd: true)
        #expect(observed.bodies == ["<html>all of it</html>"])
        #expect(String(buffer: observed.forwarded) == input)
    }

    @Test func bareLineFeedsAreAccepted() {
        let input = "GET / HTTP/1.1\nHost: a\n\nGET /b HTTP/1.1\nHost: a\n\n"
        var parser = HTTP1StreamParser(role: .request)
        let observed = observe(&parser, input, pieceSize: 1)
        #expect(observed.requestHeads.map(\.uri) == ["/", "/b"])
        #expect(String(buffer: observed.forwarded) == input)
    }

    @Test(arguments: [
        "GARBAGE\r\n\r\nmore bytes",
        "GET / HTTP/1.1\r\nno colon here\r\n\r\nrest",
        "POST / HTTP/1.1\r\nContent-Length: twelve\r\n\r\nbody",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbody",
        // Found by Fuzz/FuzzHTTP1: a non-ASCII header name trapped inside NIO's HTTPHeaders.
        "GET / HTTP/1.1\r\nX-Caf\u{E9}: 1\r\n\r\nrest",
        "GET / HTTP/1.1\r\nBad Name: 1\r\n\r\nrest",
    ])
    func malformedInputIsStillForwardedUnchanged(input: String) {
        var parser = HTTP1StreamParser(role: .request)
        let observed = observe(&parser, input, pieceSize: 3)
        #expect(parser.error != nil)
        #expect(parser.isOpaque)
        #expect(String(buffer: observed.forwarded) == input)
    }

    @Test(arguments: [
        (HTTP1StreamParser.Role.request, "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}"),  // a TLS ClientHello
        (.request, " GET / HTTP/1.1"),
        (.response, "SSH-2.0-OpenSSH_9.2"),
    ])
    func bytesThatCannotStartAMessageAreForwardedAtOnce(role: HTTP1StreamParser.Role, input: String) {
        var parser = HTTP1StreamParser(role: role)
        if case .response = role { parser.expectResponse(to: .GET) }
        let observed = observe(&parser, input, pieceSize: 2)
        #expect(parser.error != nil)
        #expect(parser.isOpaque)
        #expect(String(buffer: observed.forwarded) == input)
    }

    // Found by Fuzz/FuzzHTTP1: a complete head that did not start with HTTP got another verdict
    // than the same bytes arriving in pieces.
    @Test(arguments: [
        (HTTP1StreamParser.Role.response, "HTT/P1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u{81}\u{01}x"),
        (.request, "GET\u{01} / HTTP/1.1\r\nHost: a\r\n\r\n"),
        (.request, "\n\n\n\n\n\n]"),
    ])
    func theVerdictOnAFirstHeadDoesNotDependOnHowItWasRead(role: HTTP1StreamParser.Role, input: String) {
        var errors: [String?] = []
        for pieceSize in pieceSizes {
            var parser = HTTP1StreamParser(role: role)
            if case .response = role { parser.expectResponse(to: .GET) }
            let observed = observe(&parser, input, pieceSize: pieceSize)
            #expect(String(buffer: observed.forwarded) == input)
            errors.append(parser.error.map(String.init(describing:)))
        }
        #expect(errors.allSatisfy { $0 != nil && $0 == errors.first! }, "\(errors)")
    }

    // Found by Fuzz/FuzzHTTP1: a negative status code trapped inside NIO's HTTPResponseStatus.
    @Test(arguments: ["HTTP/1.1 -15 Bad\r\n\r\nrest", "HTTP/1.1 1000 Big\r\n\r\n", "HTTP/1.1 +20 X\r\n\r\n"])
    func statusCodesThatAreNotThreeDigitsAreMalformed(input: String) {
        var parser = HTTP1StreamParser(role: .response)
        parser.expectResponse(to: .GET)
        let observed = observe(&parser, input, pieceSize: 4)
        #expect(parser.error?.reason.contains("malformed status line") == true)
        #expect(String(buffer: observed.forwarded) == input)
    }

    @Test func anUnfinishedHeadThatCanStillBeHTTPIsHeldBack() {
        var parser = HTTP1StreamParser(role: .request)
        let observed = observe(&parser, "GET /socket.io/?EIO=4 HT", pieceSize: 1)
        #expect(parser.error == nil)
        #expect(observed.forwarded.readableBytes == 0)
    }

    @Test func anEndlessHeadStopsParsingButNotForwarding() {
        var parser = HTTP1StreamParser(role: .request, maxHeadBytes: 1024)
        let input = "GET / HTTP/1.1\r\n" + String(repeating: "X-Slow: loris\r\n", count: 200)
        let observed = observe(&parser, input, pieceSize: 100)
        #expect(parser.error?.reason.contains("longer than 1024") == true)
        #expect(String(buffer: observed.forwarded) == input)
    }

    @Test(arguments: pieceSizes)
    func aHeadOverTheLimitIsRefusedWhereverItsEndFalls(pieceSize: Int) {
        var parser = HTTP1StreamParser(role: .request, maxHeadBytes: 1024)
        let input = "GET / HTTP/1.1\r\n" + String(repeating: "X-Big: filler\r\n", count: 100) + "\r\nrest"
        let observed = observe(&parser, input, pieceSize: pieceSize)
        #expect(observed.requestHeads.isEmpty, "a head of \(input.utf8.count) bytes was accepted")
        #expect(parser.error?.reason.contains("longer than 1024") == true)
        #expect(String(buffer: observed.forwarded) == input)
    }

    @Test(arguments: [HTTP1StreamParser.Role.request, .response])
    func bytesOfAnUnfinishedHeadAreReleasedWhenTheInputCloses(role: HTTP1StreamParser.Role) {
        var parser = HTTP1StreamParser(role: role)
        if case .response = role { parser.expectResponse(to: .GET) }
        let input = role == .request ? "GET / HTTP/1.1\r\nHost: a\r\nX-Unfinish" : "HTTP/1.1 200 OK\r\nServer: x\r\n"
        let observed = observe(&parser, input, pieceSize: 5, closeAtEnd: true)
        #expect(String(buffer: observed.forwarded) == input)
        #expect(parser.error?.reason.contains("ended inside a message head") == true)
    }

    @Test func switchToOpaqueReturnsBytesHeldBackAfterAnUpgradeRequest() {
        var parser = HTTP1StreamParser(role: .request)
        let input = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\u{81}\u{85}"
        let observed = observe(&parser, input)
        #expect(observed.requestHeads.count == 1)
        let held = parser.switchToOpaque()
        #expect(held.map { String(buffer: $0) } == "\u{81}\u{85}")
        #expect(parser.isOpaque)
    }
}
