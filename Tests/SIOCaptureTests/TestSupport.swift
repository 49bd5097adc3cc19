import Logging
import NIOCore
import SIORecording
import SIOWire
import Synchronization

@testable import SIOCapture

/// Collects every record in the order the hub delivered them.
final class CollectingSink: RecordSink {
    private let storage = Mutex<[Record]>([])

    func receive(_ record: Record) {
        self.storage.withLock { $0.append(record) }
    }

    var records: [Record] { self.storage.withLock { $0 } }
}

struct Harness {
    let clock = StepClock()
    let sink = CollectingSink()
    let hub: CaptureHub

    /// `sink`: another sink than the collecting one (whose `records` then stay empty).
    init(configuration: CaptureConfiguration = CaptureConfiguration(), sink: (any RecordSink)? = nil) {
        self.hub = CaptureHub(
            configuration: configuration, sink: sink ?? self.sink, logger: Logger(label: "test"), clock: self.clock)
    }

    var records: [Record] { self.sink.records }
}

extension Record {
    var socket: SocketPacket? { if case .socket(let p) = self.event { return p } else { return nil } }
    var engine: EnginePacket? { if case .engine(let p) = self.event { return p } else { return nil } }
    var opened: SessionOpened? { if case .sessionOpened(let p) = self.event { return p } else { return nil } }
    var closed: SessionClosed? { if case .sessionClosed(let p) = self.event { return p } else { return nil } }
    var http: HTTPExchange? { if case .http(let p) = self.event { return p } else { return nil } }
    var poll: PollBody? { if case .poll(let p) = self.event { return p } else { return nil } }
    var raw: Undecodable? { if case .undecodable(let p) = self.event { return p } else { return nil } }
    var webSocketClose: WebSocketClosed? { if case .webSocketClosed(let p) = self.event { return p } else { return nil } }
    var undecodable: Undecodable? { if case .undecodable(let p) = self.event { return p } else { return nil } }
    var webSocketOpen: WebSocketOpened? { if case .webSocketOpened(let p) = self.event { return p } else { return nil } }
    var upgrade: Upgraded? { if case .upgraded(let p) = self.event { return p } else { return nil } }
}

extension ByteBuffer {
    var text: String { String(decoding: self.readableBytesView, as: UTF8.self) }
}

extension Optional where Wrapped == ByteBuffer {
    var text: String? { self.map { $0.text } }
}
