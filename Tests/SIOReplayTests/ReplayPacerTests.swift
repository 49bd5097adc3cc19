import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOReplay

private func packet(_ index: Int, _ time: Int64, _ direction: Direction, _ json: String) -> ScriptPacket {
    ScriptPacket(
        index: index, time: time, direction: direction, transport: .websocket,
        packet: SocketIOPacket(type: .event, json: ByteBuffer(string: json), eventName: "e"))
}

/// job-stream in miniature: a session opens at 0, `POST /api/ingest` runs from 100 to 150 µs, the
/// client joins at 200 (after the answer) and the server's `joined` comes at 260.
private func jobStream() -> ReplayTimeline {
    let session = ScriptSession(
        index: 0, sid: "S", engineIOVersion: .v4, initialTransport: .websocket, path: "/socket.io/", query: [],
        handshake: "{}", openedAt: 0, closedAt: 400, closeCause: "client close packet",
        packets: [packet(0, 200, .clientToServer, #"["join_execution"]"#), packet(1, 260, .serverToClient, #"["joined"]"#)])
    return ReplayTimeline(sessions: [session], http: [.init(start: 100, end: 150)], endTime: 400)
}

@Suite struct ReplayPacerTests {
    @Test func anHTTPRequestRunsInRecordedOrderAndTheNextStepWaitsForItsAnswer() {
        let timeline = jobStream()
        #expect(timeline.steps.map(\.action) == [.open(session: 0), .http(exchange: 0), .send(session: 0, packetIndex: 0), .close(session: 0)])
        var pacer = ReplayPacer(timeline: timeline, timeoutNanos: 5_000_000_000)
        #expect(pacer.next(now: 1_000) == .run(timeline.steps[0]))
        pacer.sessionOpened(0)
        // The request goes out 100 µs after the open (recorded gap), not before.
        #expect(pacer.next(now: 2_000) == .wait(until: 101_000))
        #expect(pacer.next(now: 101_000) == .run(timeline.steps[1]))
        // The join is due at 201 µs but waits for the answer to the POST.
        #expect(pacer.next(now: 201_000) == .wait(until: 201_000 + 5_000_000_000))
        #expect(pacer.isWaitingForArrivals)
        pacer.arrived(.response(exchange: 0))
        #expect(pacer.next(now: 900_000) == .run(timeline.steps[2]))
        // The close waits for `joined`; once it arrives the run ends.
        #expect(pacer.next(now: 1_100_000) == .wait(until: 1_100_000 + 5_000_000_000))
        pacer.arrived(.packet(session: 0, packetIndex: 1))
        #expect(pacer.next(now: 1_200_000) == .run(timeline.steps[3]))
        #expect(pacer.next(now: 1_200_000) == .finished)
        // Only the send that went out on schedule is timed: the join waited for the answer.
        #expect(pacer.timingErrors.isEmpty)
    }

    @Test func whatNeverArrivesIsGivenUpAfterTheTimeoutAndNotWaitedForAgain() {
        let timeline = jobStream()
        var pacer = ReplayPacer(timeline: timeline, fast: true, timeoutNanos: 1_000)
        #expect(pacer.next(now: 0) == .run(timeline.steps[0]))
        #expect(pacer.next(now: 0) == .run(timeline.steps[1]))
        #expect(pacer.next(now: 10) == .wait(until: 1_010))
        // The session never opened: the send is given up and reported as such.
        #expect(pacer.next(now: 1_010) == .gaveUp(timeline.steps[2], sessionNotOpen: true))
        pacer.sessionEnded(0)
        #expect(pacer.next(now: 1_011) == .run(timeline.steps[2]))
        #expect(pacer.next(now: 1_012) == .run(timeline.steps[3]))
    }

    /// The end of ns-chat's page as `import har` made it from Playwright's HAR of a CI run (times in
    /// µs as imported): bob's DISCONNECT (3,198,235) makes the server send alice the users left, which
    /// the HAR stamps before it (3,197,205: each socket's times on a baseline of its own), and alice's
    /// DISCONNECT follows (3,202,617). Bob's step waits for alice's packet in vain and gives it up;
    /// alice must still wait for it, or she leaves before the server's answer to bob's leaving reaches
    /// her and replay run reports it missing.
    @Test func aPacketAnotherSessionGaveUpIsStillAwaitedByItsOwnSession() {
        let alice = ScriptSession(
            index: 0, sid: "A", engineIOVersion: .v4, initialTransport: .polling, path: "/socket.io/", query: [],
            handshake: "{}", openedAt: 0, closedAt: 3_202_617, closeCause: "transport closed (end of HAR entry)",
            packets: [
                packet(0, 3_197_205, .serverToClient, #"["users-list",[{"username":"alice"}]]"#),
                packet(1, 3_202_617, .clientToServer, "[]"),
            ])
        let bob = ScriptSession(
            index: 1, sid: "B", engineIOVersion: .v4, initialTransport: .polling, path: "/socket.io/", query: [],
            handshake: "{}", openedAt: 1_000_000, closedAt: 3_198_235, closeCause: "transport closed (end of HAR entry)",
            packets: [packet(0, 3_198_235, .clientToServer, "[]")])
        let timeline = ReplayTimeline(sessions: [alice, bob], endTime: 3_202_617)
        #expect(timeline.steps.map(\.action) == [
            .open(session: 0), .open(session: 1), .send(session: 1, packetIndex: 0), .close(session: 1),
            .send(session: 0, packetIndex: 1), .close(session: 0),
        ])
        var pacer = ReplayPacer(timeline: timeline, fast: true, timeoutNanos: 1_000)
        #expect(pacer.next(now: 0) == .run(timeline.steps[0]))
        pacer.sessionOpened(0)
        #expect(pacer.next(now: 0) == .run(timeline.steps[1]))
        pacer.sessionOpened(1)
        // Bob's DISCONNECT waits for alice's users-list, which only it can cause: given up.
        #expect(pacer.next(now: 10) == .wait(until: 1_010))
        #expect(pacer.next(now: 1_010) == .gaveUp(timeline.steps[2], sessionNotOpen: false))
        #expect(pacer.next(now: 1_011) == .run(timeline.steps[2]))
        #expect(pacer.next(now: 1_012) == .run(timeline.steps[3]))
        pacer.sessionEnded(1)
        // Alice's DISCONNECT waits for it all the same, and goes once it has come.
        #expect(pacer.next(now: 1_013) == .wait(until: 2_013))
        pacer.arrived(.packet(session: 0, packetIndex: 0))
        #expect(pacer.next(now: 1_500) == .run(timeline.steps[4]))
        #expect(pacer.next(now: 1_501) == .run(timeline.steps[5]))
        #expect(pacer.next(now: 1_502) == .finished)
    }

    /// What its own session gave up as well is not waited for a third time.
    @Test func aPacketItsOwnSessionGaveUpIsNotAwaitedAgain() {
        let alice = ScriptSession(
            index: 0, sid: "A", engineIOVersion: .v4, initialTransport: .websocket, path: "/socket.io/", query: [],
            handshake: "{}", openedAt: 0,
            packets: [
                packet(0, 100, .serverToClient, "[]"), packet(1, 300, .clientToServer, "[]"),
                packet(2, 400, .clientToServer, "[]"),
            ])
        let bob = ScriptSession(
            index: 1, sid: "B", engineIOVersion: .v4, initialTransport: .websocket, path: "/socket.io/", query: [],
            handshake: "{}", openedAt: 50, packets: [packet(0, 200, .clientToServer, "[]")])
        let timeline = ReplayTimeline(sessions: [alice, bob], endTime: 500)
        var pacer = ReplayPacer(timeline: timeline, fast: true, timeoutNanos: 1_000)
        _ = pacer.next(now: 0)
        pacer.sessionOpened(0)
        _ = pacer.next(now: 0)
        pacer.sessionOpened(1)
        #expect(pacer.next(now: 0) == .wait(until: 1_000))
        #expect(pacer.next(now: 1_000) == .gaveUp(timeline.steps[2], sessionNotOpen: false))
        #expect(pacer.next(now: 1_000) == .run(timeline.steps[2]))
        #expect(pacer.next(now: 1_000) == .wait(until: 2_000))
        #expect(pacer.next(now: 2_000) == .gaveUp(timeline.steps[3], sessionNotOpen: false))
        #expect(pacer.next(now: 2_000) == .run(timeline.steps[3]))
        #expect(pacer.next(now: 2_000) == .run(timeline.steps[4]))
    }

    @Test func aStepOnScheduleIsTimedAgainstTheRecordedGap() {
        let session = ScriptSession(
            index: 0, sid: "S", engineIOVersion: .v4, initialTransport: .websocket, path: "/", query: [], handshake: "{}",
            openedAt: 0, packets: [packet(0, 1_000, .clientToServer, "[]"), packet(1, 3_000, .clientToServer, "[]")])
        let timeline = ReplayTimeline(sessions: [session], endTime: 3_000)
        var pacer = ReplayPacer(timeline: timeline, speed: 2, timeoutNanos: 1_000_000)
        _ = pacer.next(now: 0)
        pacer.sessionOpened(0)
        #expect(pacer.next(now: 10) == .wait(until: 500_000))
        #expect(pacer.next(now: 500_100) == .run(timeline.steps[1]))
        #expect(pacer.next(now: 500_200) == .wait(until: 1_500_100))
        #expect(pacer.next(now: 1_500_400) == .run(timeline.steps[2]))
        #expect(pacer.timingErrors == [100, 300])
    }
}

@Suite struct HTTPReplayTests {
    private func login(_ body: String, path: String = "/api/login", type: String = "application/json") -> RecordedHTTPExchange {
        var exchange = RecordedHTTPExchange(
            method: "POST", path: path, status: 200, time: 0, requestBody: ByteBuffer(string: body),
            responseBody: ByteBuffer(string: #"{"token": "[redacted]", "user": "alice"}"#),
            responseHeaders: [.init("Content-Type", "application/json; charset=utf-8")])
        exchange.requestHeaders = [
            .init("Host", "127.0.0.1:8080"), .init("Content-Type", type),
            .init("Authorization", "Bearer [redacted]"), .init("X-Trace", "t1"),
        ]
        return exchange
    }

    @Test func redactedMembersAreFilledByNameAndRequestTheRestKeptAsRecorded() throws {
        var credentials = HTTPCredentials()
        let parsed = [
            credentials.addSecret("password=fallback"), credentials.addSecret("1:pass_word=alice \"pw\""),
            credentials.addSecret("1:pin:=1234"), credentials.addHeader("Authorization: Bearer abc"),
            credentials.addSecret("no-equals-sign"), credentials.addSecret("x:=not json"),
        ]
        #expect(parsed == [true, true, true, true, false, false])
        let body = #"{"user": "alice", "password": "[redacted]", "nested": {"pin": "[redacted]"}}"#
        let sent = credentials.request(for: login(body), index: 1, host: "127.0.0.1", port: 5000, ids: IDMapping())
        #expect(sent.missing.isEmpty)
        #expect(String(buffer: try #require(sent.body)) == #"{"user": "alice", "password": "alice \"pw\"", "nested": {"pin": 1234}}"#)
        #expect(sent.head.headers["Host"] == ["127.0.0.1:5000"])
        #expect(sent.head.headers["Authorization"] == ["Bearer abc"])
        #expect(sent.head.headers["X-Trace"] == ["t1"])
        // Another request gets the unscoped value; nothing fills its pin.
        let other = credentials.request(for: login(body), index: 0, host: "h", port: 1, ids: IDMapping())
        #expect(String(buffer: try #require(other.body)).contains(#""password": "fallback""#))
        #expect(other.missing == ["pin"])
        #expect(credentials.missing(in: [login(body)]).map(\.names) == [["pin"]])
    }

    @Test func formsAndQueriesArePercentEncodedAndARedactedHeaderWithoutValueIsLeftOut() throws {
        var credentials = HTTPCredentials()
        credentials.addEnvironment(["SIOTAPE_SECRET_PASSWORD": "a b&c", "SIOTAPE_SECRET_API_KEY": "k1"])
        let exchange = login("user=alice&password=[redacted]", path: "/login?apiKey=[redacted]&x=1", type: "application/x-www-form-urlencoded")
        let sent = credentials.request(for: exchange, index: 0, host: "h", port: 1, ids: IDMapping())
        #expect(sent.head.uri == "/login?apiKey=k1&x=1")
        #expect(String(buffer: try #require(sent.body)) == "user=alice&password=a%20b%26c")
        #expect(sent.head.headers["Authorization"].isEmpty)
    }

    @Test func answersAreComparedByStatusThenJSONWithRedactedValuesMatchingAny() {
        let comparer = HTTPResponseComparer(comparer: PacketComparer(ignores: [try! JSONPath("$.issued")]))
        let recorded = login("{}")
        func compare(_ status: Int, _ body: String) -> String? {
            comparer.difference(recorded: recorded, status: status, contentEncoding: nil, body: ByteBuffer(string: body), ids: IDMapping())
        }
        #expect(compare(200, #"{"user":"alice","token":"eyJhbGciOi.x.y","issued":5}"#) == nil)
        #expect(compare(201, #"{"user":"alice","token":"t"}"#) == "status: recorded 200, received 201")
        #expect(compare(200, #"{"user":"bob","token":"t"}"#) == #"body $.user: recorded "alice", received "bob""#)
        #expect(compare(200, #"{"user":"alice","token":""}"#) != nil, "a mask stands for at least one character")
        var page = recorded
        page.responseHeaders = [.init("Content-Type", "text/html")]
        page.responseBody = ByteBuffer(string: "<p>hello</p>")
        #expect(comparer.difference(recorded: page, status: 200, contentEncoding: nil, body: ByteBuffer(string: "<p>hello</p>"), ids: IDMapping()) == nil)
        #expect(
            comparer.difference(recorded: page, status: 200, contentEncoding: nil, body: ByteBuffer(string: "<p>help</p>"), ids: IDMapping())
                == #"body differs at byte 6: recorded 12 bytes (…"lo</p>"), received 11 bytes (…"p</p>")"#)
    }

    @Test func aMaskFitsAnyNonEmptyRunAroundTheRecordedText() {
        #expect(PacketComparer.fits("Bearer abc", around: "Bearer [redacted]"))
        #expect(!PacketComparer.fits("Bearer ", around: "Bearer [redacted]"))
        #expect(PacketComparer.fits("a1-b2-c", around: "a[redacted]-b[redacted]-c"))
        #expect(!PacketComparer.fits("a1-c", around: "a[redacted]-b[redacted]-c"))
        #expect(!PacketComparer.fits("Basic abc", around: "Bearer [redacted]"))
    }
}
