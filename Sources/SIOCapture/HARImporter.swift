import Logging
import NIOCore
import SIORecording

/// `siotape import har`: a HAR's entries in, records out: the records `record` would have written
/// had the browser's traffic gone through it. Sans-io: the HAR is already decoded
/// (`HARArchive.decode`), the records go to a `RecordSink`.
///
/// Each entry is replayed into the capture itself (`CaptureHub`, `ConnectionTap`), on a clock set to
/// the HAR's timestamps: its request head and body, its response head and body, and for a
/// WebSocket entry (status 101) each of its `_webSocketMessages` as a frame. So Engine.IO polling
/// bodies and WebSocket messages become sessions, packets, paired acks and redacted credentials
/// exactly as on the proxy. Every entry is a connection of its own (`conn` = its position + 1,
/// `peer` = `har:INDEX`), ended after its response (a WebSocket entry: after its last message).
public struct HARImporter {
    let plan: HARImportPlan

    /// Checks the archive and lays its entries out on one time line.
    ///
    /// - Throws: `HARImportError` naming the entry and field that cannot be used.
    public init(_ archive: HARArchive) throws(HARImportError) {
        self.plan = try HARImportPlan(archive)
    }

    /// Wall-clock microseconds of the earliest moment in the HAR: the recording's `wall_us`.
    public var startedAtMicros: Int64 { self.plan.start }
    /// The origin of the first Engine.IO request (else of the first entry): the header's `upstream`.
    public var upstream: String? { self.plan.upstream }
    /// How many entries are imported.
    public var entryCount: Int { self.plan.exchanges.count }
    /// How many entries were left out because the browser answered them from its cache.
    public var cachedCount: Int { self.plan.cached }

    /// Feeds every entry to a capture configured as `record` would be, handing its records to
    /// `sink` in time order; returns the capture's counters.
    public func run(configuration: CaptureConfiguration, sink: any RecordSink) -> CaptureStatistics {
        let clock = StepClock()
        let output = HARImportSink(next: sink)
        let hub = CaptureHub(
            configuration: configuration, sink: output, logger: Logger(label: "siotape.import"), clock: clock)
        var taps: [ConnectionTap?] = Array(repeating: nil, count: self.plan.exchanges.count)
        for (time, step) in self.plan.steps {
            clock.set(microseconds: time - self.plan.start)
            switch step {
            case .request(let n):
                let exchange = self.plan.exchanges[n]
                let connection = UInt64(n + 1)
                let tap = hub.makeTap(connection: connection, peer: "har:\(exchange.index)")
                if let coding = exchange.contentEncoding { output.expect(coding, on: connection) }
                tap.requestHead(exchange.request)
                if let body = exchange.requestBody { tap.requestBody(body.bytes) }
                tap.requestEnd()
                taps[n] = tap
            case .response(let n):
                let exchange = self.plan.exchanges[n]
                guard let tap = taps[n], let head = exchange.response else { continue }
                if exchange.isWebSocket {
                    tap.webSocketAccepted(head)
                    continue
                }
                tap.responseHead(head)
                if let body = exchange.responseBody {
                    tap.responseBody(body.bytes)
                } else if exchange.request.uriContains("EIO="), exchange.request.methodIs("GET"), head.statusCode == 200 {
                    output.receive(
                        Record(
                            time: time - self.plan.start,
                            event: .note(
                                .init(
                                    level: "warning",
                                    message: "HAR entry \(exchange.index) has no response body: the packets of this "
                                        + "long-poll answer are missing", connection: UInt64(n + 1)))))
                }
                tap.responseEnd()
            case .message(let n, let m):
                let message = self.plan.exchanges[n].messages[m]
                taps[n]?.webSocketBytes(message.frame, direction: message.direction)
            case .close(let n):
                taps[n]?.connectionClosed(cause: "end of HAR entry")
                taps[n] = nil
            }
        }
        return hub.statistics
    }
}
