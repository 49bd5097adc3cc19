import SIORecording
import Testing

@Suite struct RecordLineTests {
    func fields(_ text: String) throws -> [String: String] {
        let line = RecordLine()
        var result: [String: String] = [:]
        var text = text
        try text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            try line.parse(bytes)
            for field in RecordLine.Field.allCases {
                if let slice = line.slice(field, bytes) { result["\(field)"] = String(decoding: slice, as: UTF8.self) }
            }
        }
        return result
    }

    @Test func stringsWithEscapesShortAndLong() throws {
        let long = String(repeating: "x", count: 15) + "\\\\\\\"" + String(repeating: "y", count: 30) + "\\\\"
        let f = try fields("{\"t\":5,\"k\":\"sio\",\"event\":\"a\\\"b\",\"reason\":\"\(long)\",\"data\":[\"]\",{\"k\":\"}\"}],\"id\":3}")
        #expect(f["t"] == "5" && f["k"] == "sio" && f["event"] == "a\\\"b" && f["id"] == "3")
        #expect(f["reason"] == long)
        #expect(f["data"] == "[\"]\",{\"k\":\"}\"}]")
    }

    /// The scans go eight bytes at a time: every printable byte, at every position of a word,
    /// inside strings (escaped where JSON says so) and, with brackets, outside them.
    @Test func everyByteAtEveryPositionOfAWord() throws {
        for position in 0..<20 {
            for byte in UInt8(0x20)...0x7F {
                var content = String(repeating: "a", count: position)
                switch byte {
                case UInt8(ascii: "\""): content += "\\\""
                case UInt8(ascii: "\\"): content += "\\\\"
                default: content += String(UnicodeScalar(byte))
                }
                content += String(repeating: "b", count: 20 - position)
                let padding = String(repeating: "1,", count: position)
                let data = "[\"\(content)\",{\"k\":[\(padding)\"\(content)\",[]]}]"
                let f = try fields("{\"t\":1,\"reason\":\"\(content)\",\"data\":\(data),\"id\":3}")
                #expect(f["reason"] == content, "byte \(byte) at \(position)")
                #expect(f["data"] == data, "byte \(byte) at \(position)")
                #expect(f["id"] == "3", "byte \(byte) at \(position)")
            }
        }
    }

    @Test func nullIsAbsentAndUnknownKeysAreSkipped() throws {
        let f = try fields("{ \"t\" : 1 , \"sid\":null, \"future\":{\"a\":[1,2]}, \"k\":\"eio\" }")
        #expect(f == ["t": "1", "k": "eio"])
    }

    @Test func malformedLinesAreErrorsNotCrashes() {
        for bad in ["", "{", "[1]", "{\"t\":1", "{\"t\":\"abc}", "{\"t\":[1,2}", "{\"t\":1}x", "{\"t\" 1}", "{\"t\":}"] {
            #expect(throws: RecordLine.Malformed.self, "\(bad)") { try self.fields(bad) }
        }
    }
}
