import Foundation
import Logging
import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

/// Writes every record to a recording and nothing else, so the hub hands it lines
/// (`RecordSink.lineWriter`) and takes the fast path for common packets.
final class LinesSink: RecordSink {
    let writer: RecordingWriter
    let path: String

    init() throws {
        self.path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "siotape-fastpath-\(UUID().uuidString).siotape.gz"
        ).path
        self.writer = try RecordingWriter(
            path: self.path, header: RecordingHeader(startedAtMicros: 0, tool: "test"),
            configuration: .init(backgroundFlushing: false), clock: StepClock())
    }

    var lineWriter: RecordingWriter? { self.writer }

    func receive(_ record: Record) { self.writer.append(record) }

    /// Closes the recording and returns its record lines (header and trailer left out).
    func lines() throws -> [String] {
        try self.writer.close()
        defer { try? FileManager.default.removeItem(atPath: self.path) }
        let reader = try RecordingReader(path: self.path)
        var lines: [String] = []
        while let line = try reader.nextRecordLine() { lines.append(String(buffer: line)) }
        return lines
    }
}

/// The capture's fast path (the `sio` line of a common packet written without a `Record`) writes
/// exactly the line the slow path writes, and leaves every packet that needs redaction, masking or
/// the session's assembler to the slow path.
@Suite struct FastPathTests {
    /// What the slow path writes for `records`: one line each, as the writer would.
    static func encoded(_ records: [Record]) -> [String] {
        let encoder = RecordEncoder()
        return records.map { record in
            var buffer = ByteBuffer()
            encoder.encode(record, into: &buffer)
            return String(String(buffer: buffer).dropLast())
        }
    }

    static func context(_ direction: Direction, time: Int64, sid: String? = "S1") -> PacketContext {
        PacketContext(sid: sid, connection: 7, direction: direction, transport: .websocket, version: .v4, time: time)
    }

    static func openedRegistry(_ configuration: CaptureConfiguration = CaptureConfiguration()) -> SessionRegistry {
        var registry = SessionRegistry(configuration: configuration)
        var records: [Record] = []
        let opened = registry.engine(
            EngineIOPacket(type: .open, data: ByteBuffer(string: #"{"sid":"S1","upgrades":[],"pingInterval":25000}"#)),
            context: Self.context(.serverToClient, time: 0, sid: nil), into: &records)
        #expect(opened == "S1")
        return registry
    }

    /// Socket.IO texts (after the Engine.IO `4`) with who sent them: events with and without acks,
    /// their acks, other namespaces, names that need escaping, non-ASCII, payloads that are not
    /// compact (whitespace: written as `data_text`), headers that are not canonical.
    static let packets: [(Direction, String)] = [
        (.serverToClient, #"0{"sid":"nsp1"}"#),
        (.clientToServer, #"21["echo","hello"]"#),
        (.serverToClient, #"31["hello"]"#),
        (.clientToServer, #"2/chat,12["say",{"text":"héllo \"you\"","n":[1,2.5e3,null,true]}]"#),
        (.serverToClient, #"3/chat,12[]"#),
        (.clientToServer, #"2["na\"me\\\u00e9\n",1]"#),
        (.serverToClient, #"2[ "spaced" , 1 ]"#),
        (.clientToServer, #"2/chat,["no ack"]"#),
        (.clientToServer, #"2007["leading zeros"]"#),
        (.serverToClient, #"3007[1]"#),
        (.clientToServer, #"2[42,"numeric name"]"#),
        (.serverToClient, #"399[1]"#),
        (.clientToServer, "1/chat,"),
        (.serverToClient, #"4{"message":"nope"}"#),
    ]

    @Test func fastPathWritesTheSlowPathsLineForEveryCommonPacket() throws {
        var slow = Self.openedRegistry()
        var fast = Self.openedRegistry()
        var slowRecords: [Record] = []
        var batch = LineBatch(lines: ByteBuffer())
        var slot: SessionRegistry.SessionSlot?
        var fastCount = 0
        for (index, (direction, text)) in Self.packets.enumerated() {
            let packet = try SocketIOPacket.decode(ByteBuffer(string: text), version: .v5)
            let context = Self.context(direction, time: Int64(1_000 + 37 * index))
            slow.engine(.socket(packet), context: context, into: &slowRecords)
            if fast.socketLine(packet, context: context, slot: &slot, into: &batch) {
                fastCount += 1
            } else {
                var records: [Record] = []
                fast.engine(.socket(packet), context: context, into: &records)
                batch.append(encoding: &records)
            }
        }
        // Every one of them is common: none needed the slow path.
        #expect(fastCount == Self.packets.count)
        #expect(batch.count == slowRecords.count)
        let fastLines = String(buffer: batch.lines).split(separator: "\n").map(String.init)
        #expect(fastLines == Self.encoded(slowRecords))
        // The same bookkeeping: acks paired (with their latency, in the lines), counters.
        #expect(fast.statistics == slow.statistics)
        #expect(fast.statistics.acksPaired == 3)
        #expect(fast.sessions["S1"]?.pendingAckCount == slow.sessions["S1"]?.pendingAckCount)
        // The slot remembered for S1 is not used once the table changed: S1 closed, S2 opened.
        #expect(slot?.sid == "S1")
        var records: [Record] = []
        fast.close(sid: "S1", cause: "test", time: 2_000, into: &records)
        fast.engine(
            EngineIOPacket(type: .open, data: ByteBuffer(string: #"{"sid":"S2","upgrades":[]}"#)),
            context: Self.context(.serverToClient, time: 2_001, sid: nil), into: &records)
        let event = try SocketIOPacket.decode(ByteBuffer(string: #"2["late"]"#), version: .v5)
        #expect(!fast.socketLine(event, context: Self.context(.clientToServer, time: 2_002), slot: &slot, into: &batch))
        #expect(fast.socketLine(event, context: Self.context(.clientToServer, time: 2_003, sid: "S2"), slot: &slot, into: &batch))
        #expect(slot?.sid == "S2")
    }

    @Test func packetsThatNeedRedactionMaskingOrTheAssemblerTakeTheSlowPath() throws {
        var registry = Self.openedRegistry()
        var batch = LineBatch(lines: ByteBuffer())
        var slot: SessionRegistry.SessionSlot?
        func decode(_ text: String) throws -> SocketIOPacket {
            try SocketIOPacket.decode(ByteBuffer(string: text), version: .v5)
        }
        // A client's CONNECT carries credentials to redact.
        let connect = try decode(#"0{"token":"s3cr3t-t0ken-value"}"#)
        #expect(!registry.socketLine(connect, context: Self.context(.clientToServer, time: 1), slot: &slot, into: &batch))
        // A binary event waits for its attachments.
        let binary = try decode(#"51-["upload",{"_placeholder":true,"num":0}]"#)
        #expect(!registry.socketLine(binary, context: Self.context(.clientToServer, time: 2), slot: &slot, into: &batch))
        // No session (before the handshake) or a session not in the table.
        let event = try decode(#"2["echo","hi"]"#)
        #expect(!registry.socketLine(event, context: Self.context(.clientToServer, time: 3, sid: nil), slot: &slot, into: &batch))
        #expect(!registry.socketLine(event, context: Self.context(.clientToServer, time: 3, sid: "other"), slot: &slot, into: &batch))
        // Once the slow path has learned the CONNECT's token, every packet goes the slow way (masking).
        var records: [Record] = []
        registry.engine(.socket(connect), context: Self.context(.clientToServer, time: 4), into: &records)
        #expect(!registry.knownSecrets.isEmpty)
        #expect(!registry.socketLine(event, context: Self.context(.clientToServer, time: 5), slot: &slot, into: &batch))
        #expect(batch.count == 0 && batch.lines.readableBytes == 0)
        // A session that is not redacting takes the CONNECT's line on the fast path.
        var configuration = CaptureConfiguration()
        configuration.redactCredentials = false
        var keeping = Self.openedRegistry(configuration)
        var keepingSlot: SessionRegistry.SessionSlot?
        #expect(keeping.socketLine(connect, context: Self.context(.clientToServer, time: 6), slot: &keepingSlot, into: &batch))
    }

    /// A WebSocket session through a tap: one read with a client's CONNECT (token), then reads of
    /// events that echo the token. With the recording alone as the sink the same lines are written
    /// as through `Record`s, and the token is masked everywhere, in the CONNECT's read too.
    @Test func tapWritesTheSameLinesAndMasksLearnedSecrets() throws {
        func run(_ sink: any RecordSink) {
            let clock = StepClock()
            let hub = CaptureHub(configuration: CaptureConfiguration(), sink: sink, logger: Logger(label: "t"), clock: clock)
            let tap = hub.makeTap(connection: 1, peer: "p")
            tap.requestHead(
                HTTPHead(
                    method: .GET, uri: "/socket.io/?EIO=4&transport=websocket",
                    headers: [("Upgrade", "websocket"), ("Connection", "Upgrade")]))
            tap.requestEnd()
            tap.webSocketAccepted(HTTPHead(status: 101, headers: [("Upgrade", "websocket")]))
            tap.responseEnd()
            func frames(_ texts: [String], masked: Bool) -> ByteBuffer {
                var bytes = ByteBuffer()
                for text in texts { Self.writeFrame(text, masked: masked, into: &bytes) }
                return bytes
            }
            clock.advance(by: .microseconds(10))
            tap.webSocketBytes(frames([#"0{"sid":"S1","upgrades":[]}"#], masked: false), direction: .serverToClient)
            clock.advance(by: .microseconds(10))
            tap.webSocketBytes(
                frames([#"42["before","tok-123456789"]"#, #"40{"token":"tok-123456789"}"#, #"421["after","tok-123456789"]"#], masked: true),
                direction: .clientToServer)
            clock.advance(by: .microseconds(10))
            tap.webSocketBytes(frames([#"40{"sid":"x"}"#, #"431["tok-123456789"]"#], masked: false), direction: .serverToClient)
            for round in 0..<3 {
                clock.advance(by: .microseconds(10))
                tap.webSocketBytes(
                    frames([#"42\#(round)["echo","tok-123456789"]"#, #"42["plain"]"#], masked: true), direction: .clientToServer)
                tap.webSocketBytes(frames([#"43\#(round)["ok"]"#], masked: false), direction: .serverToClient)
            }
            tap.connectionClosed(cause: "client")
        }
        let collecting = CollectingSink()
        run(collecting)
        let lines = try LinesSink()
        run(lines)
        let written = try lines.lines()
        #expect(written == Self.encoded(collecting.records))
        #expect(written.count == collecting.records.count && written.count > 10)
        #expect(!written.joined().contains("tok-123456789"))
        #expect(written.filter { $0.contains(#""k":"sio""#) }.count == 14)
    }

    /// Every capture of a real peer, replayed once through `Record`s and once through a sink that
    /// takes lines: the recordings' lines are the same.
    @Test(arguments: AllCapturesTests.scenarios)
    func everyCaptureWritesTheSameLines(_ scenario: String) throws {
        let slow = Harness()
        try CaptureReplayer.replay(scenario, into: slow)
        let sink = try LinesSink()
        let fast = Harness(sink: sink)
        try CaptureReplayer.replay(scenario, into: fast)
        let lines = try sink.lines()
        #expect(lines == Self.encoded(slow.records))
    }

    static func writeFrame(_ text: String, masked: Bool, into buffer: inout ByteBuffer) {
        let payload = Array(text.utf8)
        buffer.writeInteger(UInt8(0x81))
        let bit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            buffer.writeInteger(bit | UInt8(payload.count))
        } else {
            buffer.writeInteger(bit | 126)
            buffer.writeInteger(UInt16(payload.count))
        }
        guard masked else {
            buffer.writeBytes(payload)
            return
        }
        let key: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        buffer.writeBytes(key)
        buffer.writeBytes(payload.enumerated().map { $0.element ^ key[$0.offset & 3] })
    }
}
