import Foundation
import NIOCore
import SIORecording
import Testing

@Suite struct RecordingReaderTests {
    /// A recording with many members, and for each member its end offset and the records so far.
    func membered(_ dir: borrowing TemporaryDirectory) throws -> (path: String, records: [Record], ends: [(Int, Int)]) {
        let path = dir.file("m.jsonl.gz")
        let records = sampleRecords()
        let writer = try RecordingWriter(
            path: path,
            header: sampleHeader,
            configuration: .init(backgroundFlushing: false),
            clock: StepClock()
        )
        var ends = [(writer.statistics.compressedBytes, 0)]
        for (i, record) in records.enumerated() {
            writer.append(record)
            if i % 4 == 3 || i == records.count - 1 {
                writer.flush()
                ends.append((writer.statistics.compressedBytes, i + 1))
            }
        }
        try writer.close()
        ends.append((writer.statistics.compressedBytes, records.count))  // the end trailer's member
        return (path, records, ends)
    }

    @Test func truncationAtEveryOffset() throws {
        let dir = TemporaryDirectory()
        let (path, records, ends) = try self.membered(dir)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.count == ends.last!.0)
        let cut = dir.file("cut.jsonl.gz")
        for length in 0..<bytes.count {
            try bytes.prefix(length).write(to: URL(fileURLWithPath: cut))
            guard length >= ends[0].0 else {
                do {
                    _ = try RecordingReader(path: cut)
                    Issue.record("read a header cut at \(length)")
                } catch let error as RecordingReadError {
                    #expect(error.code == (length == 0 ? .empty : .damagedHeader))
                }
                continue
            }
            let (reader, read) = try readAll(cut)
            let complete = ends.last { $0.0 <= length }!
            #expect(read == Array(records.prefix(complete.1)), "cut at \(length)")
            let damage = try #require(reader.damage, "cut at \(length)")
            #expect(damage.kind == .truncated)
            #expect(damage.offset == complete.0, "cut at \(length)")
            #expect(damage.recordsRead == complete.1)
        }
    }

    @Test func flippedBytesAreCorruptionWithOffset() throws {
        let dir = TemporaryDirectory()
        let (path, records, ends) = try self.membered(dir)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let bad = dir.file("bad.jsonl.gz")
        for member in 1..<ends.count {
            let start = ends[member - 1].0
            let end = ends[member].0
            // Deflate data and the CRC trailer; the gzip header's mtime/OS bytes are not checksummed.
            for position in stride(from: start + 10, to: end, by: 3) {
                var damaged = bytes
                damaged[position] ^= 0xFF
                try damaged.write(to: URL(fileURLWithPath: bad))
                let (reader, read) = try readAll(bad)
                let damage = try #require(reader.damage, "flip at \(position)")
                #expect(damage.kind == .corrupt, "flip at \(position): \(damage)")
                #expect(damage.offset == start, "flip at \(position): \(damage)")
                #expect(read == Array(records.prefix(ends[member - 1].1)), "flip at \(position)")
            }
        }
    }

    @Test func garbageAfterTheLastMemberIsCorruption() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("g.jsonl.gz")
        try writeRecording(path, sampleRecords())
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0, count: 100))
        try handle.close()
        let (reader, read) = try readAll(path)
        #expect(read == sampleRecords())
        #expect(reader.endRecordCount == read.count)
        #expect(reader.damage?.kind == .corrupt)
        #expect(reader.damage?.offset == size)
    }

    @Test func missingEndTrailerIsTruncation() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("n.jsonl.gz")
        let writer = try RecordingWriter(
            path: path,
            header: sampleHeader,
            configuration: .init(backgroundFlushing: false)
        )
        for record in sampleRecords() { writer.append(record) }
        writer.flush()
        let size = writer.statistics.compressedBytes
        let (reader, read) = try readAll(path)  // the writer is still "running"
        #expect(read == sampleRecords())
        #expect(
            reader.damage
                == RecordingDamage(
                    kind: .truncated,
                    offset: size,
                    recordsRead: read.count,
                    reason: reader.damage?.reason ?? ""
                )
        )
        #expect(reader.damage?.reason.contains("no end trailer") == true)
        try writer.close()
    }

    @Test func emptyFileAndForeignFiles() throws {
        let dir = TemporaryDirectory()
        let empty = dir.file("empty")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let error = #expect(throws: RecordingReadError.self) { try RecordingReader(path: empty) }
        #expect(error?.code == .empty)
        let text = dir.file("text")
        _ = FileManager.default.createFile(atPath: text, contents: Data("hello\n".utf8))
        do {
            _ = try RecordingReader(path: text)
            Issue.record("read a text file")
        } catch let error as RecordingReadError {
            #expect(error.code == .notARecording)
        }
        let json = dir.file("json")
        _ = FileManager.default.createFile(atPath: json, contents: Data("{\"a\":1}\n".utf8))
        #expect(throws: RecordingReadError.self) { try RecordingReader(path: json) }
        #expect(throws: RecordingReadError.self) { try RecordingReader(path: dir.file("missing")) }
    }

    @Test func newerVersionIsRefusedWithAClearMessage() throws {
        let dir = TemporaryDirectory()
        let plain = dir.file("v2.jsonl")
        _ = FileManager.default.createFile(
            atPath: plain,
            contents: Data(#"{"format":"siotape","version":2,"wall_us":0,"tool":"siotape 9"}"#.utf8 + [0x0A])
        )
        let (status, _) = try run("/bin/sh", ["-c", "gzip -c '\(plain)' > '\(plain).gz'"])
        #expect(status == 0)
        do {
            _ = try RecordingReader(path: plain + ".gz")
            Issue.record("read a newer version")
        } catch let error as RecordingReadError {
            #expect(error.code == .newerVersion)
            #expect(
                error.description
                    == "this recording is format version 2; this build of siotape reads versions up to 1. Upgrade siotape to read it."
            )
        }
    }

    @Test func plainTextAndForeignGzipAreRead() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("p.jsonl")
        let encoder = RecordEncoder()
        var text = ByteBuffer()
        encoder.encode(sampleHeader, into: &text)
        for record in sampleRecords() { encoder.encode(record, into: &text) }
        text.writeString(#"{"t":1,"k":"from_the_future","x":1}"# + "\n")
        encoder.encodeEnd(time: 1, records: sampleRecords().count + 1, into: &text)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.readableBytesView))
        var (reader, read) = try readAll(path)
        #expect(read == sampleRecords())
        #expect(reader.damage == nil)
        #expect(reader.recordsRead == sampleRecords().count + 1)
        // One big member written by gzip(1), as if someone re-compressed the file.
        let (status, _) = try run("/bin/sh", ["-c", "gzip -9 -c '\(path)' > '\(path).gz'"])
        #expect(status == 0)
        (reader, read) = try readAll(path + ".gz")
        #expect(read == sampleRecords())
        #expect(reader.damage == nil)
    }

    @Test func aBadLineInPlainTextIsCorruption() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("bad.jsonl")
        let encoder = RecordEncoder()
        var text = ByteBuffer()
        encoder.encode(sampleHeader, into: &text)
        encoder.encode(sampleRecords()[0], into: &text)
        text.writeString("{\"t\":1,\"k\":\"upgrade\",\"sid\"\n")
        encoder.encode(sampleRecords()[1], into: &text)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.readableBytesView))
        let (reader, read) = try readAll(path)
        #expect(read == [sampleRecords()[0]])
        #expect(reader.damage?.kind == .corrupt)
        #expect(reader.damage?.reason.contains("line 3") == true)
    }
}
