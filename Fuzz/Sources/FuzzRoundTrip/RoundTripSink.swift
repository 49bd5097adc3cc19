import FuzzInput
import NIOCore
import SIOCapture
import SIORecording
import Synchronization

/// A capture's sink for the fuzz targets that drive the capture (`FuzzCaptureTap`, `FuzzHARImport`):
/// encodes every record it receives and decodes the line back, stopping the fuzzer when the line
/// does not decode to the same record.
public final class RoundTripSink: RecordSink {
    private let decoder = Mutex(RecordDecoder())

    public init() {}

    public func receive(_ record: Record) {
        var line = ByteBuffer()
        RecordEncoder().encode(record, into: &line)
        if line.readableBytesView.last == UInt8(ascii: "\n") { line.moveWriterIndex(to: line.writerIndex - 1) }
        let decoded = self.decoder.withLock { decoder in Result { () throws(RecordFormatError) in try decoder.decode(line) } }
        switch decoded {
        case .success(.record(let again)):
            fuzzCheck(again == record, "record changed in an encode/decode round trip: \(String(buffer: line))")
        case .success(let other):
            fuzzCheck(false, "record decoded as \(other): \(String(buffer: line))")
        case .failure(let error):
            fuzzCheck(false, "encoded record does not decode (\(error)): \(String(buffer: line))")
        }
    }
}
