import NIOCore
import SIORecording
import SIOWire
import Synchronization

/// One record of every kind, with the awkward cases: verbatim JSON with odd spacing, unicode and
/// escapes, binary data and attachments, optional fields absent.
func sampleRecords() -> [Record] {
    let sid = "Xy3k9QabAAAB"
    var t: Int64 = 0
    func next() -> Int64 {
        t += 1234
        return t
    }
    return [
        Record(time: next(), event: .connectionOpened(.init(connection: 1, peer: "127.0.0.1:52144"))),
        Record(
            time: next(),
            event: .sessionOpened(
                .init(
                    sid: sid,
                    engineIOVersion: .v4,
                    transport: .polling,
                    connection: 1,
                    path: "/socket.io/",
                    query: [.init("EIO", "4"), .init("transport", "polling"), .init("token", "[redacted]")],
                    headers: [.init("User-Agent", "Mozilla/5.0 \"quoted\"")],
                    handshake: #"{"sid":"Xy3k9QabAAAB","upgrades":["websocket"],"pingInterval":25000}"#
                )
            )
        ),
        Record(
            time: next(),
            event: .http(
                .init(
                    connection: 1,
                    method: "GET",
                    path: "/socket.io/?EIO=4&transport=polling",
                    status: 200,
                    requestBytes: 212,
                    responseBytes: 236,
                    durationMicros: 1730,
                    sid: sid
                )
            )
        ),
        Record(
            time: next(),
            event: .http(
                .init(
                    connection: 5,
                    method: "POST",
                    path: "/x",
                    status: nil,
                    requestBytes: 1,
                    responseBytes: 0,
                    durationMicros: 9,
                    errorBody: "{\"code\":1,\"message\":\"Session ID unknown\"}\n"
                )
            )
        ),
        Record(
            time: next(),
            event: .poll(
                .init(sid: sid, connection: 1, direction: .clientToServer, encoding: .v3Text, bytes: 24, packetCount: 2)
            )
        ),
        Record(
            time: next(),
            event: .engine(
                .init(sid: sid, connection: 1, direction: .serverToClient, transport: .polling, type: .noop)
            )
        ),
        Record(
            time: next(),
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
        ),
        Record(
            time: next(),
            event: .engine(
                .init(
                    sid: sid,
                    connection: 2,
                    direction: .serverToClient,
                    transport: .websocket,
                    type: .message,
                    data: .binary(ByteBuffer(bytes: [0, 1, 2, 0xFF, 0xFE]))
                )
            )
        ),
        Record(time: next(), event: .webSocketOpened(.init(sid: sid, connection: 2, extensions: "permessage-deflate"))),
        Record(time: next(), event: .webSocketOpened(.init(sid: nil, connection: 3, extensions: nil))),
        Record(time: next(), event: .upgraded(.init(sid: sid, connection: 2))),
        socket(
            next(),
            .init(type: .connect, namespace: "/chat", json: ByteBuffer(string: #"{"token":"[redacted]"}"#)),
            redacted: true
        ),
        socket(
            next(),
            .init(
                type: .event,
                namespace: "/chat",
                ackID: 12,
                json: ByteBuffer(string: #"[ "message" , {"text":"héllo \"you\"\n\u00e9 😀","n":-1.5e3} ,null ]"#),
                eventName: "message"
            )
        ),
        socket(
            next(),
            .init(type: .ack, namespace: "/chat", ackID: 12, json: ByteBuffer(string: "[\"ok\"]")),
            latency: 8034
        ),
        socket(
            next(),
            .init(
                type: .binaryEvent,
                attachmentCount: 2,
                json: ByteBuffer(string: #"["frame",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
                attachments: [ByteBuffer(bytes: [1, 2, 3, 4]), ByteBuffer(bytes: [])],
                eventName: "frame"
            )
        ),
        // Attachments that never arrived.
        socket(
            next(),
            .init(
                type: .binaryAck,
                ackID: 7,
                attachmentCount: 1,
                json: ByteBuffer(string: "[{\"_placeholder\":true,\"num\":0}]")
            )
        ),
        socket(next(), .init(type: .disconnect, namespace: "/admin", rawHeader: "1/admin")),
        // Payloads that cannot be embedded verbatim: a line break, invalid JSON, not UTF-8.
        socket(next(), .init(type: .event, json: ByteBuffer(string: "[\"a\",\n1]"), eventName: "a")),
        socket(next(), .init(type: .connectError, json: ByteBuffer(string: "not json"))),
        socket(next(), .init(type: .event, json: ByteBuffer(bytes: [0x5B, 0x22, 0xFF, 0x22, 0x5D]))),
        Record(
            time: next(),
            event: .undecodable(
                .init(
                    sid: sid,
                    connection: 2,
                    direction: .clientToServer,
                    transport: .websocket,
                    layer: .socketIO,
                    data: .text("42[\"oops\"\u{1}"),
                    reason: "unterminated JSON",
                    offset: 9
                )
            )
        ),
        Record(
            time: next(),
            event: .undecodable(
                .init(
                    sid: nil,
                    connection: 4,
                    direction: .serverToClient,
                    transport: nil,
                    layer: .payload,
                    data: .binary(ByteBuffer(bytes: Array(0...255))),
                    reason: "bad length",
                    offset: 0
                )
            )
        ),
        Record(
            time: next(),
            event: .webSocketClosed(
                .init(sid: sid, connection: 2, direction: .serverToClient, code: 1009, reason: "too big")
            )
        ),
        Record(
            time: next(),
            event: .webSocketClosed(.init(sid: nil, connection: 3, direction: .clientToServer, code: nil, reason: ""))
        ),
        Record(time: next(), event: .sessionClosed(.init(sid: sid, cause: "client close packet"))),
        Record(time: next(), event: .connectionClosed(.init(connection: 1, cause: "client"))),
        Record(time: next(), event: .note(.init(level: "warning", message: "cap hit: \t tab", connection: 3))),
        Record(time: next(), event: .note(.init(level: "info", message: "plain"))),
    ]
}

private func socket(_ time: Int64, _ packet: SocketIOPacket, latency: Int64? = nil, redacted: Bool = false) -> Record {
    Record(
        time: time,
        event: .socket(
            .init(
                sid: "Xy3k9QabAAAB",
                connection: 2,
                direction: .clientToServer,
                transport: .websocket,
                packet: packet,
                ackLatencyMicros: latency,
                redacted: redacted
            )
        )
    )
}

let sampleHeader = RecordingHeader(
    startedAtMicros: 1_740_824_130_123_456,
    tool: "siotape 0.1.0",
    upstream: "http://127.0.0.1:5000",
    listen: "127.0.0.1:8080"
)
