import SIORecording

/// Receives every record, in order per session. Called from many threads; must not block.
public protocol RecordSink: Sendable {
    /// Takes one record. Called while the capture holds its session lock, so it must return quickly.
    func receive(_ record: Record)

    /// Takes several records, in order: what one read of a connection produced. Sinks that take a
    /// lock per call take it once here.
    func receive(contentsOf records: [Record])
}

extension RecordSink {
    public func receive(contentsOf records: [Record]) {
        for record in records { self.receive(record) }
    }
}
