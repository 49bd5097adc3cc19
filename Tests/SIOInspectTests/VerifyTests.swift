import Foundation
import NIOCore
import SIOInspect
import SIORecording
import SIOWire
import Testing

@Suite struct VerifyTests {
    let dir = ScratchDirectory()

    /// The conversation in members of 3 records; the file offset where each member ends and the
    /// records written up to there.
    func membered() throws -> (path: String, ends: [(offset: Int, records: Int)]) {
        let path = self.dir.file("m.siotape.gz")
        let records = conversation()
        let writer = try RecordingWriter(path: path, header: testHeader, configuration: .init(backgroundFlushing: false))
        var ends = [(writer.statistics.compressedBytes, 0)]
        for (i, record) in records.enumerated() {
            writer.append(record)
            if i % 3 == 2 || i == records.count - 1 {
                writer.flush()
                ends.append((writer.statistics.compressedBytes, i + 1))
            }
        }
        try writer.close()
        ends.append((writer.statistics.compressedBytes, records.count))
        return (path, ends)
    }

    @Test func sampleRecordingsAreIntact() throws {
        for name in ["signalling", "org-notify", "chat-acks", "job-stream", "ns-chat"] {
            let report = Verifier.verify(path: sampleRecording(name))
            #expect(report.isIntact, "\(report.description)")
            #expect(report.description.contains("intact"))
            #expect(report.records > 50 && report.packets > 20 && report.sessions >= 1, "\(name)")
        }
        let signalling = Verifier.verify(path: sampleRecording("signalling"))
        #expect(signalling.sessions == 3)  // camera, viewer, other
    }

    @Test func truncatedAtEveryOffset() throws {
        let (path, ends) = try self.membered()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = self.dir.file("cut.siotape.gz")
        for length in ends[0].offset..<bytes.count {
            try bytes.prefix(length).write(to: URL(fileURLWithPath: cut))
            let report = Verifier.verify(path: cut)
            let complete = ends.last { $0.offset <= length }!
            #expect(!report.isIntact, "cut at \(length)")
            let damage = try #require(report.damages.first, "cut at \(length)")
            #expect(damage.kind == .truncated, "cut at \(length): \(damage)")
            #expect(report.damages.count == 1, "cut at \(length): \(report.description)")
            #expect(report.recordsBeforeDamage == complete.records, "cut at \(length)")
            #expect(report.records == complete.records)
            if length == complete.offset {
                #expect(damage.offset == length && damage.reason.hasPrefix("no end trailer"))
            } else {
                #expect(damage.offset == complete.offset && damage.reason.contains("ends inside the gzip member"))
            }
            #expect(report.description.contains("readable: \(complete.records) records"))
        }
    }

    @Test func flippedBytesAreFoundAndReadingGoesOn() throws {
        let (path, ends) = try self.membered()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let bad = self.dir.file("bad.siotape.gz")
        // Every member after the header's, every 5th byte of its deflate data and trailer.
        for member in 2..<(ends.count - 1) {
            let start = ends[member - 1].offset
            let lost = ends[member].records - ends[member - 1].records
            for position in stride(from: start + 10, to: ends[member].offset, by: 5) {
                var damaged = bytes
                damaged[position] ^= 0x55
                try damaged.write(to: URL(fileURLWithPath: bad))
                let report = Verifier.verify(path: bad)
                #expect(!report.isIntact)
                let damage = try #require(report.damages.first, "flip at \(position)")
                #expect(damage.kind == .corrupt && damage.offset == start, "flip at \(position): \(report.description)")
                #expect(report.recordsBeforeDamage == ends[member - 1].records)
                // Resynchronised at the next member: only the damaged member's records are lost.
                #expect(report.records == conversation().count - lost, "flip at \(position): \(report.description)")
                #expect(report.endRecordCount == conversation().count)
            }
        }
    }

    @Test func damageBeyondTheFirstIsReported() throws {
        let (path, ends) = try self.membered()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[ends[1].offset + 12] ^= 0xFF
        bytes[ends[3].offset + 12] ^= 0xFF
        let bad = self.dir.file("two.siotape.gz")
        try bytes.write(to: URL(fileURLWithPath: bad))
        let report = Verifier.verify(path: bad)
        #expect(report.damages.map(\.offset) == [ends[1].offset, ends[3].offset])
        #expect(report.damages.allSatisfy { $0.kind == .corrupt })
        #expect(report.description.contains("corrupt at byte \(ends[1].offset)"))
        #expect(report.description.contains("corrupt at byte \(ends[3].offset)"))
        // inspect shows what is readable and reports both places.
        let (_, outcome) = try inspect([bad]) { $0.format = .jsonl }
        #expect(outcome.damages.count == 2 && outcome.lostRecords)
    }

    @Test func emptyAndForeignFiles() throws {
        let empty = self.dir.file("empty.siotape.gz")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let report = Verifier.verify(path: empty)
        #expect(!report.isIntact && report.error?.code == .empty)
        #expect(report.description.contains("is empty"))
        let text = self.dir.file("notes.txt")
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: text))
        #expect(Verifier.verify(path: text).error?.code == .notARecording)
        let json = self.dir.file("other.jsonl")
        try Data("{\"a\":1}\n".utf8).write(to: URL(fileURLWithPath: json))
        #expect(Verifier.verify(path: json).description.contains("not a siotape recording"))
        #expect(Verifier.verify(path: self.dir.file("missing")).error?.code == .cannotOpen)
    }

    @Test func newerFormatVersionSaysSoClearly() throws {
        let path = self.dir.file("v2.siotape.gz")
        var header = testHeader
        header.version = 2
        try writeRecording(path, conversation(), header: header)
        let report = Verifier.verify(path: path)
        #expect(report.error?.code == .newerVersion)
        #expect(
            report.description.contains(
                "this recording is format version 2; this build of siotape reads versions up to 1. Upgrade siotape"
            )
        )
        #expect(throws: RecordingReadError.self) { try inspect([path]) }
    }

    @Test func killedRecorderIsTruncatedAndInspectShowsEverything() throws {
        let path = self.dir.file("killed.siotape.gz")
        try writeRecording(path, conversation(), close: false)
        let report = Verifier.verify(path: path)
        #expect(!report.isIntact && report.damages.first?.kind == .truncated)
        #expect(report.records == conversation().count && report.recordsBeforeDamage == conversation().count)
        let (output, outcome) = try inspect([path]) {
            $0.format = .jsonl
            $0.filter.engine = true
        }
        #expect(try jsonObjects(output).count == conversation().count)
        #expect(!outcome.lostRecords && outcome.damages.count == 1)
    }

    @Test func followReadsARecordingWhileItIsWritten() throws {
        let path = self.dir.file("live.siotape.gz")
        let records = conversation()
        let writer = try RecordingWriter(path: path, header: testHeader, configuration: .init(backgroundFlushing: false))
        let reader = try RecordingReader(path: path, options: .init(follow: true))
        #expect(try reader.next() == nil && reader.isWaiting)
        var read: [Record] = []
        for chunk in [records[0..<5], records[5..<6], records[6...]] {
            for record in chunk { writer.append(record) }
            writer.flush()
            while let record = try reader.next() { read.append(record) }
            #expect(reader.isWaiting && read == Array(records[..<chunk.endIndex]), "\(read.count) \(String(describing: reader.damage))")
        }
        try writer.close()
        #expect(try reader.next() == nil)
        #expect(!reader.isWaiting && reader.damage == nil && reader.endRecordCount == records.count)
    }
}
