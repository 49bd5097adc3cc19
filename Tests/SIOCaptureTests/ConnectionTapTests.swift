import NIOCore
import NIOHTTP1
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

@Suite struct ConnectionTapTests {
    @Test func plainHTTPExchangeIsRecordedWithTimingAndRedactedPath() {
        let harness = Harness()
        let tap = harness.hub.makeTap(connection: 7, peer: "127.0.0.1:5555")
        harness.clock.set(.microseconds(100))
        tap.requestHead(HTTPHead(method: .POST, uri: "/api?token=abc&page=2"))
        tap.requestBody(ByteBuffer(string: "hello"))
        tap.requestEnd()
        harness.clock.set(.microseconds(350))
        tap.responseHead(HTTPHead(status: 200))
        tap.responseBody(ByteBuffer(string: "world!"))
        tap.responseEnd()
        harness.clock.set(.microseconds(400))
        tap.connectionClosed(cause: "client")
        let records = harness.records
        #expect(records.first == Record(time: 0, event: .connectionOpened(.init(connection: 7, peer: "127.0.0.1:5555"))))
        #expect(
            records.compactMap(\.http) == [
                .init(
                    connection: 7, method: "POST", path: "/api?token=[redacted]&page=2", status: 200, requestBytes: 5,
                    responseBytes: 6, durationMicros: 250, requestHeaders: [], responseHeaders: [])
            ])
        #expect(records.first { $0.http != nil }?.time == 350)
        // The bodies come first: the request's when it ended; the response (no length: read until
        // the end, so streamed) piece by piece, then an empty last piece with the size.
        #expect(records.compactMap(\.body).map(\.data) == [.text("hello"), .text("world!"), .text("")])
        #expect(records.filter { $0.body != nil }.map(\.time) == [100, 350, 350])
        #expect(records.last == Record(time: 400, event: .connectionClosed(.init(connection: 7, cause: "client"))))
        let statistics = harness.hub.statistics
        #expect(statistics.bytesClientToServer == 5 && statistics.bytesServerToClient == 6)
        #expect(statistics.httpExchanges == 1)
    }

    @Test func upstreamUnreachableIsRecordedWithoutStatus() {
        let harness = Harness()
        let tap = harness.hub.makeTap(connection: 1, peer: "p")
        tap.requestHead(HTTPHead(method: .GET, uri: "/"))
        tap.requestEnd()
        tap.upstreamUnreachable(reason: "connection refused")
        tap.connectionClosed(cause: "client")
        let records = harness.records
        #expect(records.compactMap(\.http).map(\.status) == [nil])
        #expect(records.contains { if case .note(let n) = $0.event { n.message.contains("refused") } else { false } })
        // Closing twice records once.
        tap.connectionClosed(cause: "again")
        #expect(harness.records.count == records.count)
    }

    @Test func exchangeInFlightIsRecordedWhenTheConnectionDrops() {
        let harness = Harness()
        let tap = harness.hub.makeTap(connection: 1, peer: "p")
        tap.requestHead(HTTPHead(method: .GET, uri: "/slow"))
        tap.requestEnd()
        tap.connectionClosed(cause: "client reset")
        #expect(harness.records.compactMap(\.http).map(\.path) == ["/slow"])
    }

    /// Whether a `101` made the connection a WebSocket is the caller's verdict (the proxy's state
    /// machine): the tap does not judge the upgrade from the request's headers itself.
    @Test(arguments: [false, true])
    func theTapDecodesFramesOnlyAfterBeingToldTheConnectionIsAWebSocket(told: Bool) {
        let harness = Harness()
        let tap = harness.hub.makeTap(connection: 5, peer: "p")
        tap.requestHead(
            HTTPHead(method: .GET, uri: "/socket.io/?EIO=4&transport=websocket", headers: [("Upgrade", "websocket")]))
        tap.requestEnd()
        let switching = HTTPHead(status: 101, headers: [("Upgrade", "websocket")])
        if told { tap.webSocketAccepted(switching) } else { tap.responseHead(switching) }
        tap.responseEnd()
        let open = #"0{"sid":"toldSID","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
        var frame = ByteBuffer(bytes: [0x81, UInt8(open.utf8.count)])
        frame.writeString(open)
        tap.webSocketBytes(frame, direction: .serverToClient)
        tap.connectionClosed(cause: "client")
        let records = harness.records
        #expect(records.compactMap(\.http).map(\.status) == [101])
        #expect(records.compactMap(\.webSocketOpen).count == (told ? 1 : 0))
        #expect(records.compactMap(\.opened).map(\.sid) == (told ? ["toldSID"] : []))
        #expect(harness.hub.statistics.bytesServerToClient == frame.readableBytes)
    }
}

/// WebSocket paths that no capture covers (no peer in the captures accepted permessage-deflate).
@Suite
struct WebSocketTapTests {
    static func bytes(_ hex: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            buffer.writeInteger(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return buffer
    }

    @Test func webSocketOnlySessionWithPermessageDeflate() {
        let harness = Harness()
        let tap = harness.hub.makeTap(connection: 3, peer: "p")
        tap.requestHead(
            HTTPHead(
                method: .GET, uri: "/socket.io/?EIO=4&transport=websocket",
                headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Cookie", "a=b")]))
        tap.requestEnd()
        tap.webSocketAccepted(
            HTTPHead(status: 101, headers: [("Upgrade", "websocket"), ("Sec-WebSocket-Extensions", "permessage-deflate")]))
        tap.responseEnd()
        // Three compressed server messages sharing one deflate context (context takeover):
        // the handshake, then `42["hello","hello hello hello"]` twice.
        tap.webSocketBytes(
            Self.bytes(
                "c15332a8562ace4c51b2524a494dcb09f67451d2512a2d482f4a4c492d56b28a8ed5512ac8cc4bf7cc2b492d2a4bcc51b2323235303080088664e6a6e6979600c50cc062b9891501899539f98940d30c0dc0a01600"
            ), direction: .serverToClient)
        tap.webSocketBytes(Self.bytes("c11432318a56ca48cdc9c9071a0ba6159048a5580000c10422200d00"), direction: .serverToClient)
        // A client close frame with no status code (as Node sends), masked with a zero key.
        tap.webSocketBytes(Self.bytes("888000000000"), direction: .clientToServer)
        tap.connectionClosed(cause: "client")
        let records = harness.records
        #expect(records.compactMap(\.webSocketOpen) == [.init(sid: nil, connection: 3, extensions: "permessage-deflate")])
        let open = records.compactMap(\.opened).first
        #expect(open?.sid == "deflSID" && open?.transport == .websocket)
        #expect(open?.headers.contains(.init("Cookie", "[redacted]")) == true)
        let events = records.compactMap(\.socket)
        #expect(events.map(\.packet.eventName) == ["hello", "hello"])
        #expect(events.allSatisfy { $0.sid == "deflSID" && $0.transport == .websocket })
        #expect(records.compactMap(\.webSocketClose) == [.init(sid: "deflSID", connection: 3, direction: .clientToServer, code: nil, reason: "")])
        #expect(records.compactMap(\.closed) == [.init(sid: "deflSID", cause: "websocket closed by client")])
    }

    @Test func bytesAfterACloseFrameAreRecordedOnceWithWhatTheyWere() {
        let harness = Harness()
        let tap = harness.hub.makeTap(connection: 4, peer: "p")
        tap.requestHead(
            HTTPHead(
                method: .GET, uri: "/socket.io/?EIO=4&transport=websocket&sid=abc", headers: [("Upgrade", "websocket")]))
        tap.requestEnd()
        tap.webSocketAccepted(HTTPHead(status: 101, headers: [("Upgrade", "websocket")]))
        tap.responseEnd()
        // Werkzeug: a close frame (1000), then an HTTP answer written onto the same socket.
        var bytes = Self.bytes("880203e8")
        bytes.writeString("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
        tap.webSocketBytes(bytes, direction: .serverToClient)
        tap.webSocketBytes(ByteBuffer(string: "<html>more of the error page</html>"), direction: .serverToClient)
        tap.connectionClosed(cause: "upstream")

        let damage = harness.records.compactMap(\.undecodable)
        #expect(damage.count == 1)
        #expect(damage.first?.reason.hasPrefix("bytes after the close frame") == true)
        if case .binary(let sample) = damage.first?.data {
            #expect(String(buffer: sample).contains("HTTP/1.1 400 Bad Request"))
        } else {
            Issue.record("the damage record does not keep the bytes")
        }
        #expect(harness.records.compactMap(\.webSocketClose).map(\.code) == [1000])
    }

    @Test func oversizedPollingBodyIsKeptAsNoteAndHead() {
        var configuration = CaptureConfiguration()
        configuration.maxBodyBytes = 8
        let harness = Harness(configuration: configuration)
        let tap = harness.hub.makeTap(connection: 1, peer: "p")
        tap.requestHead(HTTPHead(method: .POST, uri: "/socket.io/?EIO=4&transport=polling&sid=S9"))
        tap.requestBody(ByteBuffer(string: "42[\"a\","))
        tap.requestBody(ByteBuffer(string: "\"bbbbbbbbbbbb\"]"))
        tap.requestEnd()
        let raw = harness.records.compactMap(\.raw)
        #expect(raw.count == 1 && raw.first?.layer == .payload)
        #expect(raw.first?.data == .binary(ByteBuffer(string: "42[\"a\",\"bbbbbbbbbbbb\"]")))
    }
}
