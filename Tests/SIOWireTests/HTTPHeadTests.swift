import NIOCore
import NIOHTTP1
import SIOWire
import Testing

/// The byte-based head `HTTP1StreamParser` reports: lookups on the bytes, strings only on demand.
@Suite struct HTTPHeadTests {
    /// The heads of `input`, parsed as one direction of a connection.
    static func heads(_ input: String, role: HTTP1StreamParser.Role) -> (heads: [HTTPHead], error: String?) {
        var parser = HTTP1StreamParser(role: role)
        if case .response = role { parser.expectResponse(to: .GET) }
        var heads: [HTTPHead] = []
        parser.parse(ByteBuffer(string: input)) { if case .head(let head) = $0 { heads.append(head) } }
        return (heads, parser.error?.reason)
    }

    @Test func namesAreComparedWithoutCaseAndValuesTrimmedOfSpacesAndTabs() throws {
        let raw = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHOST: a:1\r\ncontent-TYPE:\t text/plain \t\r\nX-Empty:\r\n\r\n"
        let head = try #require(Self.heads(raw, role: .request).heads.first)
        #expect(head.isRequest && head.method == .GET && head.methodIs("GET") && !head.methodIs("get"))
        #expect(head.uri == "/socket.io/?EIO=4&transport=polling" && head.uriContains("EIO=") && !head.uriContains("sid="))
        #expect(head.version == .http1_1)
        #expect(head.headers.first(name: "host") == "a:1")
        #expect(head.headers.first(name: "Content-Type") == "text/plain")
        #expect(head.headers.first(name: "x-empty") == "")
        #expect(head.headers.first(name: "Content-Length") == nil && !head.headers.contains(name: "hos"))
        #expect(head.headers.map(\.name) == ["HOST", "content-TYPE", "X-Empty"])
        #expect(String(buffer: head.raw) == raw)
    }

    @Test func duplicatesAreKeptInOrderAndListsAreSplitOnCommas() throws {
        let raw =
            "GET /ws HTTP/1.1\r\nUpgrade: h2c\r\nCookie: a=1\r\nupgrade: foo , WebSocket\r\nCookie: b=2\r\n"
            + "Transfer-Encoding: gzip, chunked\r\n\r\n"
        let head = try #require(Self.heads(raw, role: .request).heads.first)
        #expect(head.headers["cookie"] == ["a=1", "b=2"])
        #expect(head.headers.first(name: "Upgrade") == "h2c")
        #expect(head.headers.hasToken("websocket", name: "upgrade"))
        #expect(head.headers.hasToken("h2c", name: "UPGRADE"))
        #expect(!head.headers.hasToken("web", name: "upgrade") && !head.headers.hasToken("websocket", name: "cookie"))
        #expect(head.headers.hasToken("chunked", name: "transfer-encoding"))
        #expect(head.headers.indices.filter { head.headers.nameIs("COOKIE", at: $0) } == [1, 3])
        #expect(String(buffer: head.headers.valueBytes(at: 2)) == "foo , WebSocket")
    }

    @Test func statusLinesKeepCodeAndReason() throws {
        let parsed = Self.heads("HTTP/1.0 404 Not  Found\r\nContent-Length: 0\r\n\r\n", role: .response).heads
        let head = try #require(parsed.first)
        #expect(!head.isRequest && head.statusCode == 404 && head.reasonPhrase == "Not  Found")
        #expect(head.version == .http1_0 && head.status == .notFound)
        let bare = try #require(Self.heads("HTTP/1.1 200\r\n\r\n", role: .response).heads.first)
        #expect(bare.statusCode == 200 && bare.reasonPhrase == "")
    }

    /// Obs-fold (a line starting with a space or tab) is not accepted, nor a name that is not a
    /// token: the stream is relayed as opaque bytes, as before heads were kept as bytes.
    @Test(arguments: [
        ("GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n", "malformed header line '  continued'"),
        ("GET / HTTP/1.1\r\nX-A: 1\r\n\tcontinued: x\r\n\r\n", "invalid header name '\tcontinued'"),
        ("GET / HTTP/1.1\r\nX-Caf\u{E9}: 1\r\n\r\n", "invalid header name 'X-Caf\u{E9}'"),
        ("GET / HTTP/1.1\r\n: empty name\r\n\r\n", "malformed header line ': empty name'"),
        ("GET  / HTTP/1.1\r\n\r\n", "malformed request line 'GET  / HTTP/1.1'"),
        ("GET / HTTP/1.1 x\r\n\r\n", "malformed request line 'GET / HTTP/1.1 x'"),
        ("GET / HTTP/11\r\n\r\n", "malformed request line 'GET / HTTP/11'"),
    ])
    func linesThatAreNotHTTPStopParsing(input: String, reason: String) {
        let parsed = Self.heads(input, role: .request)
        #expect(parsed.heads.isEmpty)
        #expect(parsed.error == reason)
    }

    @Test func aHeadMadeFromPartsIsTheHeadAClientWouldSend() throws {
        let made = HTTPHead(method: .POST, uri: "/a?b=c", headers: [("Host", "h"), ("Content-Length", "2")])
        #expect(String(buffer: made.raw) == "POST /a?b=c HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n")
        let parsed = try #require(Self.heads(String(buffer: made.raw), role: .request).heads.first)
        #expect(parsed == made)
        let response = HTTPHead(status: 101, headers: [("Upgrade", "websocket")])
        #expect(String(buffer: response.raw) == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
        #expect(try #require(Self.heads(String(buffer: response.raw), role: .response).heads.first) == response)
        #expect(HTTPHead(status: 7).statusCode == 7 && String(buffer: HTTPHead(status: 7).raw).hasPrefix("HTTP/1.1 007 "))
    }
}
