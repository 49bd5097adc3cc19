import Foundation
import NIOCore
import SIORecording
import Testing

/// Inflating on a background thread (`Options.inflateInBackground`) returns exactly what reading
/// on the caller's thread does: the same records, damages (kind, offset, records read, reason),
/// counts and end state, for intact and damaged files, with and without resynchronising.
@Suite struct PipelinedReadingTests {
    /// Everything a caller of the reader can observe at the end of a read.
    struct Outcome: Equatable, CustomStringConvertible {
        var records: [Record] = []
        var lines: [String] = []
        var damages: [RecordingDamage] = []
        var moreDamages = 0
        var recordsRead = 0
        var endRecordCount: Int?
        var bytesRead = 0
        var isFinished = false
        var openError: String?

        var description: String {
            "\(self.records.count) records, \(self.lines.count) lines, damages \(self.damages), "
                + "recordsRead \(self.recordsRead), end \(String(describing: self.endRecordCount)), "
                + "bytesRead \(self.bytesRead), error \(self.openError ?? "-")"
        }
    }

    /// Reads `path` with `next()` or, with `invalidEvery`, with `nextRecordLine()` reporting every
    /// `invalidEvery`-th line invalid.
    func read(_ path: String, resynchronize: Bool, background: Bool, invalidEvery: Int? = nil) throws -> Outcome {
        var outcome = Outcome()
        let reader: RecordingReader
        do {
            reader = try RecordingReader(
                path: path,
                options: .init(resynchronize: resynchronize, inflateInBackground: background)
            )
        } catch let error as RecordingReadError {
            outcome.openError = error.description
            return outcome
        }
        if let invalidEvery {
            var count = 0
            while let line = try reader.nextRecordLine() {
                count += 1
                outcome.lines.append(String(buffer: line))
                if count % invalidEvery == 0 { reader.reportInvalidLine("test \(count)") }
            }
        } else {
            while let record = try reader.next() { outcome.records.append(record) }
        }
        outcome.damages = reader.damages
        outcome.moreDamages = reader.moreDamages
        outcome.recordsRead = reader.recordsRead
        outcome.endRecordCount = reader.endRecordCount
        outcome.bytesRead = reader.bytesRead
        outcome.isFinished = reader.isFinished
        return outcome
    }

    func expectSameReads(_ path: String, _ what: String, invalidEvery: Int? = nil) throws {
        for resynchronize in [false, true] {
            let sequential = try self.read(path, resynchronize: resynchronize, background: false, invalidEvery: invalidEvery)
            let pipelined = try self.read(path, resynchronize: resynchronize, background: true, invalidEvery: invalidEvery)
            #expect(pipelined == sequential, "\(what), resynchronize \(resynchronize)")
        }
    }

    @Test func intactDamagedAndCutFilesReadTheSame() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("r.jsonl.gz")
        try writeRecording(path, sampleRecords() + sampleRecords(), perMember: 2)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try self.expectSameReads(path, "intact")
        try self.expectSameReads(path, "lines, some reported invalid", invalidEvery: 5)
        let damaged = dir.file("d.jsonl.gz")
        for length in stride(from: 0, to: bytes.count, by: 7) {
            try bytes.prefix(length).write(to: URL(fileURLWithPath: damaged))
            try self.expectSameReads(damaged, "cut at \(length)")
        }
        for position in stride(from: 0, to: bytes.count, by: 5) {
            var flipped = bytes
            flipped[position] ^= 0xFF
            try flipped.write(to: URL(fileURLWithPath: damaged))
            try self.expectSameReads(damaged, "flip at \(position)")
        }
        try (bytes + Data(repeating: 0x1F, count: 50) + bytes.prefix(200)).write(to: URL(fileURLWithPath: damaged))
        try self.expectSameReads(damaged, "garbage and a cut copy after the end")
    }

    @Test func aMemberLargerThanTheHoldBackLimitReadsTheSame() throws {
        // One member of ~9 MiB of text (released before its CRC is checked), then a bad line.
        let dir = TemporaryDirectory()
        let path = dir.file("big.jsonl")
        let encoder = RecordEncoder()
        var text = ByteBuffer()
        encoder.encode(sampleHeader, into: &text)
        var body = ByteBuffer()
        for record in sampleRecords() { encoder.encode(record, into: &body) }
        while text.readableBytes < 9 * 1024 * 1024 { text.writeBytes(body.readableBytesView) }
        text.writeString("{\"t\":1,\"k\":\"upgrade\",\"sid\"\n")
        text.writeBytes(body.readableBytesView)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.readableBytesView))
        let (status, _) = try run("/bin/sh", ["-c", "gzip -1 -c '\(path)' > '\(path).gz'"])
        #expect(status == 0)
        try self.expectSameReads(path + ".gz", "one big member")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path + ".gz"))
        bytes[bytes.count - 6] ^= 0xFF  // the CRC
        try bytes.write(to: URL(fileURLWithPath: path + ".gz"))
        try self.expectSameReads(path + ".gz", "one big member with a bad CRC")
    }
}
