import NIOCore
import SIORecording

/// A `MergedLines` shared by reference (the view reads recordings through one).
package final class RecordingMerger {
    package typealias Source = MergedLines.Source

    /// Everything `next` and `consume` change, in one stored property: one exclusivity check per access.
    private var lines: MergedLines

    package init(readers: [(path: String, reader: RecordingReader)]) {
        self.lines = MergedLines(readers: readers)
    }

    package var sources: [Source] { self.lines.sources }
    package var start: Int64 { self.lines.start }
    package var isWaiting: Bool { self.lines.isWaiting }
    package var bytesRead: Int { self.lines.bytesRead }
    package var totalBytes: Int { self.lines.totalBytes }
    package var recordsRead: Int { self.lines.recordsRead }

    /// The index of the source holding the next line, its line and fields; `nil` at the end.
    package func next() throws -> Int? { try self.lines.next() }

    /// Hands the line of `source` returned by `next()` to `body` and lets the next call read on.
    package func consume<T>(_ index: Int, _ body: (ByteBuffer, RecordLine, Int64) throws -> T) rethrows -> T {
        let (line, fields, wall, _) = self.lines.take(index)
        return try body(line, fields, wall)
    }
}
