import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOInspect

/// The fast path of `RecordLineFormatter` (straight from a line's bytes) against the `Record` path
/// (`RecordDecoder` then `LiveFormatter`): the same text, byte for byte, for every line.
@Suite struct RecordLineFormatterTests {
    /// The formatters every line is compared with: plain, coloured, narrow, unlimited, wall clock.
    static let formatters: [LiveFormatter] = {
        var wall = LiveFormatter(colors: true, argumentWidth: 30)
        wall.wallClockAnchor = 1_795_000_000_123_456
        return [
            LiveFormatter(), LiveFormatter(colors: true), LiveFormatter(argumentWidth: 12),
            LiveFormatter(argumentWidth: 1), LiveFormatter(argumentWidth: .max), wall,
        ]
    }()

    /// The `Record` path's text for `line`, or `nil` when the decoder rejects it or shows nothing.
    static func reference(_ line: String, _ formatter: LiveFormatter, time: Int64? = nil) -> String? {
        var decoder = RecordDecoder()
        guard case .record(var record) = try? decoder.decode(ByteBuffer(string: line)) else { return nil }
        if let time { record.time = time }
        var out = ByteBuffer(string: "before|")
        formatter.format(record, into: &out)
        return String(buffer: out)
    }

    /// The fast path's text, or `nil` when it leaves the line to the decoder.
    static func direct(_ line: String, _ formatter: LiveFormatter, time: Int64? = nil) -> String? {
        var lines = RecordLineFormatter(formatter)
        var out = ByteBuffer(string: "before|")
        let taken = ByteBuffer(string: line).withUnsafeReadableBytes { lines.formatDirectly($0, time: time, into: &out) }
        guard taken else {
            #expect(String(buffer: out) == "before|", "the fast path wrote before giving up: \(line)")
            return nil
        }
        return String(buffer: out)
    }

    /// Checks `line` with every formatter; `fast`: whether the fast path must take it.
    static func check(_ line: String, fast: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
        for formatter in Self.formatters {
            for time in [nil, Int64(3_141_592)] {
                let direct = Self.direct(line, formatter, time: time)
                let reference = Self.reference(line, formatter, time: time)
                if fast {
                    #expect(direct != nil, "fast path not taken: \(line)", sourceLocation: sourceLocation)
                }
                if let direct {
                    #expect(direct == reference, "\(line)", sourceLocation: sourceLocation)
                }
                // The public entry point shows what the reference shows, whichever path it takes.
                var lines = RecordLineFormatter(formatter)
                var out = ByteBuffer(string: "before|")
                let outcome = lines.format(ByteBuffer(string: line), time: time, into: &out)
                #expect(
                    outcome == (reference == nil ? .undecodable : .shown) && String(buffer: out) == (reference ?? "before|"),
                    "\(line)", sourceLocation: sourceLocation)
                // And so does the entry point `inspect` uses, handed the fields of its strict parse.
                if let handed = Self.handed(line, formatter, time: time) {
                    #expect(
                        handed.outcome == (reference == nil ? .undecodable : .shown)
                            && handed.text == (reference ?? "before|"),
                        "\(line) (fields handed over)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// `format(_:fields:time:into:)` with the fields of a strict parse; `nil` when that parse fails.
    static func handed(
        _ line: String, _ formatter: LiveFormatter, time: Int64?
    ) -> (outcome: RecordLineFormatter.Outcome, text: String)? {
        let buffer = ByteBuffer(string: line)
        let fields = RecordLine()
        guard buffer.withUnsafeReadableBytes({ (try? fields.parse($0, validating: true)) != nil }) else { return nil }
        var lines = RecordLineFormatter(formatter)
        var out = ByteBuffer(string: "before|")
        let outcome = lines.format(buffer, fields: fields, time: time, into: &out)
        return (outcome, String(buffer: out))
    }

    static func encoded(_ record: Record) -> String {
        var buffer = ByteBuffer()
        RecordEncoder().encode(record, into: &buffer)
        var line = String(buffer: buffer)
        if line.hasSuffix("\n") { line.removeLast() }
        return line
    }

    static func socket(
        _ packet: SocketIOPacket, sid: String? = "Xy3k9QabAAAB", dir: Direction = .clientToServer,
        tr: EngineIOTransport = .websocket, latency: Int64? = nil, redacted: Bool = false, time: Int64 = 12_345_678
    ) -> String {
        Self.encoded(
            Record(
                time: time,
                event: .socket(
                    .init(
                        sid: sid, connection: 7, direction: dir, transport: tr, packet: packet,
                        ackLatencyMicros: latency, redacted: redacted))))
    }

    @Test func everySocketIOPacketType() {
        for type in SocketIOPacketType.allCases {
            for dir in [Direction.clientToServer, .serverToClient] {
                for tr in [EngineIOTransport.websocket, .polling] {
                    Self.check(Self.socket(SocketIOPacket(type: type), dir: dir, tr: tr))
                    Self.check(Self.socket(SocketIOPacket(type: type, namespace: "/admin", ackID: 42), dir: dir, tr: tr))
                }
            }
        }
        Self.check(Self.socket(SocketIOPacket(type: .connect, json: ByteBuffer(string: #"{"token":"abc"}"#))))
        Self.check(
            Self.socket(SocketIOPacket(type: .connectError, json: ByteBuffer(string: #"{"message":"Not authorized"}"#))))
    }

    @Test func eventsAndAcks() {
        let event = SocketIOPacket(
            type: .event, namespace: "/chat", ackID: 3, json: ByteBuffer(string: #"["message","hi",{"n":1}]"#),
            eventName: "message")
        Self.check(Self.socket(event))
        Self.check(Self.socket(event, sid: nil))
        Self.check(Self.socket(event, sid: "short"))
        Self.check(Self.socket(event, sid: "sïd\u{1B}with-é-and-more"))
        Self.check(Self.socket(event, redacted: true))
        Self.check(Self.socket(event, time: 0))
        Self.check(Self.socket(event, time: 987_654_321_012))
        for latency: Int64 in [0, 999, 1000, 8034, 999_999, 1_000_000, 12_345_678] {
            Self.check(
                Self.socket(
                    SocketIOPacket(type: .ack, namespace: "/chat", ackID: 3, json: ByteBuffer(string: #"["ok"]"#)),
                    dir: .serverToClient, latency: latency))
        }
        // Arguments after the name: none, spaces, not an array, a name that is not a string.
        for json in [
            #"["ping"]"#, #"[ "ping" , 1]"#, #"["ping"  ]"#, #"{"a":1}"#, #"[1,2]"#, #""text""#, "42", #"["a\"b",1]"#,
            #"["ping",{"deep":[[[["x"]]]]}]"#,
        ] {
            Self.check(Self.socket(SocketIOPacket(type: .event, json: ByteBuffer(string: json), eventName: "ping")))
            Self.check(Self.socket(SocketIOPacket(type: .ack, ackID: 0, json: ByteBuffer(string: json))))
        }
    }

    @Test func escapesInNamesAndPayloads() {
        for name in ["a\"b", "tab\there", "nl\nx", "esc\u{1B}[31m", "back\\slash", "café", "👍 emoji", "/slash", "\u{7F}"] {
            let json = ByteBuffer(string: "[\(Self.jsonString(name)),\"x\\u0000y\"]")
            Self.check(Self.socket(SocketIOPacket(type: .event, namespace: name, json: json, eventName: name), sid: name))
        }
        // Escapes the encoder does not write: `\/`, `\u` for plain letters, surrogate pairs, a lone surrogate.
        Self.check(
            #"{"t":1,"k":"sio","sid":"\u0041b\/c","conn":1,"dir":"c2s","tr":"websocket","type":"EVENT","nsp":"\/n\u00e9","event":"\ud83d\ude00\ud800x","data":["x",1]}"#
        )
        // A long event name, cut at 40 characters.
        let long = String(repeating: "é", count: 60)
        Self.check(Self.socket(SocketIOPacket(type: .event, json: ByteBuffer(string: "[\"\(long)\",1]"), eventName: long)))
    }

    @Test func longArgumentsAreCut() {
        let text = String(repeating: "abcdefghij€", count: 30)
        for json in ["[\"m\",\"\(text)\"]", "[\"\(text)\"]", "{\"k\":\"\(text)\"}"] {
            Self.check(Self.socket(SocketIOPacket(type: .event, json: ByteBuffer(string: json), eventName: "m")))
            Self.check(Self.socket(SocketIOPacket(type: .ack, ackID: 1, json: ByteBuffer(string: json))))
        }
        // Exactly at the width and one past it.
        for n in 8...14 {
            let json = "[\"m\",\"\(String(repeating: "x", count: n))\"]"
            Self.check(Self.socket(SocketIOPacket(type: .event, json: ByteBuffer(string: json), eventName: "m")))
        }
    }

    @Test func binaryPlaceholders() {
        let json = ByteBuffer(string: #"["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        // Announced attachments (`att_n`), with the bytes not recorded: the fast path.
        Self.check(Self.socket(SocketIOPacket(type: .binaryEvent, attachmentCount: 2, json: json, eventName: "file")))
        Self.check(
            Self.socket(
                SocketIOPacket(type: .binaryAck, ackID: 9, attachmentCount: 1, json: ByteBuffer(string: #"[{"_placeholder":true,"num":0}]"#))))
        // Recorded attachments (`att`): the same text whichever path takes them (`recordedAttachments`
        // requires the fast path).
        Self.check(
            Self.socket(
                SocketIOPacket(
                    type: .binaryEvent, attachmentCount: 2, json: json,
                    attachments: [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(bytes: [0xFF])], eventName: "file")),
            fast: false)
    }

    /// Recorded attachments (`att`) on the fast path: counted as the decoder counts them (carried,
    /// or announced by `att_n` when that is more) and checked as it checks them.
    @Test func recordedAttachments() {
        let placeholders = ByteBuffer(string: #"["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        let sets: [[ByteBuffer]] = [
            [], [ByteBuffer(bytes: [1, 2, 3])], [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(bytes: [0xFF])],
            [ByteBuffer(), ByteBuffer(bytes: [0])],
            [ByteBuffer(bytes: (0..<3000).map { UInt8(truncatingIfNeeded: $0) })],
        ]
        for attachments in sets {
            // Announced as carried, fewer, more.
            for announced in Set([attachments.count, max(0, attachments.count - 1), attachments.count + 2]).sorted() {
                var event = SocketIOPacket(
                    type: .binaryEvent, namespace: "/files", ackID: 4, attachmentCount: announced, json: placeholders,
                    attachments: attachments, eventName: "file")
                Self.check(Self.socket(event))
                Self.check(Self.socket(event, sid: nil, dir: .serverToClient, tr: .polling, redacted: true))
                event.parser = .msgpack
                Self.check(Self.socket(event))
                let ack = SocketIOPacket(
                    type: .binaryAck, ackID: 9, attachmentCount: announced,
                    json: ByteBuffer(string: #"[{"_placeholder":true,"num":0}]"#), attachments: attachments)
                Self.check(Self.socket(ack, dir: .serverToClient, latency: 1500))
            }
        }
        // Written by hand: whitespace in the array, padding left out, `att_n` below zero, the text
        // fallback of the payload, no payload.
        let base = #""t":7,"k":"sio","conn":1,"dir":"c2s","tr":"websocket","type":"BINARY_EVENT","event":"f""#
        for line in [
            #"{"# + base + #","att":[ "AQID" , "/w==" ] ,"data":["f",1]}"#,
            #"{"# + base + #","att":["AQI","AA"],"data":["f",1]}"#,
            #"{"# + base + #","att":["AQID"],"att_n":-1,"data":["f",1]}"#,
            #"{"# + base + #","att":[],"att_n":3,"data":["f",1]}"#,
            #"{"# + base + #","att":null,"att_n":1,"data":["f",1]}"#,
            #"{"# + base + #","att":["AQID"],"data_text":"[\"f\",1,\n"}"#,
            #"{"# + base + #","att":["AQID"]}"#,
        ] {
            Self.check(line)
        }
    }

    /// `att` values the decoder rejects: the fast path leaves them to it (and the line is not shown).
    @Test func doubtfulAttachmentsGoToTheDecoder() {
        let base =
            #""t":7,"k":"sio","conn":1,"dir":"c2s","tr":"websocket","type":"BINARY_EVENT","event":"f","data":["f"]"#
        for att in [
            #""AQID""#, "3", "true", "{}", #"{"0":"AQID"}"#, "[1]", #"[["AQID"]]"#, #"["AQID",null]"#, #"["AQID",2]"#,
            #"["!!"]"#, #"["A"]"#, #"["AQID","A"]"#, #"["A==="]"#, #"["AQ=D"]"#, #"["AQ\u003d\u003d"]"#, #"["AQ\/w"]"#,
            #"["AQ ID"]"#, "[1,]", #"["AQID""#,
        ] {
            Self.check("{" + base + #","att":"# + att + "}", fast: false)
            #expect(Self.reference("{" + base + #","att":"# + att + "}", LiveFormatter()) == nil, "\(att)")
        }
    }

    @Test func msgpackPackets() {
        var packet = SocketIOPacket(type: .event, ackID: 1, json: ByteBuffer(string: #"["chat",{"$bin":"AAEC/w=="}]"#), eventName: "chat")
        packet.parser = .msgpack
        Self.check(Self.socket(packet))
        packet.wire = ByteBuffer(bytes: [0x83, 0xA4, 0x74, 0x79, 0x70, 0x65, 0x02])
        Self.check(Self.socket(packet))
        // A parser this build does not know is the default one.
        Self.check(#"{"t":1,"k":"sio","conn":1,"dir":"s2c","tr":"polling","type":"EVENT","parser":"cbor","event":"x","data":["x"]}"#)
    }

    @Test func payloadFallbacks() {
        // `data_text` (not JSON) and `data_b64` (not UTF-8) instead of `data`.
        Self.check(#"{"t":5,"k":"sio","conn":1,"dir":"c2s","tr":"websocket","type":"EVENT","event":"m","data_text":"[\"m\",1,\n"}"#)
        Self.check(#"{"t":5,"k":"sio","conn":1,"dir":"c2s","tr":"websocket","type":"EVENT","event":"m","data_b64":"WyJtIiwx/w=="}"#)
        Self.check(#"{"t":5,"k":"sio","conn":1,"dir":"c2s","tr":"websocket","type":"ACK","id":2,"data_b64":""}"#)
        // `data` wins over the others, even when they are of the wrong type.
        Self.check(#"{"t":5,"k":"sio","conn":1,"dir":"c2s","tr":"websocket","type":"ACK","id":2,"data":[1],"data_text":7}"#)
    }

    @Test func unknownFieldsWhitespaceAndNulls() {
        Self.check(
            #"{ "t" : 77 , "k":"sio", "future":{"a":[1,{"b":"\"}"}]}, "sid":"S1","conn":3 ,"dir":"s2c","tr":"websocket","type":"EVENT","nsp":null,"id":null,"event":"e","data": ["e", 1 ] , "zz":"x"}"#
        )
        Self.check(#"{"k":"eio","t":9,"conn":0,"dir":"c2s","tr":"polling","type":"message","text":"hi","extra":[true,false,null]}"#)
        // A key written twice: the last one counts, for both paths.
        Self.check(#"{"t":1,"k":"sio","conn":1,"dir":"c2s","tr":"websocket","type":"EVENT","event":"a","event":"b","data":["b"]}"#)
    }

    @Test func engineIOPackets() {
        for type in EngineIOPacketType.allCases {
            for data: RecordedData? in [nil, .text("hello"), .text("a\u{1B}b\n"), .binary(ByteBuffer(bytes: Array(0..<40)))] {
                for dir in [Direction.clientToServer, .serverToClient] {
                    Self.check(
                        Self.encoded(
                            Record(
                                time: 1234,
                                event: .engine(
                                    .init(sid: "Xy3k9QabAAAB", connection: 2, direction: dir, transport: .polling, type: type, data: data)))))
                }
            }
        }
        Self.check(Self.encoded(Record(time: 1, event: .engine(.init(sid: nil, connection: 2, direction: .clientToServer, transport: .websocket, type: .ping)))))
        Self.check(#"{"t":1,"k":"eio","conn":1,"dir":"c2s","tr":"websocket","type":"message","text":"caf\u00e9 \"q\""}"#)
        Self.check(#"{"t":1,"k":"eio","conn":1,"dir":"c2s","tr":"websocket","type":"message","b64":""}"#)
    }

    /// Lines the decoder rejects, or reads otherwise than the bytes say: the fast path leaves them
    /// to it, and the outcome is the decoder's.
    @Test func doubtfulLinesGoToTheDecoder() {
        let base = #""k":"sio","conn":1,"dir":"c2s","tr":"websocket","type":"EVENT""#
        for line in [
            #"{"t":1,"k":"sio","conn":1,"dir":"up","tr":"websocket","type":"EVENT"}"#,
            #"{"t":1,"k":"sio","conn":1,"dir":"c2s","tr":"carrier-pigeon","type":"EVENT"}"#,
            #"{"t":1,"k":"sio","conn":1,"dir":"c2s","tr":"websocket","type":"event"}"#,
            #"{"t":1,"k":"sio","conn":-1,"dir":"c2s","tr":"websocket","type":"EVENT"}"#,
            #"{"t":1,"k":"sio","dir":"c2s","tr":"websocket","type":"EVENT"}"#,
            #"{"t":1.5,"# + base + "}",
            #"{"t":"1","# + base + "}",
            #"{"t":99999999999999999999,"# + base + "}",
            #"{"t":1,"# + base + #","id":-3}"#,
            #"{"t":1,"# + base + #","id":"3"}"#,
            #"{"t":1,"# + base + #","id":3e2}"#,
            #"{"t":1,"# + base + #","ack_us":1.0}"#,
            #"{"t":1,"# + base + #","att_n":"2"}"#,
            #"{"t":1,"# + base + #","redacted":"yes"}"#,
            #"{"t":1,"# + base + #","redacted":"true"}"#,
            #"{"t":1,"# + base + #","redacted":1}"#,
            #"{"t":1,"# + base + #","nsp":5}"#,
            #"{"t":1,"# + base + #","event":["x"]}"#,
            #"{"t":1,"# + base + #","head":1}"#,
            #"{"t":1,"# + base + #","parser":7}"#,
            #"{"t":1,"# + base + #","parser":"msg\u0070ack"}"#,
            #"{"t":1,"# + base + #","wire":"!!!"}"#,
            #"{"t":1,"# + base + #","data_text":1}"#,
            #"{"t":1,"# + base + #","data_b64":"a"}"#,
            #"{"t":1,"# + base + #","sid":1}"#,
            #"{"t":1,"# + base + #","x":[1,}"#,
            #"{"t":1,"# + base + #","x":"\q"}"#,
            #"{"t":1,"# + base + #","data":[1,]}"#,
            #"{"t":1,"k":"s\u0069o","conn":1,"dir":"c2s","tr":"websocket","type":"EVENT"}"#,
            #"{"t":1,"k":"sio","conn":1,"dir":"c\u0032s","tr":"websocket","type":"EVENT"}"#,
            #"{"t":1,"k":"eio","conn":1,"dir":"c2s","tr":"websocket","type":"PING"}"#,
            #"{"t":1,"k":"eio","conn":1,"dir":"c2s","tr":"websocket","type":"message","text":3}"#,
            #"{"t":1,"k":"eio","conn":1,"dir":"c2s","tr":"websocket","type":"message","b64":"@@"}"#,
            #"{"t":1,"k":"eio","conn":1,"dir":"c2s","tr":"websocket","type":"message","text":"ok","b64":"@@"}"#,
            "not json", "", "{}",
        ] {
            Self.check(line, fast: false)
        }
    }

    @Test func otherKindsGoToTheDecoder() {
        var formatter = RecordLineFormatter(LiveFormatter())
        var out = ByteBuffer()
        #expect(formatter.format(ByteBuffer(string: #"{"t":5,"k":"end","records":3}"#), into: &out) == .skipped)
        #expect(formatter.format(ByteBuffer(string: #"{"t":5,"k":"from-the-future"}"#), into: &out) == .skipped)
        #expect(out.readableBytes == 0)
        Self.check(#"{"t":5,"k":"conn","conn":1,"peer":"127.0.0.1:5"}"#, fast: false)
        Self.check(#"{"t":5,"k":"close","sid":"abc","cause":"transport close"}"#, fast: false)
    }

    /// Many generated packets with awkward text in every string field.
    @Test func generatedPackets() {
        var random = SplitMix(seed: 0x5107A9E)
        let pieces = ["a", "é", "👍", "\"", "\\", "\n", "\u{1B}", "\u{7F}", "/", " ", "]", ",", "[", "{", "\u{0}", "xyz"]
        func text(_ max: Int) -> String {
            (0..<random.next(max)).map { _ in pieces[random.next(pieces.count)] }.joined()
        }
        for _ in 0..<400 {
            let type = SocketIOPacketType.allCases[random.next(SocketIOPacketType.allCases.count)]
            let name = random.next(4) == 0 ? nil : text(50)
            var elements = (0..<random.next(4)).map { _ in Self.jsonString(text(30)) }
            if let name { elements.insert(Self.jsonString(name), at: 0) }
            let json = random.next(5) == 0 ? nil : ByteBuffer(string: "[" + elements.joined(separator: ",") + "]")
            var packet = SocketIOPacket(
                type: type, namespace: random.next(2) == 0 ? "/" : "/" + text(10),
                ackID: random.next(2) == 0 ? nil : UInt64(random.next(100_000)), attachmentCount: random.next(3),
                json: json, eventName: name)
            if random.next(4) == 0 { packet.parser = .msgpack }
            Self.check(
                Self.socket(
                    packet, sid: random.next(5) == 0 ? nil : text(12), dir: random.next(2) == 0 ? .clientToServer : .serverToClient,
                    tr: random.next(2) == 0 ? .websocket : .polling, latency: random.next(2) == 0 ? nil : Int64(random.next(3_000_000)),
                    redacted: random.next(3) == 0, time: Int64(random.next(100_000_000))))
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A small deterministic generator (the tests' random input is the same every run).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next(_ bound: Int) -> Int {
        guard bound > 0 else { return 0 }
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

@Suite struct LineWriterTests {
    @Test func decimalsAreStringsDigits() {
        for value: Int64 in [0, 1, -1, 9, 10, -10, 99, 100, 999_999, 1_000_000, .max, .min, .max - 1, .min + 1] {
            var line = LineWriter(buffer: ByteBuffer(), colors: false)
            line.decimal(value)
            var out = line.finish()
            #expect(out.readString(length: out.readableBytes - 1) == String(value))
        }
    }

    /// `clipped` (runs, eight bytes at a time) against the plain byte-by-byte rendering it replaced.
    @Test func clippedMatchesTheBytewiseRendering() {
        func reference(_ bytes: [UInt8], width: Int) -> [UInt8] {
            let digits = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            var shown = 0
            for (i, b) in bytes.enumerated() {
                if b & 0xC0 != 0x80 {
                    if shown >= width - 1 && bytes[i...].filter({ $0 & 0xC0 != 0x80 }).count > 1 {
                        return out + Array("…".utf8)
                    }
                    shown += 1
                }
                switch b {
                case 0x0A: out += Array("\\n".utf8)
                case 0x0D: out += Array("\\r".utf8)
                case 0x09: out += Array("\\t".utf8)
                case 0..<0x20, 0x7F: out += Array("\\x".utf8) + [digits[Int(b >> 4)], digits[Int(b & 0xF)]]
                default: out.append(b)
                }
            }
            return out
        }
        var random = SplitMix(seed: 42)
        let pieces = ["a", "bcdefgh", "é", "€", "👍", "\n", "\u{1B}", "\u{7F}", "\u{0}", "\t", " ", "~", "\u{80}", "\r"]
        for _ in 0..<5000 {
            let text = Array((0..<random.next(40)).map { _ in pieces[random.next(pieces.count)] }.joined().utf8)
            let width = random.next(4) == 0 ? Int.max : random.next(60)
            var line = LineWriter(buffer: ByteBuffer(), colors: false)
            text.withUnsafeBytes { line.clipped($0, width: width) }
            var out = line.finish()
            #expect(out.readBytes(length: out.readableBytes - 1) == reference(text, width: width), "\(text) \(width)")
        }
    }

    @Test func relativeTimesAreAligned() {
        for (time, text) in [
            (Int64(0), "  0.000"), (5_000, "  0.005"), (12_345_678, " 12.345"), (123_456_789, "123.456"),
            (1_234_567_890, "1234.567"), (-5_000, "  0.005"), (-12_345_678, "-12.345"),
        ] {
            var line = LineWriter(buffer: ByteBuffer(), colors: false)
            line.prefix(time: time, sid: nil, direction: nil, transport: nil)
            var out = line.finish()
            #expect(out.readString(length: out.readableBytes)?.hasPrefix(text + " -") == true, "\(time)")
        }
    }
}
