import SIORecording

/// Receives every record, in order per session. Called from many threads; must not block.
public protocol RecordSink: Sendable {
    /// Takes one record. Called while the capture holds its session lock, so it must return quickly.
    func receive(_ record: Record)

    /// Takes several records, in order: what one read of a connection produced. Sinks that take a
    /// lock per call take it once here.
    func receive(contentsOf records: [Record])

    /// The recording writer, when writing it is all this sink does with records (no live view, no
    /// other consumer): the capture then hands it the encoded lines of a WebSocket read instead
    /// of `Record`s, and writes the line of a common packet without building a `Record` at all.
    /// `nil` (the default) keeps every record going through `receive`.
    var lineWriter: RecordingWriter? { get }
}

extension RecordSink {
    public func receive(contentsOf records: [Record]) {
        for record in records { self.receive(record) }
    }

    public var lineWriter: RecordingWriter? { nil }
}
