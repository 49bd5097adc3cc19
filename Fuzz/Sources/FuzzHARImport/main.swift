import FuzzInput
import NIOCore
import SIOCapture
import SIORecording
import Synchronization

/// `import har` end to end: the input is a HAR file. It is decoded, checked and laid out, and every
/// entry goes through the capture (polling bodies, WebSocket messages as frames, redaction).
/// Properties: a HAR is either refused with a message or imported; every record the import emits
/// encodes to a line that decodes back to the same record.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHARImport(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    let importer: HARImporter
    do {
        importer = try HARImporter(try HARArchive.decode(bytes))
    } catch {
        fuzzCheck(!error.description.isEmpty, "a HAR refused without a message")
        return 0
    }
    var configuration = CaptureConfiguration()
    configuration.maxBodyBytes = 64 * 1024
    configuration.maxWebSocketMessageBytes = 64 * 1024
    configuration.bodyLimit = 64 * 1024
    _ = importer.run(configuration: configuration, sink: CheckingSink())
    return 0
}

/// Encodes every record and decodes it back.
private final class CheckingSink: RecordSink {
    private let decoder = Mutex(RecordDecoder())

    func receive(_ record: Record) {
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
