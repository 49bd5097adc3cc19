import Foundation
import NIOCore
import SIOInspect
import SIORecording
import SIOWire
import Testing

/// A session of the msgpack parser, as the capture records it: inspect shows, filters, counts and
/// exports it as it does the default parser's.
@Suite struct InspectMsgPackTests {
    static let sid = "MMMMmsgpack00001"

    /// `{type, data, nsp, id?}` as python-socketio writes it (`extra`: a key socket.io-client adds).
    static func message(_ type: UInt8, _ data: String?, nsp: String = "/", id: UInt64? = nil, extra: Bool = false)
        -> ByteBuffer
    {
        var packet = SocketIOPacket(type: SocketIOPacketType(rawValue: type)!, namespace: nsp, ackID: id)
        packet.json = data.map { ByteBuffer(string: $0) }
        var bytes = try! packet.encodeMsgPack()
        if extra {
            // One more pair: `"options": {"compress": true}`, the map header counting it.
            let header = bytes.readInteger(as: UInt8.self)!
            var out = ByteBuffer(integer: header + 1)
            MsgPackWriter.writeString("options", into: &out)
            out.writeBytes([0x81, 0xA8] + Array("compress".utf8) + [0xC3])
            out.writeBuffer(&bytes)
            return out
        }
        return bytes
    }

    static let messages: [(Int64, Direction, ByteBuffer, Int64?)] = [
        (1_000, .serverToClient, message(0, #"{"sid":"abc"}"#), nil),
        (2_000, .clientToServer, message(2, #"["chat",{"$bin":"AAEC/w=="},{"a":{"b":[1,2.5]}}]"#, id: 1), nil),
        (2_600, .serverToClient, message(3, #"["ok"]"#, id: 1), 600),
        (3_000, .clientToServer, message(2, #"["typing"]"#, extra: true), nil),
    ]

    func recording(_ scratch: ScratchDirectory) throws -> String {
        let path = scratch.file("m.siotape.gz")
        var records: [Record] = [
            Record(
                time: 500,
                event: .sessionOpened(
                    .init(
                        sid: Self.sid, engineIOVersion: .v4, transport: .websocket, connection: 1,
                        path: "/socket.io/", query: [.init("EIO", "4")], headers: [], handshake: #"{"sid":"x"}"#)))
        ]
        for (time, direction, message, latency) in Self.messages {
            records.append(
                Record(
                    time: time,
                    event: .socket(
                        .init(
                            sid: Self.sid, connection: 1, direction: direction, transport: .websocket,
                            packet: try SocketIOPacket.decodeMsgPack(message), ackLatencyMicros: latency))))
        }
        records.append(Record(time: 4_000, event: .sessionClosed(.init(sid: Self.sid, cause: "client close packet"))))
        try writeRecording(path, records)
        return path
    }

    @Test func textViewSaysMsgPack() throws {
        let scratch = ScratchDirectory()
        let (output, _) = try inspect([try self.recording(scratch)])
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix(#"/ EVENT chat #1 (msgpack) [{"$bin":"AAEC/w=="},{"a":{"b":[1,2.5]}}]"#) }, "\(output)")
        #expect(lines.contains { $0.hasSuffix(#"/ ACK #1 600µs (msgpack) ["ok"]"#) }, "\(output)")
    }

    @Test func jsonlKeepsTheWireAndFiltersWork() throws {
        let scratch = ScratchDirectory()
        let path = try self.recording(scratch)
        let (output, _) = try inspect([path]) {
            $0.format = .jsonl
            $0.filter.events = ["chat"]
        }
        let objects = try jsonObjects(output)
        // The event and the ack answering it.
        #expect(objects.map { $0["type"] as? String } == ["EVENT", "ACK"])
        #expect(objects.allSatisfy { $0["parser"] as? String == "msgpack" && $0["wire"] == nil })
        #expect(objects.last?["ack_event"] as? String == "chat")

        let (all, _) = try inspect([path]) { $0.format = .jsonl }
        let typing = try #require(try jsonObjects(all).first { $0["event"] as? String == "typing" })
        let wire = try #require(typing["wire"] as? String)
        #expect(Data(base64Encoded: wire) == Data(Self.messages[3].2.readableBytesView))
    }

    @Test func statsCountTheMsgPackPackets() throws {
        let scratch = ScratchDirectory()
        let summary = try statistics([try self.recording(scratch)])
        #expect(summary.socketIO.values.reduce(0) { $0 + $1.packets } == 4)
        #expect(summary.socketTypes == ["CONNECT": 1, "EVENT": 2, "ACK": 1])
        #expect(summary.events["chat"]?.acks.count == 1)
        #expect(summary.events["typing"]?.emitted[.clientToServer] == 1)
    }

    /// HAR: each packet one binary message holding exactly the msgpack that travelled.
    @Test func harCarriesTheMsgPackFrames() throws {
        let scratch = ScratchDirectory()
        let (output, _) = try inspect([try self.recording(scratch)]) { $0.format = .har }
        let root = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let entries = try #require((root["log"] as? [String: Any])?["entries"] as? [[String: Any]])
        let messages = try #require(entries.first?["_webSocketMessages"] as? [[String: Any]])
        #expect(messages.map { $0["opcode"] as? Int } == [2, 2, 2, 2])
        #expect(messages.map { Data(base64Encoded: $0["data"] as! String) } == Self.messages.map { Data($0.2.readableBytesView) })
    }

    /// Read back, a record is the packet that was written: its bytes rebuild from the fields.
    @Test func recordingRoundTrip() throws {
        let scratch = ScratchDirectory()
        let reader = try RecordingReader(path: try self.recording(scratch))
        var rebuilt: [ByteBuffer] = []
        while let record = try reader.next() {
            if case .socket(let socket) = record.event {
                #expect(socket.packet.parser == .msgpack)
                rebuilt.append(try socket.packet.encodeMsgPack())
            }
        }
        #expect(rebuilt == Self.messages.map(\.2))
    }
}
