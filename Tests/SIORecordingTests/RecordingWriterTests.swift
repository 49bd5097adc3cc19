import Foundation
import NIOCore
import SIORecording
import Synchronization
import Testing

@Suite struct RecordingWriterTests {
    @Test func writesAReadableRecording() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.jsonl.gz")
        let records = sampleRecords()
        try writeRecording(path, records)
        let (reader, read) = try readAll(path)
        #expect(reader.header == sampleHeader)
        #expect(read == records)
        #expect(reader.damage == nil)
        #expect(reader.endRecordCount == records.count)
    }

    @Test func systemZcatAndPythonReadIt() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("b.jsonl.gz")
        let records = sampleRecords()
        try writeRecording(path, records, perMember: 4)
        let (status, output) = try run("/bin/sh", ["-c", "zcat '\(path)'"])
        #expect(status == 0)
        let text = String(decoding: output, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == records.count + 3)  // header, records, end, final empty
        #expect(lines.last == "")
        #expect(lines[0].hasPrefix(#"{"format":"siotape","version":1,"#))
        #expect(lines[lines.count - 2] == "{\"t\":\(records.last!.time),\"k\":\"end\",\"records\":\(records.count)}")
        let check = """
            import sys, json
            n = 0
            for line in sys.stdin.buffer.read().split(b"\\n"):
                if line:
                    json.loads(line)
                    n += 1
            print(n)
            """
        let script = dir.file("check.py")
        try check.write(toFile: script, atomically: true, encoding: .utf8)
        let (pyStatus, pyOut) = try run("/bin/sh", ["-c", "zcat '\(path)' | python3 '\(script)'"])
        #expect(pyStatus == 0)
        #expect(String(decoding: pyOut, as: UTF8.self) == "\(records.count + 2)\n")
    }

    @Test func createsMode0600AndRefusesToOverwrite() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("c.jsonl.gz")
        try writeRecording(path, [])
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let sizeBefore = info.st_size
        do {
            _ = try RecordingWriter(path: path, header: sampleHeader)
            Issue.record("overwrote an existing file")
        } catch {
            #expect(error.code == .exists)
            #expect(error.description.contains("exists"))
        }
        #expect(stat(path, &info) == 0 && info.st_size == sizeBefore)
    }

    @Test func flushesWhenTheOldestRecordIsDue() throws {
        let dir = TemporaryDirectory()
        let clock = StepClock()
        let writer = try RecordingWriter(
            path: dir.file("d.jsonl.gz"),
            header: sampleHeader,
            configuration: .init(flushInterval: .seconds(1), backgroundFlushing: false),
            clock: clock
        )
        #expect(writer.statistics.members == 1)  // the header, at once
        writer.append(sampleRecords()[0])
        #expect(writer.flushIfDue() == false)
        clock.advance(by: .milliseconds(700))
        writer.append(sampleRecords()[1])
        #expect(writer.flushIfDue() == false)
        clock.advance(by: .milliseconds(50))
        #expect(writer.flushIfDue() == true)
        #expect(writer.statistics.members == 2)
        #expect(writer.statistics.pendingBytes == 0)
        #expect(writer.flushIfDue() == false)
        try writer.close()
        #expect(writer.statistics.records == 2)
    }

    @Test func flushesWhenTheThresholdIsReached() throws {
        let dir = TemporaryDirectory()
        let writer = try RecordingWriter(
            path: dir.file("e.jsonl.gz"),
            header: sampleHeader,
            configuration: .init(flushThreshold: 1000, backgroundFlushing: false),
            clock: StepClock()
        )
        let record = sampleRecords()[12]
        while writer.statistics.pendingBytes < 1000 {
            #expect(writer.flushIfDue() == false)
            writer.append(record)
        }
        #expect(writer.flushIfDue() == true)
        try writer.close()
    }

    @Test func storageFailureIsReportedOnceAndNeverCrashes() throws {
        let fd = open("/dev/full", O_WRONLY)
        try #require(fd >= 0)
        let reports = Mutex<[RecordingWriteError]>([])
        let writer = try RecordingWriter(
            fileDescriptor: fd,
            header: sampleHeader,
            configuration: .init(backgroundFlushing: false),
            clock: ContinuousClock(),
            onFailure: { error in reports.withLock { $0.append(error) } }
        )
        for record in sampleRecords() {
            writer.append(record)
            writer.flush()
        }
        #expect(reports.withLock { $0.count } == 1)
        #expect(reports.withLock { $0.first?.code } == .writeFailed)
        #expect(writer.failure?.description.contains("No space left") == true)
        #expect(writer.statistics.droppedRecords == sampleRecords().count)
        #expect(throws: RecordingWriteError.self) { try writer.close() }
        #expect(reports.withLock { $0.count } == 1)
    }

    @Test func deletedFileIsReported() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("f.jsonl.gz")
        let writer = try RecordingWriter(
            path: path,
            header: sampleHeader,
            configuration: .init(backgroundFlushing: false)
        )
        unlink(path)
        writer.append(sampleRecords()[0])
        writer.flush()
        #expect(writer.failure?.code == .deleted)
        #expect(throws: RecordingWriteError.self) { try writer.close() }
    }

    @Test func memoryStaysBoundedWithTheBackgroundThread() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("g.jsonl.gz")
        let threshold = 64 * 1024
        let cap = 1024 * 1024
        let writer = try RecordingWriter(
            path: path,
            header: sampleHeader,
            configuration: .init(flushThreshold: threshold, maxPendingBytes: cap)
        )
        let records = sampleRecords()
        for i in 0..<200_000 {
            var record = records[i % records.count]
            record.time = Int64(i)
            writer.append(record)
        }
        try writer.close()
        let stats = writer.statistics
        #expect(stats.records + stats.droppedRecords == 200_000)
        // The cap holds whatever the speed of the disk; one record may overshoot it.
        #expect(stats.peakPendingBytes <= cap + 4096)
        #expect(stats.peakPendingCapacity <= 2 * cap + 8192)
        let (reader, read) = try readAll(path)
        #expect(reader.damage == nil)
        #expect(read.count == stats.records)
        #expect(reader.endRecordCount == stats.records)
    }

    /// A backlog (the disk or the CPU fell behind) grows the buffers; once it is written they are
    /// given back, so memory returns to its level before the backlog.
    @Test func buffersGrownByABacklogAreGivenBack() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("b.jsonl.gz")
        let threshold = 16 * 1024
        let writer = try RecordingWriter(
            path: path,
            header: sampleHeader,
            configuration: .init(flushThreshold: threshold, maxPendingBytes: 64 << 20, backgroundFlushing: false)
        )
        let records = sampleRecords()
        func append(_ count: Int) {
            for i in 0..<count {
                var record = records[i % records.count]
                record.time = Int64(i)
                writer.append(record)
            }
        }
        append(100)
        writer.flush()
        let before = writer.statistics.heldBufferBytes
        append(50_000)
        #expect(writer.statistics.pendingBytes > 4 << 20)
        writer.flush()
        append(100)
        writer.flush()
        let after = writer.statistics.heldBufferBytes
        #expect(after <= max(before, 1 << 20) * 3)
        try writer.close()
        let (reader, read) = try readAll(path)
        #expect(reader.damage == nil)
        #expect(read.count == 50_200)
    }

    /// Lines written in place (the capture's fast path) read back as the records they encode,
    /// interleaved with appended records in order; past the cap and after close they are counted as
    /// dropped, never buffered.
    @Test func linesWrittenInPlaceAreRecordsAndDroppedLikeThem() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("l.jsonl.gz")
        let writer = try RecordingWriter(
            path: path, header: sampleHeader, configuration: .init(maxPendingBytes: 50_000, backgroundFlushing: false),
            clock: StepClock())
        let records = sampleRecords()
        let encoder = RecordEncoder()
        for (index, record) in records.enumerated() {
            if index % 2 == 0 {
                writer.append(record)
            } else {
                writer.appendLines { pending in
                    encoder.encode(record, into: &pending)
                    return (1, record.time)
                }
            }
        }
        #expect(writer.statistics.records == records.count)
        var written = 0
        while writer.statistics.pendingBytes < 50_000 {
            writer.appendLines { pending in
                encoder.encode(records[0], into: &pending)
                return (1, records[0].time)
            }
            written += 1
        }
        writer.appendLines { pending in
            encoder.encode(records[0], into: &pending)
            encoder.encode(records[1], into: &pending)
            return (2, records[1].time)
        }
        #expect(writer.statistics.droppedRecords == 2)
        try writer.close()
        writer.appendLines { pending in
            encoder.encode(records[0], into: &pending)
            return (1, records[0].time)
        }
        #expect(writer.statistics.droppedRecords == 3)
        let (reader, read) = try readAll(path)
        #expect(Array(read.prefix(records.count)) == records)
        #expect(read.count == records.count + written)
        #expect(reader.endRecordCount == records.count + written)
    }

    @Test func recordsBeyondTheCapAreDroppedNotBuffered() throws {
        let dir = TemporaryDirectory()
        let writer = try RecordingWriter(
            path: dir.file("h.jsonl.gz"),
            header: sampleHeader,
            configuration: .init(maxPendingBytes: 100_000, backgroundFlushing: false),
            clock: StepClock()
        )
        let record = sampleRecords()[12]
        for _ in 0..<200_000 { writer.append(record) }
        let stats = writer.statistics
        #expect(stats.pendingBytes < 100_000 + 1000)
        #expect(stats.droppedRecords > 190_000)
        #expect(stats.records + stats.droppedRecords == 200_000)
        try writer.close()
        #expect(writer.statistics.compressedBytes > 0)
        #expect(writer.statistics.uncompressedBytes > writer.statistics.compressedBytes)
    }

    @Test func concurrentAppendsAreAllWritten() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("i.jsonl.gz")
        let writer = try RecordingWriter(
            path: path, header: sampleHeader, configuration: .init(flushThreshold: 16 * 1024))
        let records = sampleRecords()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for i in 0..<5_000 {
                var record = records[i % records.count]
                record.time = Int64(thread * 1_000_000 + i)
                writer.append(record)
            }
        }
        try writer.close()
        #expect(writer.statistics.records == 20_000)
        #expect(writer.statistics.droppedRecords == 0)
        let (reader, read) = try readAll(path)
        #expect(reader.damage == nil)
        #expect(read.count == 20_000)
        // Each thread's records stay in the order it appended them.
        for thread in 0..<4 {
            let times = read.map(\.time).filter { $0 / 1_000_000 == Int64(thread) }
            #expect(times == times.sorted())
            #expect(times.count == 5_000)
        }
    }
}
