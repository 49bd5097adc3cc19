import SIOInspect
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
