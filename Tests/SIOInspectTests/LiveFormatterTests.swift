import NIOCore
import SIOInspect
import SIORecording
import SIOWire
import Testing

@Suite struct LiveFormatterTests {
    let sid = "Xy3k9QabAAAB"

    func sio(
        _ time: Int64,
        _ dir: Direction,
        _ packet: SocketIOPacket,
        tr: EngineIOTransport = .websocket,
        latency: Int64? = nil
    ) -> Record {
        Record(
            time: time,
            event: .socket(
                .init(
                    sid: self.sid,
                    connection: 2,
                    direction: dir,
                    transport: tr,
                    packet: packet,
                    ackLatencyMicros: latency
                )
            )
        )
    }

    @Test func eventAndAck() {
        let formatter = LiveFormatter()
        let event = self.sio(
            12_345_678,
            .clientToServer,
            .init(
                type: .event,
                namespace: "/chat",
                ackID: 3,
                json: ByteBuffer(string: #"["message","hi",{"n":1}]"#),
                eventName: "message"
            )
        )
        #expect(formatter.format(event) == #" 12.345 Xy3k9Qab → ws   /chat EVENT message #3 ["hi",{"n":1}]"#)
        let ack = self.sio(
            12_353_712,
            .serverToClient,
            .init(type: .ack, namespace: "/chat", ackID: 3, json: ByteBuffer(string: #"["ok"]"#)),
            latency: 8034
        )
        #expect(formatter.format(ack) == #" 12.353 Xy3k9Qab ← ws   /chat ACK #3 8.0ms ["ok"]"#)
        let noArgs = self.sio(
            5000,
            .clientToServer,
            .init(type: .event, json: ByteBuffer(string: #"["ping"]"#), eventName: "ping"),
            tr: .polling
        )
        #expect(formatter.format(noArgs) == #"  0.005 Xy3k9Qab → poll / EVENT ping []"#)
    }

    @Test func argumentsAreClippedAndEscaped() {
        let formatter = LiveFormatter(argumentWidth: 12)
        let event = self.sio(
            0,
            .serverToClient,
            .init(type: .event, json: ByteBuffer(string: "[\"m\",\"a\\nb\tc\u{1B}[31m€€€€€€€€€€\"]"), eventName: "m")
        )
        #expect(formatter.format(event) == "  0.000 Xy3k9Qab ← ws   / EVENT m [\"a\\nb\\tc\\x1b[3…")
        let binary = self.sio(
            0,
            .serverToClient,
            .init(
                type: .binaryEvent,
                attachmentCount: 1,
                json: ByteBuffer(string: #"["f",{"_placeholder":true,"num":0}]"#),
                attachments: [ByteBuffer(bytes: [1, 2])],
                eventName: "f"
            )
        )
        #expect(formatter.format(binary) == #"  0.000 Xy3k9Qab ← ws   / BINARY_EVENT f [{"_placeho…"# + " +1 bin")
    }

    @Test func engineIOAndOtherKinds() {
        let formatter = LiveFormatter()
        let ping = Record(
            time: 25_000_000,
            event: .engine(
                .init(sid: sid, connection: 2, direction: .serverToClient, transport: .websocket, type: .ping)
            )
        )
        #expect(formatter.format(ping) == " 25.000 Xy3k9Qab ← ws   eio ping")
        let probe = Record(
            time: 1,
            event: .engine(
                .init(
                    sid: nil,
                    connection: 2,
                    direction: .clientToServer,
                    transport: .websocket,
                    type: .ping,
                    data: .text("probe")
                )
            )
        )
        #expect(formatter.format(probe) == "  0.000 -        → ws   eio ping probe")
        let raw = Record(
            time: 2_000,
            event: .undecodable(
                .init(
                    sid: sid,
                    connection: 2,
                    direction: .clientToServer,
                    transport: .websocket,
                    layer: .socketIO,
                    data: .text("42[\"oops\""),
                    reason: "unterminated JSON",
                    offset: 9
                )
            )
        )
        #expect(formatter.format(raw) == #"  0.002 Xy3k9Qab → ws   RAW sio unterminated JSON @9 42["oops""#)
        let http = Record(
            time: 1_500_000,
            event: .http(
                .init(
                    connection: 1,
                    method: "GET",
                    path: "/socket.io/?EIO=4&sid=x",
                    status: 400,
                    requestBytes: 1,
                    responseBytes: 2,
                    durationMicros: 1_234_567,
                    sid: "x"
                )
            )
        )
        #expect(formatter.format(http) == "  1.500 x        ·      http GET /socket.io/?EIO=4&sid=x 400 1.234s")
        let close = Record(time: 1_000_000_000, event: .sessionClosed(.init(sid: sid, cause: "client close packet")))
        #expect(formatter.format(close) == "1000.000 Xy3k9Qab ·      CLOSE client close packet")
    }

    @Test func colours() {
        let formatter = LiveFormatter(colors: true)
        let ping = Record(
            time: 0,
            event: .engine(
                .init(sid: "s", connection: 2, direction: .serverToClient, transport: .websocket, type: .pong)
            )
        )
        #expect(
            formatter.format(ping) == "\u{1B}[2m  0.000 s        \u{1B}[35m←\u{1B}[0m\u{1B}[2m ws   eio pong\u{1B}[0m"
        )
        let error = self.sio(
            0,
            .serverToClient,
            .init(type: .connectError, json: ByteBuffer(string: #"{"message":"no"}"#))
        )
        #expect(
            formatter.format(error)
                == "  0.000 Xy3k9Qab \u{1B}[35m←\u{1B}[0m ws   / \u{1B}[31mCONNECT_ERROR\u{1B}[0m {\"message\":\"no\"}"
        )
    }

    /// `siotape inspect` into a pipe formats without a width limit; a note once overflowed doubling it.
    @Test func aNoteWithoutAWidthLimitIsShownWhole() {
        var buffer = ByteBuffer()
        let message = String(repeating: "attachments ", count: 50)
        LiveFormatter(argumentWidth: .max).format(
            Record(time: 0, event: .note(.init(level: "warning", message: message))), into: &buffer)
        #expect(String(buffer: buffer) == "  0.000 -        ·      warning: \(message)\n")
    }

    @Test func appendsToAnExistingBuffer() {
        var buffer = ByteBuffer(string: "before\n")
        let formatter = LiveFormatter()
        formatter.format(Record(time: 0, event: .note(.init(level: "info", message: "hi"))), into: &buffer)
        #expect(String(buffer: buffer) == "before\n  0.000 -        ·      info: hi\n")
    }
}
