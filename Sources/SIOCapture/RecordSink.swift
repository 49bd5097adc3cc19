import SIORecording

/// Receives every record, in order per session. Called from many threads; must not block.
public protocol RecordSink: Sendable {
    /// Takes one record. Called while the capture holds its session lock, so it must return quickly.
    func receive(_ record: Record)
}
