import NIOCore
import SIOWire
import Testing

func buf(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }
func bytes(_ array: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: array) }
func text(_ type: EngineIOPacketType, _ data: String = "") -> EngineIOPacket {
    EngineIOPacket(type: type, data: buf(data))
}
func binary(_ array: [UInt8], type: EngineIOPacketType = .message) -> EngineIOPacket {
    EngineIOPacket(type: type, isBinary: true, data: bytes(array))
}

@Suite struct EngineIOWebSocketTests {
    @Test(arguments: [
        ("0{\"sid\":\"x\"}", EngineIOPacketType.open, "{\"sid\":\"x\"}"), ("1", .close, ""), ("2", .ping, ""),
        ("2probe", .ping, "probe"), ("3probe", .pong, "probe"), ("4hello", .message, "hello"), ("5", .upgrade, ""),
        ("6", .noop, ""),
    ])
    func textPackets(wire: String, type: EngineIOPacketType, data: String) throws {
        let packet = try EngineIOPacket.decode(webSocketText: buf(wire))
        #expect(packet == text(type, data))
        for version in EngineIOVersion.allCases {
            #expect(packet.encodeForWebSocket(version: version) == (false, buf(wire)))
        }
    }

    @Test func textErrors() {
        #expect(throws: WireError("empty Engine.IO packet", at: 0)) { try EngineIOPacket.decode(webSocketText: buf("")) }
        #expect(throws: WireError("unknown Engine.IO packet type '7'", at: 0)) {
            try EngineIOPacket.decode(webSocketText: buf("7x"))
        }
        #expect(throws: WireError("unknown Engine.IO packet type 'b'", at: 0)) {
            try EngineIOPacket.decode(webSocketText: buf("bAQID"))
        }
    }

    @Test func binaryMessages() throws {
        let v4 = try EngineIOPacket.decode(webSocketBinary: bytes([1, 2, 3, 4]), version: .v4)
        #expect(v4 == binary([1, 2, 3, 4]))
        #expect(v4.encodeForWebSocket(version: .v4) == (true, bytes([1, 2, 3, 4])))
        let v3 = try EngineIOPacket.decode(webSocketBinary: bytes([4, 1, 2, 3, 4]), version: .v3)
        #expect(v3 == binary([1, 2, 3, 4]))
        #expect(v3.encodeForWebSocket(version: .v3) == (true, bytes([4, 1, 2, 3, 4])))
        #expect(throws: WireError.self) { try EngineIOPacket.decode(webSocketBinary: bytes([9, 1]), version: .v3) }
        #expect(throws: WireError.self) { try EngineIOPacket.decode(webSocketBinary: bytes([]), version: .v3) }
    }
}

@Suite struct EngineIOPayloadTests {
    @Test func v4Examples() {
        let body = buf("4hello\u{1e}bAQIDBA==")
        let decoded = EngineIOPayload.decode(body, encoding: .v4Text)
        #expect(decoded == EngineIOPayloadDecoding(packets: [text(.message, "hello"), binary([1, 2, 3, 4])], error: nil))
        #expect(EngineIOPayload.encode(decoded.packets, encoding: .v4Text) == body)
        let polled = EngineIOPayload.decode(buf("41\u{1e}41/admin,\u{1e}1"), encoding: .v4Text)
        #expect(polled.packets == [text(.message, "1"), text(.message, "1/admin,"), text(.close)])
        #expect(EngineIOPayload.decode(buf(""), encoding: .v4Text) == EngineIOPayloadDecoding(packets: [], error: nil))
    }

    /// The separators are found eight bytes at a time: at every position in a word, and in a
    /// body's last bytes, each packet ends at its separator and no sooner.
    @Test func v4SeparatorsAtEveryPosition() {
        for first in 1...19 {
            for second in 1...19 {
                let a = String(repeating: "a", count: first - 1)
                let b = String(repeating: "b", count: second - 1)
                let decoded = EngineIOPayload.decode(buf("4\(a)\u{1e}4\(b)\u{1e}6"), encoding: .v4Text)
                #expect(decoded == EngineIOPayloadDecoding(packets: [text(.message, a), text(.message, b), text(.noop)], error: nil))
                let trailing = EngineIOPayload.decode(buf("4\(a)\u{1e}4\(b)\u{1e}"), encoding: .v4Text)
                #expect(trailing.packets == [text(.message, a), text(.message, b)])
                #expect(trailing.error == WireError("empty Engine.IO packet", at: first + second + 2))
            }
        }
    }

    @Test func v4Errors() {
        let badBase64 = EngineIOPayload.decode(buf("4a\u{1e}bAQ*D"), encoding: .v4Text)
        #expect(badBase64.packets == [text(.message, "a")])
        #expect(badBase64.error == WireError("invalid base64 character 0x2a", at: 6))
        let empty = EngineIOPayload.decode(buf("4a\u{1e}\u{1e}2"), encoding: .v4Text)
        #expect(empty.packets == [text(.message, "a")])
        #expect(empty.error == WireError("empty Engine.IO packet", at: 3))
        let unknown = EngineIOPayload.decode(buf("4a\u{1e}9"), encoding: .v4Text)
        #expect(unknown.error == WireError("unknown Engine.IO packet type '9'", at: 3))
    }

    @Test func v3TextCountsUTF16Units() {
        for (wire, data) in [("2:4€", "€"), ("3:4😀", "😀"), ("19:431[\"hi\",{\"k\":\"€\"}]", "31[\"hi\",{\"k\":\"€\"}]")] {
            let decoded = EngineIOPayload.decode(buf(wire), encoding: .v3Text)
            #expect(decoded == EngineIOPayloadDecoding(packets: [text(.message, data)], error: nil))
            #expect(EngineIOPayload.encode(decoded.packets, encoding: .v3Text) == buf(wire))
        }
        let two = EngineIOPayload.decode(buf("6:4hello6:4world"), encoding: .v3Text)
        #expect(two.packets == [text(.message, "hello"), text(.message, "world")])
        #expect(two.error == nil)
        let withBinary = EngineIOPayload.decode(buf("10:b4AQIDBA==2:40"), encoding: .v3Text)
        #expect(withBinary.packets == [binary([1, 2, 3, 4]), text(.message, "0")])
        #expect(EngineIOPayload.encode(withBinary.packets, encoding: .v3Text) == buf("10:b4AQIDBA==2:40"))
    }

    @Test func v3TextErrors() {
        let tooLong = EngineIOPayload.decode(buf("6:4hello12:4world"), encoding: .v3Text)
        #expect(tooLong.packets == [text(.message, "hello")])
        #expect(tooLong.error == WireError("length prefix 12 exceeds the 6 remaining units", at: 8))
        let separator = EngineIOPayload.decode(buf("6;4hello"), encoding: .v3Text)
        #expect(separator.error == WireError("expected a length digit or ':', found ';'", at: 1))
        #expect(EngineIOPayload.decode(buf(":4"), encoding: .v3Text).error?.reason == "empty length prefix before ':'")
        #expect(EngineIOPayload.decode(buf("1:😀"), encoding: .v3Text).error?.reason.contains("surrogate") == true)
        let badBase64 = EngineIOPayload.decode(buf("6:b4AQ!D"), encoding: .v3Text)
        #expect(badBase64.error == WireError("invalid base64 character 0x21", at: 6))
        let badUTF8 = EngineIOPayload.decode(bytes([0x32, 0x3A, 0x34, 0xFF]), encoding: .v3Text)
        #expect(badUTF8.error == WireError("invalid UTF-8 lead byte 0xff", at: 3))
        let unknownType = EngineIOPayload.decode(buf("2:9x"), encoding: .v3Text)
        #expect(unknownType.error == WireError("unknown Engine.IO packet type '9'", at: 2))
    }

    @Test func v3BinaryExample() {
        let wire = bytes([0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 1, 2, 3, 4])
        let decoded = EngineIOPayload.decode(wire, encoding: .v3Binary)
        #expect(decoded == EngineIOPayloadDecoding(packets: [text(.message, "hello"), binary([1, 2, 3, 4])], error: nil))
        #expect(EngineIOPayload.encode(decoded.packets, encoding: .v3Binary) == wire)
        // Multi-digit lengths: one byte per decimal digit.
        let long = text(.message, String(repeating: "x", count: 120))
        let encoded = EngineIOPayload.encode([long], encoding: .v3Binary)
        #expect(encoded.getBytes(at: 0, length: 5) == [0x00, 1, 2, 1, 0xFF])
        #expect(EngineIOPayload.decode(encoded, encoding: .v3Binary).packets == [long])
    }

    @Test func v3BinaryErrors() {
        let marker = EngineIOPayload.decode(bytes([0x00, 0x02, 0xFF, 0x34, 0x30, 0x07]), encoding: .v3Binary)
        #expect(marker.packets == [text(.message, "0")])
        #expect(marker.error == WireError("expected a record marker 0x00 or 0x01, found 0x07", at: 5))
        let length = EngineIOPayload.decode(bytes([0x00, 0x09, 0xFF, 0x34]), encoding: .v3Binary)
        #expect(length.error == WireError("record length 9 exceeds the 1 remaining bytes", at: 0))
        let digit = EngineIOPayload.decode(bytes([0x01, 0x0A, 0xFF]), encoding: .v3Binary)
        #expect(digit.error == WireError("expected a length digit 0-9 or 0xFF, found 0x0a", at: 1))
        let noTerminator = EngineIOPayload.decode(bytes([0x01, 0x01]), encoding: .v3Binary)
        #expect(noTerminator.error == WireError("record length without the 0xFF terminator", at: 0))
    }

    @Test func encodingDetection() {
        #expect(EngineIOPayload.encoding(version: .v4, contentType: "application/octet-stream", body: buf("x")) == .v4Text)
        #expect(EngineIOPayload.encoding(version: .v3, contentType: "application/octet-stream", body: buf("2:40")) == .v3Binary)
        #expect(EngineIOPayload.encoding(version: .v3, contentType: "text/plain; charset=UTF-8", body: buf("2:40")) == .v3Text)
        #expect(EngineIOPayload.encoding(version: .v3, contentType: nil, body: bytes([0, 2, 255, 0x34, 0x30])) == .v3Binary)
    }
}

@Suite struct EngineIORequestTargetTests {
    @Test func parsesEngineIOQuery() {
        let target = EngineIORequestTarget(uri: "/socket.io/?EIO=4&transport=polling&t=N8hyd6w&sid=ab%2Bc&token=a+b%20c")
        #expect(target.path == "/socket.io/")
        #expect(target.version == .v4)
        #expect(target.transport == .polling)
        #expect(target.sid == "ab+c")
        #expect(!target.base64)
        #expect(target.queryItems.map(\.name) == ["EIO", "transport", "t", "sid", "token"])
        #expect(target.query.last?.value == "a b c")
        #expect(target.queryValue("t") == "N8hyd6w")
    }

    @Test func otherTargets() {
        let v3 = EngineIORequestTarget(uri: "http://127.0.0.1:5000/engine.io/?EIO=3&transport=websocket&b64=1#x")
        #expect(v3.path == "/engine.io/")
        #expect(v3.version == .v3)
        #expect(v3.transport == .websocket)
        #expect(v3.base64)
        let page = EngineIORequestTarget(uri: "/index.html")
        #expect(page.version == nil && page.queryItems.isEmpty && page.path == "/index.html")
        #expect(EngineIORequestTarget(uri: "/socket.io/?EIO=9").version == nil)
        #expect(EngineIORequestTarget(uri: "/a?x=%zz").queryValue("x") == "%zz")
        #expect(EngineIORequestTarget(uri: "/a?x=1") == EngineIORequestTarget(uri: "/a?x=1"))
        #expect(EngineIORequestTarget(uri: "/a?x=1") != EngineIORequestTarget(uri: "/a?x=2"))
    }

    /// Targets are parsed on their bytes, in the corners too: absolute form, fragments, empty
    /// pairs, escapes, and non-ASCII text next to a delimiter.
    @Test func requestTargetCorners() {
        func parts(_ uri: String) -> [String] {
            let target = EngineIORequestTarget(uri: uri)
            return [target.path] + target.queryItems.map { "\($0.name)=\($0.value)" }
        }
        #expect(parts("/socket.io/?EIO=4&transport=polling&t=N8hyd6w&sid=ab%2Bc&token=a+b%20c")
            == ["/socket.io/", "EIO=4", "transport=polling", "t=N8hyd6w", "sid=ab+c", "token=a b c"])
        #expect(parts("http://127.0.0.1:5000/engine.io/?EIO=3&transport=websocket&b64=1#x")
            == ["/engine.io/", "EIO=3", "transport=websocket", "b64=1"])
        #expect(parts("http://host") == ["/"])
        #expect(parts("http://h?EIO=4") == ["", "EIO=4"])
        #expect(parts("https://h:1/p") == ["/p"])
        #expect(parts("a:b") == ["a:b"])
        #expect(parts("") == [""])
        #expect(parts("#?EIO=4") == [""])
        #expect(parts("/p#frag?EIO=4") == ["/p"])
        #expect(parts("/p?&&EIO=4&&") == ["/p", "EIO=4"])
        #expect(parts("/p?=") == ["/p", "="])
        #expect(parts("/p?a=b=c&d") == ["/p", "a=b=c", "d="])
        #expect(parts("/p?a=%zz%4&b=%") == ["/p", "a=%zz%4", "b=%"])
        #expect(parts("/p?%41=1") == ["/p", "A=1"])
        #expect(parts("/p?sid=%E2%82%AC&b64=true") == ["/p", "sid=€", "b64=true"])
        #expect(parts("rel/p:q://h/x?EIO=4") == ["rel/p:q://h/x", "EIO=4"])
        #expect(EngineIORequestTarget(uri: "/p?EIO=%34&EIO=3").version == .v4)
        #expect(EngineIORequestTarget(uri: "/p?sid=%E2%82%AC&b64=true").base64)
        // Non-ASCII text stays whole, and a combining mark does not hide the delimiter before it.
        #expect(parts("/é/p?\u{301}EIO=4&n=ü") == ["/é/p", "\u{301}EIO=4", "n=ü"])
    }
}
