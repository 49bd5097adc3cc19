import Foundation
import NIOCore
import SIOInspect
import SIORecording
import SIOWire

/// The sample recordings of the apps in tools/apps (recorded through `siotape record`).
func sampleRecording(_ name: String) -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent("recordings/\(name).siotape.gz").path
}

/// A fresh directory for one test, removed at the end.
final class ScratchDirectory {
    let path: String

    init() {
        self.path = NSTemporaryDirectory() + "siotape-inspect-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { self.path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: self.path) }
}

/// Runs an inspector and returns its output as text.
func inspect(_ paths: [String], _ configure: (inout Inspector.Options) throws -> Void = { _ in }) throws -> (
    output: String, outcome: Inspector.Outcome
) {
    var options = Inspector.Options()
    try configure(&options)
    let inspector = try Inspector(paths: paths, options: options)
    var collected = ByteBuffer()
    let outcome = try inspector.run(write: { chunk in
        var chunk = chunk
        collected.writeBuffer(&chunk)
    })
    return (String(buffer: collected), outcome)
}

/// The summary `--stats` computes.
func statistics(_ paths: [String], _ configure: (inout Inspector.Options) -> Void = { _ in }) throws
    -> StatisticsSummary
{
    var options = Inspector.Options()
    options.stats = true
    options.format = .jsonl
    configure(&options)
    let inspector = try Inspector(paths: paths, options: options)
    _ = try inspector.run(write: { _ in })
    return inspector.summary()
}

/// The lines of jsonl output, parsed (Foundation is fine in a test).
func jsonObjects(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
}

let testStart: Int64 = 1_795_000_000_000_000
let testHeader = RecordingHeader(
    startedAtMicros: testStart, tool: "siotape test", upstream: "http://127.0.0.1:5000", listen: "127.0.0.1:8080"
)

/// Writes `records` as a recording, one gzip member per `perMember` records; `close: false`
/// leaves it without the end trailer, as after `kill -9`.
func writeRecording(
    _ path: String, _ records: [Record], header: RecordingHeader = testHeader, perMember: Int = 3, close: Bool = true
) throws {
    let writer = try RecordingWriter(path: path, header: header, configuration: .init(backgroundFlushing: false))
    for (i, record) in records.enumerated() {
        writer.append(record)
        if (i + 1) % perMember == 0 { writer.flush() }
    }
    writer.flush()
    if close { try writer.close() }
}

/// A small conversation with known contents: one WebSocket session `sessionA` with an acked
/// `chat` on `/`, a `news` broadcast on `/feed`, a ping/pong, a CONNECT_ERROR on `/admin`; a
/// polling session `sessionB` that upgrades and sends `chat` too; both close.
let sessionA = "AAAAsessionA0001"
let sessionB = "BBBBsessionB0002"

func conversation(offset: Int64 = 0) -> [Record] {
    func sio(
        _ t: Int64, _ sid: String, _ dir: Direction, _ type: SocketIOPacketType, nsp: String = "/",
        id: UInt64? = nil, event: String? = nil, json: String?, latency: Int64? = nil,
        tr: EngineIOTransport = .websocket
    ) -> Record {
        Record(
            time: t + offset,
            event: .socket(
                .init(
                    sid: sid, connection: sid == sessionA ? 1 : 2, direction: dir, transport: tr,
                    packet: SocketIOPacket(
                        type: type, namespace: nsp, ackID: id, json: json.map { ByteBuffer(string: $0) },
                        eventName: event
                    ),
                    ackLatencyMicros: latency
                )
            )
        )
    }
    func eio(_ t: Int64, _ sid: String, _ dir: Direction, _ type: EngineIOPacketType) -> Record {
        Record(
            time: t + offset,
            event: .engine(.init(sid: sid, connection: 1, direction: dir, transport: .websocket, type: type))
        )
    }
    func open(_ t: Int64, _ sid: String, _ tr: EngineIOTransport) -> Record {
        Record(
            time: t + offset,
            event: .sessionOpened(
                .init(
                    sid: sid, engineIOVersion: .v4, transport: tr, connection: sid == sessionA ? 1 : 2,
                    path: "/socket.io/", query: [.init("EIO", "4"), .init("transport", tr.rawValue)],
                    headers: [.init("User-Agent", "test")], handshake: "{\"sid\":\"\(sid)\"}"
                )
            )
        )
    }
    return [
        Record(time: 100 + offset, event: .connectionOpened(.init(connection: 1, peer: "127.0.0.1:40000"))),
        open(1_000, sessionA, .websocket),
        sio(2_000, sessionA, .clientToServer, .connect, json: nil),
        sio(3_000, sessionA, .serverToClient, .connect, json: "{\"sid\":\"x\"}"),
        open(4_000, sessionB, .polling),
        sio(10_000, sessionA, .clientToServer, .event, id: 1, event: "chat", json: "[\"chat\",\"hello \u{20ac}\"]"),
        sio(12_000, sessionA, .serverToClient, .ack, id: 1, json: "[\"ok\"]", latency: 2_000),
        sio(20_000, sessionA, .serverToClient, .event, nsp: "/feed", event: "news", json: "[\"news\",{\"n\":1}]"),
        eio(25_000, sessionA, .serverToClient, .ping),
        eio(25_500, sessionA, .clientToServer, .pong),
        Record(time: 30_000 + offset, event: .upgraded(.init(sid: sessionB, connection: 3))),
        sio(31_000, sessionB, .clientToServer, .event, id: 7, event: "chat", json: "[\"chat\",\"from b\"]"),
        sio(36_000, sessionB, .serverToClient, .ack, id: 7, json: "[\"ok\"]", latency: 5_000),
        sio(40_000, sessionA, .serverToClient, .connectError, nsp: "/admin", json: "{\"message\":\"admin token required\"}"),
        sio(50_000, sessionB, .clientToServer, .event, event: "typing", json: "[\"typing\"]", tr: .websocket),
        Record(time: 60_000 + offset, event: .sessionClosed(.init(sid: sessionA, cause: "client close packet"))),
        Record(time: 70_000 + offset, event: .sessionClosed(.init(sid: sessionB, cause: "websocket closed by client"))),
    ]
}
