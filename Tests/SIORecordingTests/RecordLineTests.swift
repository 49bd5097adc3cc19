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

    /// `inspect` indexes a line with the validating scan's ranges when it says they are the unchecked
    /// scan's: they must be, field for field.
    @Test func validatingScanTellsWhenItsRangesAreTheUncheckedOnes() throws {
        let values = ["1", "-2.5e3", "true", "false", "null", "\"s\"", "[1, \"]\"]", "{\"a\":null}"]
        for value in values {
            for after in ["", " ", "\t", "\r", " \t", "\t ", "\r\t"] {
                for field in ["t", "id", "future"] {
                    let line = "{\"k\":\"sio\",\"\(field)\":\(value)\(after),\"conn\":1}"
                    var text = line
                    try text.withUTF8 { utf8 in
                        let bytes = UnsafeRawBufferPointer(utf8)
                        let validated = RecordLine()
                        let unchecked = RecordLine()
                        try validated.parse(bytes, validating: true)
                        try unchecked.parse(bytes)
                        let same = RecordLine.Field.allCases.allSatisfy {
                            validated.range($0) == unchecked.range($0) && validated.isString($0) == unchecked.isString($0)
                        }
                        // Cleared for any such value, under an unknown key too (a reparse none needed).
                        let scalarThenControl = !value.hasPrefix("\"") && !value.hasPrefix("[") && !value.hasPrefix("{")
                            && (after.hasPrefix("\t") || after.hasPrefix("\r"))
                        #expect(validated.matchesUncheckedScan == !scalarThenControl, "\(line)")
                        if validated.matchesUncheckedScan { #expect(same, "\(line)") }
                        if field != "future" { #expect(same == !scalarThenControl, "\(line)") }
                    }
                }
            }
        }
    }

    @Test func malformedLinesAreErrorsNotCrashes() {
        for bad in ["", "{", "[1]", "{\"t\":1", "{\"t\":\"abc}", "{\"t\":[1,2}", "{\"t\":1}x", "{\"t\" 1}", "{\"t\":}"] {
            #expect(throws: RecordLine.Malformed.self, "\(bad)") { try self.fields(bad) }
        }
    }
}
