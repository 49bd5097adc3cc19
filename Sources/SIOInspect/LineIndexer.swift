import SIORecording

/// A `LineIndex` shared by reference: the view's store and its API consult one for every line
/// and must not copy it each time.
public final class LineIndexer {
    /// Everything `index` changes, in one stored property: one exclusivity check per line.
    package private(set) var table = LineIndex()

    public init() {}

    package func eventBytes(_ id: Int) -> ArraySlice<UInt8> { self.table.eventBytes(id) }
    /// A session id or namespace as written in the line (JSON escapes kept).
    package func sessionBytes(_ id: Int) -> ArraySlice<UInt8> { self.table.sessionBytes(id) }
    package func namespaceBytes(_ id: Int) -> ArraySlice<UInt8> { self.table.namespaceBytes(id) }
    package var namespaceCount: Int { self.table.namespaceCount }

    public func sessionName(_ id: Int) -> String { self.table.sessionName(id) }
    public func namespaceName(_ id: Int) -> String { self.table.namespaceName(id) }
    public func eventName(_ id: Int) -> String { self.table.eventName(id) }
    public var eventCount: Int { self.table.eventCount }

    /// `wall`: the line's wall-clock time (the recording's `wall_us` + `t`); `sequence`: see `LineIndex.index`.
    public func index(_ line: RecordLine, _ bytes: UnsafeRawBufferPointer, wall: Int64, sequence: Int64 = -1) -> LineInfo {
        self.table.index(line, bytes, wall: wall, sequence: sequence)
    }
}
