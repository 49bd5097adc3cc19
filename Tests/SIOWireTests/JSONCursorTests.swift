import NIOCore
import SIOWire
import Testing

/// Runs `body` on a cursor over the UTF-8 of `text`.
@discardableResult
private func withCursor<T>(_ text: String, maxDepth: Int = 128, _ body: (inout JSONCursor) throws -> T) throws -> T {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBytes { raw in
        var cursor = JSONCursor(raw, maxDepth: maxDepth)
        return try body(&cursor)
    }
}

private func readString(_ text: String) throws -> String {
    try withCursor(text) { cursor throws in try cursor.readString() }
}

private func readInt64(_ text: String) throws -> Int64 {
    try withCursor(text) { cursor throws in try cursor.readInt64() }
}

/// The offset just past the value at the start of `text`, skipped strictly or not.
private func valueEnd(_ text: String, checked: Bool, maxDepth: Int = 128) throws -> Int {
    try withCursor(text, maxDepth: maxDepth) { cursor throws in
        if checked { try cursor.skipValue() } else { _ = try cursor.skipValueUnchecked() }
        return cursor.index
    }
}

private func isSingleValue(_ text: String, maxDepth: Int = 128) -> Bool {
    Array(text.utf8).withUnsafeBytes { JSONCursor.isSingleValue($0, maxDepth: maxDepth) }
}

@Suite struct JSONCursorTests {
    /// RFC 8259's grammar, and only it: what a strict JSON parser refuses is refused.
    @Test(arguments: [
        "01", "-01", "+1", "1.", ".5", "1e", "1e+", "--1", "-", "0x1", "Infinity", "NaN", "tRue", "nul",
        #""\x""#, #""\u12G4""#, #""\u12""#, "\"a\u{1}b\"", "\"a\tb\"", "\"a\nb\"", #"{"t":01}"#, "[1,]", "{\"a\":1,}",
        "{a:1}", "{'a':1}", "[1 2]", "\"abc", "\"\\", "",
    ])
    func refusesWhatIsNotJSON(text: String) {
        #expect(!isSingleValue(text), "\(text)")
    }

    @Test(arguments: [
        "0", "-0", "1.5", "-12.5e+3", "2E-2", #""\/\"\\\b\f\n\r\t\u00e9""#, #"{"t":1}"#, " [ ] ", "\"€😀\"",
        #""\ud800""#,
    ])
    func acceptsJSON(text: String) {
        #expect(isSingleValue(text), "\(text)")
    }

    /// Every proper prefix of a valid document is refused, at a position inside the input.
    @Test func truncatedInputIsRefusedEverywhere() throws {
        let text = #"{"a":[1,-2.5e3,"x\u00e9\n",true,false,null,{"b":{}}],"c":"€"}"#
        let bytes = Array(text.utf8)
        for length in 0..<bytes.count {
            let refused = bytes[0..<length].withUnsafeBytes { raw -> Bool in
                var cursor = JSONCursor(raw)
                do {
                    try cursor.skipValue()
                    return !cursor.atEnd
                } catch let error as WireError {
                    #expect(error.offset <= length)
                    return true
                } catch {
                    return false
                }
            }
            // "{...}" cut after a complete number prefix such as `1` is still refused: the object is open.
            #expect(refused, "cut at \(length)")
        }
    }

    @Test func depthIsBounded() throws {
        let deep = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect(isSingleValue(deep, maxDepth: 10))
        #expect(!isSingleValue(deep, maxDepth: 9))
        #expect(throws: WireError("JSON nested deeper than 9", at: 9)) { try valueEnd(deep, checked: true, maxDepth: 9) }
        // The unchecked skip has the same bound.
        #expect(throws: WireError.self) { try valueEnd(deep, checked: false, maxDepth: 9) }
    }

    @Test func stringsDecodeEscapesAndSurrogates() throws {
        #expect(try readString(#" "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00" "#) == "a\"\\/\u{8}\u{C}\n\r\té😀")
        // A lone surrogate cannot be a Swift string: U+FFFD, as JSON parsers do.
        #expect(try readString(#""x\ud800y""#) == "x\u{FFFD}y")
        #expect(try readString(#""\udc00""#) == "\u{FFFD}")
    }

    @Test(arguments: [
        ("0", Int64(0)), ("-0", 0), ("9223372036854775807", .max), ("-9223372036854775808", .min), (" 42", 42),
    ])
    func integersAreRead(text: String, value: Int64) throws {
        #expect(try readInt64(text) == value)
    }

    @Test(arguments: ["9223372036854775808", "-9223372036854775809", "1.5", "1e3", "\"1\"", "-", "true"])
    func whatIsNotAnInt64IsRefused(text: String) {
        #expect(throws: WireError.self) { try readInt64(text) }
    }

    @Test func membersAreWalkedWithoutBuildingValues() throws {
        let text = #"{ "k" : "v", "n":[1,{"x":"]"}], "e":"a\"b" }"#
        let found: [(String, String)] = try withCursor(text) { cursor throws in
            var members: [(String, String)] = []
            try cursor.expect(UInt8(ascii: "{"))
            repeat {
                let (key, _) = try cursor.memberKey()
                let start = cursor.index
                try cursor.skipValue()
                members.append((cursor.decodeString(key), String(decoding: cursor.bytes[start..<cursor.index], as: UTF8.self)))
            } while try cursor.continueContainer(closing: UInt8(ascii: "}"))
            return members
        }
        #expect(found.map(\.0) == ["k", "n", "e"])
        #expect(found.map(\.1) == [#""v""#, #"[1,{"x":"]"}]"#, #""a\"b""#])
    }

    @Test func theUncheckedSkipFindsTheSameEnds() throws {
        for value in [#""a\"b""#, #"[1,{"x":"]"},"}"]"#, "12.5", "true", #"{"a":{"b":[]}}"#] {
            let strict = try valueEnd(value + ",", checked: true)
            let unchecked = try valueEnd(value + ",", checked: false)
            #expect(strict == value.utf8.count && unchecked == strict, "\(value)")
        }
        #expect(throws: WireError.self) { try valueEnd(#"[1,"]"#, checked: false) }
    }
}

@Suite struct JSONValueTests {
    @Test func parsesStrictlyOnTheCursor() throws {
        #expect(JSONValue(parsing: #"{"t":01}"#) == nil)
        #expect(JSONValue(parsing: #"{"t":1} x"#) == nil)
        let value = try #require(JSONValue(parsing: #" {"sid":"a\u0062","n":[1,2.5,true,null]} "#))
        #expect(value["sid"]?.stringValue == "ab")
        #expect(value["n"] == .array([.number("1"), .number("2.5"), .bool(true), .null]))
        #expect(value["missing"] == nil && JSONValue.string("x")["sid"] == nil)
    }
}

@Suite struct EngineIOHandshakeTests {
    @Test func readsEveryField() throws {
        let handshake = try #require(
            EngineIOHandshake(
                json: #"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
            ))
        #expect(
            handshake
                == EngineIOHandshake(
                    sid: "lv_VI97HAXpY6yYWAAAC", upgrades: ["websocket"], pingInterval: 25000, pingTimeout: 20000,
                    maxPayload: 1_000_000))
    }

    @Test func engineIOv3HasNoMaxPayload() throws {
        let handshake = try #require(
            EngineIOHandshake(json: ByteBuffer(string: #"{ "sid" : "x1", "upgrades" : [], "pingInterval" : 25000, "pingTimeout" : 5000 }"#)))
        #expect(handshake == EngineIOHandshake(sid: "x1", pingInterval: 25000, pingTimeout: 5000))
    }

    @Test func unknownMembersAreSkippedAndWrongTypesAreAbsent() throws {
        let handshake = try #require(
            EngineIOHandshake(json: #"{"extra":{"sid":"inner"},"sid":7,"pingInterval":"25000","upgrades":["websocket",3,"x"]}"#))
        #expect(handshake == EngineIOHandshake(sid: nil, upgrades: ["websocket", "x"]))
    }

    @Test(arguments: [#"{"sid":"a""#, #"{"sid":"a",}"#, #"["sid"]"#, #"{"sid":"a"} {}"#, #"{"pingInterval":01}"#, ""])
    func whatIsNotOneObjectIsNoHandshake(text: String) {
        #expect(EngineIOHandshake(json: text) == nil)
    }
}

@Suite struct JSONTokensTests {
    private func tokens(_ text: String) -> [(JSONTokens.Kind, String)] {
        Array(text.utf8).withUnsafeBytes { raw in
            var tokens = JSONTokens(raw)
            var out: [(JSONTokens.Kind, String)] = []
            while let (kind, range) = tokens.next() { out.append((kind, String(decoding: raw[range], as: UTF8.self))) }
            return out
        }
    }

    @Test func keysAreToldFromValues() {
        let found = self.tokens(#"{"a":"b","c":["d",{"e":1}]}"#).compactMap { kind, text -> String? in
            guard case .string(let key) = kind else { return nil }
            return (key ? "key " : "value ") + text
        }
        #expect(found == [#"key "a""#, #"value "b""#, #"key "c""#, #"value "d""#, #"key "e""#])
    }

    /// The maskers copy what they do not mask: the tokens must cover every byte, JSON or not.
    @Test(arguments: [#"{"a":1}"#, "not json at all", #"{"a":"unterminated"#, "\"\\", "{{]]\"x\\\"", "tru\"e\" : ,"])
    func tokensCoverEveryByte(text: String) {
        #expect(self.tokens(text).map(\.1).joined() == text)
    }
}
