import NIOCore
import SIORecording

/// Reads several recordings as one stream ordered by wall-clock time (each recording's `wall_us`
/// + `t`), line by line, with each line's fields found once. With one recording it is a plain
/// sequential read.
///
/// `validating`: for readers that decode or format nearly every line they index (`inspect`'s text
/// and HAR output without filters), lines are parsed with the decoder's strict scan instead of
/// the unchecked one, so the one parse serves both. A line that scan rejects, or whose ranges the
/// unchecked scan would find otherwise (`RecordLine.matchesUncheckedScan`), is parsed again
/// unchecked, and indexed as it is without `validating`.
///
/// A value: `Inspector.run` keeps one in its local state, so reading a line costs no exclusivity
/// check at run time. `RecordingMerger` holds one for those that share it.
package struct MergedLines {
    /// One recording: what does not change while it is read.
    package final class Source {
        package let path: String
        package let reader: RecordingReader
        let anchor: Int64
        let fields = RecordLine()

        init(path: String, reader: RecordingReader) {
            self.path = path
            self.reader = reader
            self.anchor = reader.header.startedAtMicros
        }
    }

    /// A source's next line, not yet consumed, and its wall-clock time.
    struct Head {
        var line: ByteBuffer?
        var wall: Int64 = 0
        /// Whether `line`'s fields were found by the validating scan.
        var validated = false
        var done = false
    }

    package let sources: [Source]
    /// Per source (same index): what changes with every line.
    private var heads: [Head]
    /// The earliest start of the recordings, µs since the epoch: time 0 of the merged stream.
    package let start: Int64
    /// Set when `next()` returned `nil` because a followed recording has no more data yet.
    package private(set) var isWaiting = false
    /// See the type's description.
    package var validating = false

    package init(readers: [(path: String, reader: RecordingReader)]) {
        self.sources = readers.map { Source(path: $0.path, reader: $0.reader) }
        self.heads = Array(repeating: Head(), count: readers.count)
        self.start = readers.map(\.reader.header.startedAtMicros).min() ?? 0
    }

    package var bytesRead: Int { self.sources.reduce(0) { $0 + $1.reader.bytesRead } }
    package var totalBytes: Int { self.sources.reduce(0) { $0 + $1.reader.fileSize } }
    package var recordsRead: Int { self.sources.reduce(0) { $0 + $1.reader.recordsRead } }

    /// The index of the source holding the next line, its line and fields; `nil` at the end.
    package mutating func next() throws -> Int? {
        var waiting = false
        var best = -1
        var bestWall = Int64.max
        for i in self.sources.indices {
            guard let wall = try Self.fill(self.sources[i], &self.heads[i], self.validating, waiting: &waiting) else {
                if waiting { break }
                continue
            }
            if best < 0 || wall < bestWall {
                best = i
                bestWall = wall
            }
        }
        self.isWaiting = waiting
        return waiting || best < 0 ? nil : best
    }

    /// The line of `source` returned by `next()`, its fields, wall-clock time and whether the
    /// fields were found by the validating scan; the next call reads on.
    package mutating func take(_ index: Int) -> (line: ByteBuffer, fields: RecordLine, wall: Int64, validated: Bool) {
        let line = self.heads[index].line!
        self.heads[index].line = nil
        return (line, self.sources[index].fields, self.heads[index].wall, self.heads[index].validated)
    }

    /// Reads the next line of `source` into `head` unless it holds one; returns its wall-clock
    /// time, `nil` when the source is done or (`waiting`) has no more data yet.
    private static func fill(
        _ source: Source, _ head: inout Head, _ validating: Bool, waiting: inout Bool
    ) throws -> Int64? {
        if head.line != nil { return head.wall }
        if head.done { return nil }
        let reader = source.reader
        while let line = try reader.nextRecordLine() {
            let parsed = line.withUnsafeReadableBytes { bytes -> RecordLine.Malformed? in
                head.validated =
                    validating && (try? source.fields.parse(bytes, validating: true)) != nil
                    && source.fields.matchesUncheckedScan
                if head.validated {
                    head.wall = source.anchor + (source.fields.int(.t, bytes) ?? 0)
                    return nil
                }
                do {
                    try source.fields.parse(bytes)
                    head.wall = source.anchor + (source.fields.int(.t, bytes) ?? 0)
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
            head.line = line
            return head.wall
        }
        if reader.isWaiting {
            waiting = true
        } else {
            head.done = true
        }
        return nil
    }
}
