import NIOCore
import SIOWire
import Testing

@Suite struct SocketIOPacketTests {
    /// Every example of PROTOCOL.md (without the Engine.IO `4`), decoded and re-encoded byte for byte.
    @Test(arguments: [
        ("0{\"token\":\"secret\"}", SocketIOPacketType.connect, "/", nil, 0, "{\"token\":\"secret\"}", nil),
        ("0/admin,{\"token\":\"secret\"}", .connect, "/admin", nil, 0, "{\"token\":\"secret\"}", nil),
        ("0{\"sid\":\"HStQ\"}", .connect, "/", nil, 0, "{\"sid\":\"HStQ\"}", nil),
        ("1", .disconnect, "/", nil, 0, nil, nil),
        ("1/admin,", .disconnect, "/admin", nil, 0, nil, nil),
        ("2[\"hey\",\"Jude\"]", .event, "/", nil, 0, "[\"hey\",\"Jude\"]", "hey"),
        ("21[\"echo\",\"hello\",{\"k\":\"\\u20ac\"}]", .event, "/", 1, 0, "[\"echo\",\"hello\",{\"k\":\"\\u20ac\"}]", "echo"),
        ("2/admin,1[\"echo\",7]", .event, "/admin", 1, 0, "[\"echo\",7]", "echo"),
        ("31[\"hello\",{\"k\":\"\\u20ac\"}]", .ack, "/", 1, 0, "[\"hello\",{\"k\":\"\\u20ac\"}]", nil),
        ("3/admin,1[7]", .ack, "/admin", 1, 0, "[7]", nil),
        ("4{\"message\":\"Not authorized\"}", .connectError, "/", nil, 0, "{\"message\":\"Not authorized\"}", nil),
        ("4/random,{\"message\":\"Invalid namespace\"}", .connectError, "/random", nil, 0,
            "{\"message\":\"Invalid namespace\"}", nil),
        ("52-2[\"binary\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", .binaryEvent, "/", 2, 2,
            "[\"binary\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", "binary"),
        ("61-2[{\"_placeholder\":true,\"num\":0},2]", .binaryAck, "/", 2, 1, "[{\"_placeholder\":true,\"num\":0},2]", nil),
        ("2[42,\"numeric event\"]", .event, "/", nil, 0, "[42,\"numeric event\"]", nil),
    ] as [(String, SocketIOPacketType, String, UInt64?, Int, String?, String?)])
    func v5Examples(
        wire: String, type: SocketIOPacketType, namespace: String, ackID: UInt64?, attachments: Int, json: String?,
        eventName: String?
    ) throws {
        let packet = try SocketIOPacket.decode(buf(wire), version: .v5)
        #expect(packet.type == type)
        #expect(packet.namespace == namespace)
        #expect(packet.ackID == ackID)
        #expect(packet.attachmentCount == attachments)
        #expect(packet.json == json.map(buf))
        #expect(packet.eventName == eventName)
        #expect(packet.rawHeader == nil)
        #expect(packet.encodeText(version: .v5) == buf(wire))
    }

    @Test func v4Examples() throws {
        let query = try SocketIOPacket.decode(buf("0/admin?token=1234,"), version: .v4)
        #expect(query.type == .connect && query.namespace == "/admin" && query.json == nil)
        #expect(query.rawHeader == "0/admin?token=1234,")
        #expect(query.encodeText(version: .v4) == buf("0/admin?token=1234,"))

        let noComma = try SocketIOPacket.decode(buf("0/admin"), version: .v4)
        #expect(noComma.namespace == "/admin" && noComma.rawHeader == "0/admin")
        #expect(noComma.encodeText(version: .v4) == buf("0/admin"))
        var canonical = noComma
        canonical.rawHeader = nil
        #expect(canonical.encodeText(version: .v4) == buf("0/admin,"))

        let reply = try SocketIOPacket.decode(buf("0/admin,"), version: .v4)
        #expect(reply.rawHeader == nil && reply.namespace == "/admin")

        let error = try SocketIOPacket.decode(buf("4/admin,\"Not authorized\""), version: .v4)
        #expect(error.type == .connectError && error.json == buf("\"Not authorized\""))
        let rejected = try SocketIOPacket.decode(buf("4/admin,\"Unable to connect\""), version: .v4)
        #expect(rejected.namespace == "/admin")
    }

    @Test func builtPacketsEncode() {
        let packet = SocketIOPacket(
            type: .binaryEvent, namespace: "/admin", ackID: 12, attachmentCount: 1,
            json: buf("[\"up\",{\"_placeholder\":true,\"num\":0}]"))
        #expect(packet.encodeText(version: .v5) == buf("51-/admin,12[\"up\",{\"_placeholder\":true,\"num\":0}]"))
        #expect(SocketIOPacket(type: .connect).encodeText(version: .v4) == buf("0"))
    }

    @Test(arguments: [
        ("", "empty Socket.IO packet", 0),
        ("7[]", "unknown Socket.IO packet type '7'", 0),
        ("x", "unknown Socket.IO packet type 'x'", 0),
        ("2", "EVENT payload must be a non-empty array", 1),
        ("2[]", "EVENT payload must be a non-empty array", 1),
        ("2{\"a\":1}", "EVENT payload must be a non-empty array", 1),
        ("2[null]", "EVENT name must be a string or a number", 1),
        ("2[\"connect\"]", "EVENT uses the reserved event name \"connect\"", 1),
        ("2[\"disconnecting\",1]", "EVENT uses the reserved event name \"disconnecting\"", 1),
        ("5-[\"newListener\"]", "BINARY_EVENT needs an attachment count followed by '-'", 1),
        ("51[\"x\"]", "BINARY_EVENT needs an attachment count followed by '-'", 1),
        ("21a[\"x\"]", "invalid JSON: unexpected byte 0x61 where a JSON value should start", 2),
        ("2abc", "invalid JSON: unexpected byte 0x61 where a JSON value should start", 1),
        ("2[\"x\",]", "invalid JSON: unexpected byte 0x5d where a JSON value should start", 6),
        ("2[\"x\"]garbage", "invalid JSON: unexpected bytes after the JSON value", 6),
        ("3{}", "ACK payload must be an array", 1),
        ("3", "ACK payload must be an array", 1),
        ("0[]", "CONNECT payload must be an object or absent", 1),
        ("1{}", "DISCONNECT carries no payload", 1),
        ("4", "CONNECT_ERROR payload must be a string or an object", 1),
        ("4[1]", "CONNECT_ERROR payload must be a string or an object", 1),
        ("299999999999999999999[\"x\"]", "ack id does not fit in 64 bits", 1),
    ])
    func invalidPackets(wire: String, reason: String, offset: Int) {
        #expect(throws: WireError(reason, at: offset)) { try SocketIOPacket.decode(buf(wire), version: .v5) }
    }

    @Test func invalidUTF8InJSON() {
        var text = buf("2[\"a")
        text.writeBytes([0xC3, 0x28])
        text.writeString("\"]")
        #expect(throws: WireError("invalid JSON: invalid UTF-8 sequence", at: 4)) {
            try SocketIOPacket.decode(text, version: .v5)
        }
    }

    @Test func reservedNameCheckSeesEscapes() {
        #expect(throws: WireError.self) { try SocketIOPacket.decode(buf("2[\"conn\\u0065ct\"]"), version: .v5) }
        let ok = try? SocketIOPacket.decode(buf("2[\"\\u00e9v\\ud83d\\ude00\\n\"]"), version: .v5)
        #expect(ok?.eventName == "év😀\n")
    }

    /// The check goes by length before it compares: every reserved name is refused, and names of
    /// the same lengths that are not reserved pass.
    @Test func everyReservedNameIsRefusedAndItsNeighboursAreNot() throws {
        for name in SocketIOPacket.reservedEventNames {
            #expect(throws: WireError.self) { try SocketIOPacket.decode(buf("2[\"\(name)\"]"), version: .v5) }
        }
        for name in ["message", "connectx", "disconnectz", "newlistener", "connect-error", "removelistener"] {
            #expect(try SocketIOPacket.decode(buf("2[\"\(name)\"]"), version: .v5).eventName == name)
        }
    }
}

@Suite struct JSONScannerTests {
    @Test(arguments: [
        "0", "-0.5e+10", "12.25", "true", "false", "null", "\"\"", "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u12aF\"", "[]", "{}",
        " [1, {\"a\": [null, {\"b\": \"€😀\"}]}] ", "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
    ])
    func valid(json: String) throws {
        _ = try JSONScanner.scan(buf(json))
    }

    @Test(arguments: [
        "", " ", "01", "-", "1.", "1e", ".5", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12G4\"", "[1 2]", "{\"a\" 1}",
        "{a:1}", "{\"a\":1,}", "[1,]", "\"a\nb\"", "1 2", "[", "{", "NaN", "'a'",
    ])
    func invalid(json: String) {
        #expect(throws: WireError.self) { try JSONScanner.scan(buf(json)) }
    }

    @Test func depthCap() throws {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: WireError("JSON nested deeper than 128", at: 128)) { try JSONScanner.scan(buf(deep)) }
        _ = try JSONScanner.scan(buf(deep), maxDepth: 300)
    }

    @Test func resultDescribesTheValue() throws {
        let result = try JSONScanner.scan(buf(" [\"ev\",1] "))
        #expect(result == JSONScanner.Result(kind: .array, firstElementKind: .string, firstElementString: "ev", end: 9))
    }

    @Test(arguments: [
        ("[\"ev\",1]", true), ("{\"a\": [1, 2]}", true), ("\"a b\"", true), (" [1]", false), ("[1] ", false),
        ("[1,\n2]", false), ("[1,\r2]", false), ("\t1", false),
    ])
    func compactMeansEmbeddableOnOneLine(json: String, compact: Bool) throws {
        #expect(try JSONScanner.scan(buf(json)).isCompact == compact)
    }

    /// Strings are scanned eight bytes at a time: every byte value, at every position of a word,
    /// must still be judged as the byte-by-byte rules say.
    @Test func everyByteAtEveryPositionOfALongString() {
        for position in 0..<17 {
            for byte in UInt8.min...UInt8.max {
                var json = buf("\"")
                json.writeRepeatingByte(UInt8(ascii: "a"), count: position)
                json.writeInteger(byte)
                json.writeRepeatingByte(UInt8(ascii: "a"), count: 20 - position)
                json.writeString("\"")
                let plain = byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
                let scanned = (try? JSONScanner.scan(json)) != nil
                #expect(scanned == plain, "byte 0x\(String(byte, radix: 16)) at \(position)")
            }
        }
    }

    @Test func firstStringIsDecodedOnlyWhenAsked() throws {
        #expect(try JSONScanner.scan(buf("[\"a\\nb\",1]")).firstElementString == "a\nb")
        let skipped = try JSONScanner.scan(buf("[\"a\\nb\",1]"), decodingFirstString: false)
        #expect(skipped.firstElementString == nil && skipped.firstElementKind == .string)
    }

    @Test func rejectsOverlongAndSurrogateUTF8() {
        for sequence: [UInt8] in [[0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            var json = buf("\"")
            json.writeBytes(sequence)
            json.writeString("\"")
            #expect(throws: WireError.self) { try JSONScanner.scan(json) }
        }
    }
}

@Suite struct SocketIOBinaryAssemblerTests {
    @Test func joinsAttachments() throws {
        var assembler = SocketIOBinaryAssembler()
        let event = try SocketIOPacket.decode(buf("52-[\"b\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"), version: .v5)
        #expect(assembler.receive(event) == .waiting)
        #expect(assembler.pending == event)
        #expect(assembler.receiveAttachment(bytes([1, 2, 3, 4])) == .waiting)
        var joined = event
        joined.attachments = [bytes([1, 2, 3, 4]), bytes([0xFF])]
        #expect(assembler.receiveAttachment(bytes([0xFF])) == .complete(joined))
        #expect(assembler.pending == nil)
        #expect(assembler.receiveAttachment(bytes([9])) == .unexpectedAttachment(bytes([9])))
        let plain = SocketIOPacket(type: .event, json: buf("[\"x\"]"), eventName: "x")
        #expect(assembler.receive(plain) == .complete(plain))
        let none = SocketIOPacket(type: .binaryAck, ackID: 1, attachmentCount: 0, json: buf("[]"))
        #expect(assembler.receive(none) == .complete(none))
    }

    @Test func abandonsIncompletePackets() {
        var assembler = SocketIOBinaryAssembler()
        let first = SocketIOPacket(type: .binaryEvent, attachmentCount: 2, json: buf("[\"a\"]"), eventName: "a")
        let second = SocketIOPacket(type: .binaryAck, ackID: 3, attachmentCount: 1, json: buf("[]"))
        let plain = SocketIOPacket(type: .disconnect)
        #expect(assembler.receive(first) == .waiting)
        var partial = first
        partial.attachments = [bytes([1])]
        #expect(assembler.receiveAttachment(bytes([1])) == .waiting)
        #expect(assembler.receive(second) == .abandoned(partial, then: .waiting))
        #expect(assembler.receive(plain) == .abandoned(second, then: .complete(plain)))
        #expect(assembler.pending == nil)
    }

    @Test func holdsAttachmentsUpToItsLimitThenDropsTheRestOfThePacket() {
        #expect(SocketIOBinaryAssembler().maxAttachmentBytes == 16 << 20)
        var assembler = SocketIOBinaryAssembler(maxAttachmentBytes: 5)
        let big = SocketIOPacket(type: .binaryEvent, attachmentCount: 4, json: buf("[\"big\"]"), eventName: "big")
        #expect(assembler.receive(big) == .waiting)
        #expect(assembler.receiveAttachment(bytes([1, 2, 3])) == .waiting)
        #expect(assembler.receiveAttachment(bytes([4, 5])) == .waiting)  // exactly the limit is held
        var held = big
        held.attachments = [bytes([1, 2, 3]), bytes([4, 5])]
        #expect(assembler.receiveAttachment(bytes([6])) == .overLimit(held, limit: 5))
        #expect(assembler.pending == nil && !assembler.isIdle)
        // The fourth attachment the packet announced is dropped, a fifth binary message is stray.
        #expect(assembler.receiveAttachment(bytes([7])) == .dropped)
        #expect(assembler.isIdle)
        #expect(assembler.receiveAttachment(bytes([8])) == .unexpectedAttachment(bytes([8])))
    }

    @Test func aNewPacketEndsTheDroppingAndStartsItsOwnCount() {
        var assembler = SocketIOBinaryAssembler(maxAttachmentBytes: 2)
        let big = SocketIOPacket(type: .binaryEvent, attachmentCount: 3, json: buf("[\"big\"]"), eventName: "big")
        let small = SocketIOPacket(type: .binaryAck, ackID: 1, attachmentCount: 1, json: buf("[]"))
        #expect(assembler.receive(big) == .waiting)
        #expect(assembler.receiveAttachment(bytes([1, 2, 3])) == .overLimit(big, limit: 2))
        #expect(assembler.receive(small) == .waiting)
        #expect(!assembler.isIdle)
        var done = small
        done.attachments = [bytes([9, 9])]
        #expect(assembler.receiveAttachment(bytes([9, 9])) == .complete(done))
        #expect(assembler.isIdle)
        #expect(assembler.receiveAttachment(bytes([1])) == .unexpectedAttachment(bytes([1])))
    }
}

@Suite struct SocketIOPacketCompactJSONTests {
    @Test func decodeTellsWhetherTheJSONIsCompact() throws {
        #expect(try SocketIOPacket.decode(buf("21[\"echo\",{\"k\":1}]"), version: .v5).jsonIsCompact)
        #expect(try !SocketIOPacket.decode(buf("21[\"echo\",\n1]"), version: .v5).jsonIsCompact)
        #expect(try !SocketIOPacket.decode(buf("1/admin,"), version: .v5).jsonIsCompact)
    }

    @Test func settingTheJSONForgetsItWasCompactAndEqualityIgnoresIt() throws {
        var packet = try SocketIOPacket.decode(buf("3/admin,1[7]"), version: .v5)
        let plain = SocketIOPacket(type: .ack, namespace: "/admin", ackID: 1, json: buf("[7]"))
        #expect(packet.jsonIsCompact && !plain.jsonIsCompact)
        #expect(packet == plain && packet.hashValue == plain.hashValue)
        packet.json = buf("[\n8]")
        #expect(!packet.jsonIsCompact)
    }
}
