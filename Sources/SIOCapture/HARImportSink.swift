import SIORecording
import Synchronization

/// Between the capture and the caller's sink during `import har`: a HAR holds response bodies
/// decoded, so the capture is fed heads without their `Content-Encoding`; this puts the header back
/// in the `http` record (where it stood) and marks the `body` record as `record` marks the inflated
/// copy of a gzip or deflate body (other codings get a note saying the browser decoded them).
final class HARImportSink: RecordSink {
    private let next: any RecordSink
    private let codings = Mutex<[UInt64: (value: String, position: Int)]>([:])

    init(next: any RecordSink) {
        self.next = next
    }

    /// The response on `connection` was sent with this `Content-Encoding`.
    func expect(_ coding: (value: String, position: Int), on connection: UInt64) {
        self.codings.withLock { $0[connection] = coding }
    }

    func receive(_ record: Record) {
        self.next.receive(self.restored(record))
    }

    func receive(contentsOf records: [Record]) {
        if self.codings.withLock({ $0.isEmpty }) {
            self.next.receive(contentsOf: records)
        } else {
            self.next.receive(contentsOf: records.map(self.restored))
        }
    }

    private func restored(_ record: Record) -> Record {
        var record = record
        switch record.event {
        case .body(var body) where body.direction == .serverToClient:
            guard let coding = self.codings.withLock({ $0[body.connection] }) else { return record }
            if body.sequence == 0 { body.contentEncoding = coding.value }
            if body.last {
                switch coding.value.lowercased().filter({ $0 != " " && $0 != "\t" }) {
                case "gzip", "x-gzip", "deflate": body.inflated = true
                default:
                    let note = "decoded by the browser (\(coding.value)): a HAR holds decoded bodies"
                    body.note = body.note.map { "\($0); \(note)" } ?? note
                }
            }
            record.event = .body(body)
        case .http(var exchange):
            guard let coding = self.codings.withLock({ $0.removeValue(forKey: exchange.connection) }) else { return record }
            if var headers = exchange.responseHeaders {
                headers.insert(.init("Content-Encoding", coding.value), at: min(coding.position, headers.count))
                exchange.responseHeaders = headers
            }
            record.event = .http(exchange)
        default:
            break
        }
        return record
    }
}
