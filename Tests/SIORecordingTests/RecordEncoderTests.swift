import NIOCore
import SIORecording
import SIOWire
import Testing

@Suite struct RecordEncoderTests {
    let encoder = RecordEncoder()

    func line(_ record: Record) -> String {
        var buffer = ByteBuffer()
        self.encoder.encode(record, into: &buffer)
        return String(buffer: buffer)
    }

    @Test func everyKindRoundTrips() throws {
        var decoder = RecordDecoder()
        for record in sampleRecords() {
            var buffer = ByteBuffer()
            self.encoder.encode(record, into: &buffer)
            #expect(buffer.readableBytesView.last == 0x0A)
            #expect(buffer.readableBytesView.dropLast().contains(0x0A) == false, "one line: \(String(buffer: buffer))")
            buffer.moveWriterIndex(to: buffer.writerIndex - 1)
            let decoded = try decoder.decode(buffer)
            #expect(decoded == .record(record), "\(String(buffer: buffer))")
        }
    }

    /// `poll` and `http` lines are written with their keys and names as literal runs
    /// (`encodePoll`, `encodeHTTP`): every direction and payload encoding, and an exchange with
    /// everything optional, decode back to the record.
    @Test func pollAndHTTPLinesRoundTripInEveryForm() throws {
        var records: [Record] = []
        for direction in [Direction.clientToServer, .serverToClient] {
            for encoding in [EngineIOPayloadEncoding.v4Text, .v3Text, .v3Binary] {
                records.append(
                    Record(
                        time: 7, event: .poll(
                            .init(sid: "s\"1", connection: 3, direction: direction, encoding: encoding, bytes: 12, packetCount: 0))))
            }
        }
        records.append(
            Record(
                time: 9, event: .http(
                    .init(
                        connection: 2, method: "GET", path: "/a?b=\u{e9}", status: 404, requestBytes: 0, responseBytes: 5,
                        durationMicros: 11, sid: "S", errorBody: "nope",
                        requestHeaders: [.init("Accept", "*/*")], responseHeaders: [.init("Content-Length", "5")]))))
        var decoder = RecordDecoder()
        for record in records {
            var buffer = ByteBuffer()
            self.encoder.encode(record, into: &buffer)
            #expect(buffer.readableBytesView.last == 0x0A)
            buffer.moveWriterIndex(to: buffer.writerIndex - 1)
            #expect(try decoder.decode(buffer) == .record(record), "\(String(buffer: buffer))")
        }
    }

    /// Numbers are written by hand (two digits per division): every digit count and both ends of
    /// the ranges, as Swift prints them.
    @Test func numbersAreWrittenInDecimalAtEveryLength() {
        var values: [UInt64] = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1_000, 12_345, UInt64.max, UInt64.max - 1]
        var power: UInt64 = 1
        for _ in 0..<19 {
            power *= 10
            values += [power - 1, power, power + 1]
        }
        for value in values {
            #expect(self.line(Record(time: 0, event: .connectionOpened(.init(connection: value, peer: "p"))))
                == "{\"t\":0,\"k\":\"conn\",\"conn\":\(value),\"peer\":\"p\"}\n")
        }
        for time: Int64 in [0, 7, -7, 10, -10, 1_234_567, Int64.max, Int64.min, Int64.min + 1] {
            var buffer = ByteBuffer()
            self.encoder.encodeEnd(time: time, records: 42, into: &buffer)
            #expect(String(buffer: buffer) == "{\"t\":\(time),\"k\":\"end\",\"records\":42}\n")
        }
    }

    @Test func socketIOLineIsExactAndDataVerbatim() {
        let record = Record(
            time: 90210,
            event: .socket(
                .init(
                    sid: "Xy3k",
                    connection: 2,
                    direction: .clientToServer,
                    transport: .websocket,
                    packet: .init(
                        type: .event,
                        namespace: "/chat",
                        ackID: 3,
                        json: ByteBuffer(string: #"["message", {"text":"héllo \"you\""}]"#),
                        eventName: "message"
                    )
                )
            )
        )
        #expect(
            self.line(record)
                == #"{"t":90210,"k":"sio","sid":"Xy3k","conn":2,"dir":"c2s","tr":"websocket","type":"EVENT","nsp":"/chat","id":3,"event":"message","data":["message", {"text":"héllo \"you\""}]}"#
                + "\n"
        )
    }

    /// A decoded packet's line is written in one go, without a second scan of its payload; it must
    /// be the same line as for a packet built by hand, which takes the general path.
    @Test(arguments: [
        #"21["echo","héllo",{"k":[1,2.5e3,null]}]"#, #"3/chat,7[]"#, #"0{"sid":"x"}"#, "1/admin,", "0/admin",
        #"2/a\"b,4["ev\n\u0001",-1]"#, #"0/x?token=1,{}"#,
    ])
    func decodedPacketsEncodeLikeScannedOnes(text: String) throws {
        let decoded = try SocketIOPacket.decode(ByteBuffer(string: text), version: .v5)
        var scanned = decoded
        scanned.json = decoded.json
        #expect(decoded.json == nil || (decoded.jsonIsCompact && !scanned.jsonIsCompact))
        for (sid, latency, redacted, time) in [
            ("Xy3k", nil, false, Int64(7)), (nil, Int64(-3), true, -90210), ("q\"\u{1}é", 1234, false, .max),
        ] as [(String?, Int64?, Bool, Int64)] {
            for direction in [Direction.clientToServer, .serverToClient] {
                for transport in [EngineIOTransport.websocket, .polling] {
                    func record(_ packet: SocketIOPacket) -> Record {
                        Record(
                            time: time,
                            event: .socket(
                                .init(
                                    sid: sid, connection: .max, direction: direction, transport: transport,
                                    packet: packet, ackLatencyMicros: latency, redacted: redacted)))
                    }
                    #expect(self.line(record(decoded)) == self.line(record(scanned)))
                }
            }
        }
    }

    @Test func fallbacksForPayloadsThatCannotBeEmbedded() {
        let records = sampleRecords()
        let lines = records.map(self.line)
        #expect(lines.contains { $0.contains(#""data_text":"[\"a\",\n1]""#) })
        #expect(lines.contains { $0.contains(#""data_text":"not json""#) })
        #expect(lines.contains { $0.contains(#""data_b64":"WyL/Il0=""#) })
    }

    @Test func stringEscaping() {
        let record = Record(
            time: -5,
            event: .note(.init(level: "x", message: "q\"b\\c\u{0}\u{1F}\u{7F}é\r\n\t\u{8}\u{C}"))
        )
        #expect(
            self.line(record) == #"{"t":-5,"k":"note","level":"x","msg":"q\"b\\c\u0000\u001f\#u{7F}é\r\n\t\b\f"}"#
                + "\n"
        )
    }

    @Test func headerLine() throws {
        var buffer = ByteBuffer()
        self.encoder.encode(sampleHeader, into: &buffer)
        #expect(
            String(buffer: buffer)
                == #"{"format":"siotape","version":1,"started":"2025-03-01T10:15:30.123456Z","wall_us":1740824130123456,"tool":"siotape 0.1.0","upstream":"http://127.0.0.1:5000","listen":"127.0.0.1:8080","redacted":true}"#
                + "\n"
        )
        buffer.moveWriterIndex(to: buffer.writerIndex - 1)
        var decoder = RecordDecoder()
        #expect(try decoder.decodeHeader(buffer) == sampleHeader)
    }

    @Test func endTrailerAndUnknownKindsAndFields() throws {
        var decoder = RecordDecoder()
        var buffer = ByteBuffer()
        self.encoder.encodeEnd(time: 77, records: 12, into: &buffer)
        #expect(String(buffer: buffer) == "{\"t\":77,\"k\":\"end\",\"records\":12}\n")
        buffer.moveWriterIndex(to: buffer.writerIndex - 1)
        #expect(try decoder.decode(buffer) == .end(time: 77, records: 12))
        #expect(
            try decoder.decode(ByteBuffer(string: #"{"t":1,"k":"future","x":[1,{"y":2}]}"#)) == .unknown(kind: "future")
        )
        let withExtra = #"{"t":1,"new":{"a":[1,2]},"k":"upgrade","sid":"s","conn":4,"also":null}"#
        #expect(
            try decoder.decode(ByteBuffer(string: withExtra))
                == .record(Record(time: 1, event: .upgraded(.init(sid: "s", connection: 4))))
        )
    }

    @Test func badLinesAreErrors() {
        var decoder = RecordDecoder()
        for bad in [
            #"{"t":1,"k":"upgrade","sid":"s"}"#, #"{"t":1,"k":"upgrade","sid":"s","conn":4"#, "", "[1]",
            #"{"t":"x","k":"note"}"#, #"{"t":1,"k":"sio","conn":1,"dir":"up","tr":"websocket","type":"EVENT"}"#,
        ] {
            #expect(throws: RecordFormatError.self, "\(bad)") { try decoder.decode(ByteBuffer(string: bad)) }
        }
    }

    @Test func newerVersionAndForeignHeader() {
        var decoder = RecordDecoder()
        let newer = #"{"format":"siotape","version":2,"wall_us":0,"tool":"x"}"#
        do {
            _ = try decoder.decodeHeader(ByteBuffer(string: newer))
            Issue.record("accepted a newer version")
        } catch let error as RecordingReadError {
            #expect(error.code == .newerVersion)
            #expect(error.description.contains("version 2"))
            #expect(error.description.contains("up to 1"))
        } catch {
            Issue.record("\(error)")
        }
        #expect(throws: RecordingReadError.self) { try decoder.decodeHeader(ByteBuffer(string: #"{"format":"har"}"#)) }
    }
}
