import SIORecording

/// Receives every record, in order per session. Called from many threads; must not block.
public protocol RecordSink: Sendable {
    /// Takes one record. Called while the capture holds its session lock, so it must return quickly.
    func receive(_ record: Record)

    /// Takes several records, in order: what one read of a connection produced. Sinks that take a
    /// lock per call take it once here.
    func receive(contentsOf records: [Record])

    /// The recording writer, when writing it is all this sink does with records (no live view, no
    /// consumer but a `lineFollower`): the capture then hands it encoded lines instead of
    /// `Record`s, and writes the line of a common packet without building a `Record` at all
    /// (`receive` is then not called). `nil` (the default) keeps every record going through `receive`.
    var lineWriter: RecordingWriter? { get }

    /// Takes a copy of every line the capture writes into `lineWriter` (the browser view's feed):
    /// the recording's bytes, already redacted and masked, with no `Record` built or encoded for it.
    /// Only asked when `lineWriter` is not `nil`. `nil` (the default): no copy.
    var lineFollower: (any RecordLineFollower)? { get }
}

extension RecordSink {
    public func receive(contentsOf records: [Record]) {
        for record in records { self.receive(record) }
    }

    public var lineWriter: RecordingWriter? { nil }

    public var lineFollower: (any RecordLineFollower)? { nil }
}
