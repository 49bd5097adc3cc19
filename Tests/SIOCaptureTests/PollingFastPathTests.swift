import Logging
import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

/// Long-polling bodies through a tap whose sink takes lines (`ConnectionTap.pollLines`: the `sio`
/// lines of common packets written without `Record`s, after the body's `poll` line) write the
/// lines the `Record` path writes, in the bodies that mix in Engine.IO packets, damage, binary
/// attachments, a session's close and a client's CONNECT whose token is then masked everywhere.
@Suite struct PollingFastPathTests {
    static let token = "tok-123456789"

    /// One polling session on two keep-alive connections (GETs on 1, POSTs on 2), through `sink`.
    static func run(_ sink: any RecordSink, redacting: Bool = true) {
        let clock = StepClock()
        var configuration = CaptureConfiguration()
        configuration.redactCredentials = redacting
        let hub = CaptureHub(configuration: configuration, sink: sink, logger: Logger(label: "t"), clock: clock)
        let get = hub.makeTap(connection: 1, peer: "p1")
        let post = hub.makeTap(connection: 2, peer: "p2")
        let query = "/socket.io/?EIO=4&transport=polling"
        func answer(_ tap: ConnectionTap, _ body: String) {
            clock.advance(by: .microseconds(7))
            tap.responseHead(HTTPHead(status: 200, headers: [("Content-Type", "text/plain; charset=UTF-8")]))
            tap.responseBody(ByteBuffer(string: body))
            tap.responseEnd()
        }
        func poll(_ body: String) {
            clock.advance(by: .microseconds(5))
            get.requestHead(HTTPHead(method: .GET, uri: query + "&sid=S1"))
            get.requestEnd()
            answer(get, body)
        }
        func send(_ body: String) {
            clock.advance(by: .microseconds(5))
            post.requestHead(
                HTTPHead(method: .POST, uri: query + "&sid=S1", headers: [("Content-Type", "text/plain;charset=UTF-8")]))
            post.requestBody(ByteBuffer(string: body))
            post.requestEnd()
            answer(post, "ok")
        }
        get.requestHead(HTTPHead(method: .GET, uri: query))
        get.requestEnd()
        answer(get, #"0{"sid":"S1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#)
        // Before any secret is known: events, acks, Engine.IO packets, an undecodable part, a
        // binary event and its attachment.
        send("42[\"a\",1]\u{1e}421[\"b\",2]\u{1e}2\u{1e}422[\"c\"]")
        poll("431[2]\u{1e}3\u{1e}432[]\u{1e}6")
        send("423[\"d\"]\u{1e}4x-not-socket-io\u{1e}424[\"e\"]")
        poll("433[\"d\"]\u{1e}9bad-engine-type")
        send("451-[\"up\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQID\u{1e}425[\"f\"]")
        poll("434[\"e\"]\u{1e}435[\"f\"]\u{1e}436[\"unasked\"]")
        // A client's CONNECT with a token (learned when redacting), events echoing it before and after.
        send("42[\"before\",\"\(Self.token)\"]\u{1e}40{\"token\":\"\(Self.token)\"}\u{1e}426[\"after\",\"\(Self.token)\"]")
        poll("40{\"sid\":\"x\"}\u{1e}436[\"\(Self.token)\"]")
        for round in 7..<10 {
            send("42\(round)[\"echo\",\"\(Self.token)\"]\u{1e}42[\"plain\"]")
            poll("43\(round)[\"\(Self.token)\"]\u{1e}2")
        }
        // The session's close in the middle of a body: the packets after it have no session.
        poll("42[\"last\"]\u{1e}1\u{1e}42[\"late\"]")
        get.connectionClosed(cause: "client")
        post.connectionClosed(cause: "client")
    }

    @Test(arguments: [true, false])
    func linesAreTheRecordPathsLines(redacting: Bool) throws {
        let collecting = CollectingSink()
        Self.run(collecting, redacting: redacting)
        let sink = try LinesSink()
        Self.run(sink, redacting: redacting)
        let written = try sink.lines()
        #expect(written == FastPathTests.encoded(collecting.records))
        #expect(written.filter { $0.contains(#""k":"poll""#) }.count == 16)
        #expect(written.filter { $0.contains(#""k":"sio""#) }.count == 29)
        #expect(written.joined().contains(Self.token) == !redacting)
    }
}
