import FuzzInput
import FuzzRoundTrip
import SIOCapture

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
    _ = importer.run(configuration: configuration, sink: RoundTripSink())
    return 0
}
