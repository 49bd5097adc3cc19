import NIOCore
import SIORecording

/// Reads several recordings as one stream ordered by wall-clock time (each recording's `wall_us`
/// + `t`), line by line, with each line's fields found once. With one recording it is a plain
/// sequential read.
final class RecordingMerger {
    struct Source {
        let path: String
        let reader: RecordingReader
        var line: ByteBuffer?
        var fields = RecordLine()
        var wall: Int64 = 0
        var done = false
    }

    private(set) var sources: [Source]
    /// The earliest start of the recordings, µs since the epoch: time 0 of the merged stream.
    let start: Int64
    /// Set when `next()` returned `nil` because a followed recording has no more data yet.
    private(set) var isWaiting = false

    init(readers: [(path: String, reader: RecordingReader)]) {
        self.sources = readers.map { Source(path: $0.path, reader: $0.reader) }
        self.start = readers.map(\.reader.header.startedAtMicros).min() ?? 0
    }

    var bytesRead: Int { self.sources.reduce(0) { $0 + $1.reader.bytesRead } }
    var totalBytes: Int { self.sources.reduce(0) { $0 + $1.reader.fileSize } }
    var recordsRead: Int { self.sources.reduce(0) { $0 + $1.reader.recordsRead } }

    /// The index of the source holding the next line, its line and fields; `nil` at the end.
    func next() throws -> Int? {
        self.isWaiting = false
        var best = -1
        for i in self.sources.indices {
            if self.sources[i].line == nil && !self.sources[i].done {
                try self.fill(i)
                if self.sources[i].line == nil && !self.sources[i].done {
                    self.isWaiting = true
                    return nil
                }
            }
            guard self.sources[i].line != nil else { continue }
            if best < 0 || self.sources[i].wall < self.sources[best].wall { best = i }
        }
        return best < 0 ? nil : best
    }

    /// Hands the line of `source` returned by `next()` to `body` and lets the next call read on.
    func consume<T>(_ source: Int, _ body: (ByteBuffer, RecordLine, Int64) throws -> T) rethrows -> T {
        let line = self.sources[source].line!
        self.sources[source].line = nil
        return try body(line, self.sources[source].fields, self.sources[source].wall)
    }

    private func fill(_ i: Int) throws {
        let reader = self.sources[i].reader
        while let line = try reader.nextRecordLine() {
            let parsed = line.withUnsafeReadableBytes { bytes -> RecordLine.Malformed? in
                do {
                    try self.sources[i].fields.parse(bytes)
                    self.sources[i].wall = reader.header.startedAtMicros + (self.sources[i].fields.int(.t, bytes) ?? 0)
                    return nil
                } catch let error as RecordLine.Malformed {
                    return error
                } catch {
                    return RecordLine.Malformed(offset: 0, message: "\(error)")
                }
            }
            if let parsed {
                reader.reportInvalidLine("\(parsed)")
                continue
            }
            self.sources[i].line = line
            return
        }
        if !reader.isWaiting { self.sources[i].done = true }
    }
}
