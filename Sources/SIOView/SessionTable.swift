import SIOInspect
import SIORecording
import SIOWire

/// One row per Engine.IO session, in order of first appearance: what the session list shows.
/// Counted with the rules of `inspect --stats` (`RecordingStatistics`), so that the list adds up
/// to its totals: a session is any sid seen in a line; its transport is that of its `open`
/// (`polling`, `websocket`), `upgraded` after an `upgrade`, `unknown` without an `open`.
package struct SessionTable {
    package struct Row {
        package var sid: Int32
        /// The client's address, from the `conn` record of the connection that opened the session.
        package var peer: String?
        package var first: Int64
        package var last: Int64
        package var closed: Int64?
        package var closeCause: String?
        package var transport = "unknown"
        /// When each transport started: `polling` or `websocket` at `open`, `websocket` at `upgrade`.
        package var transports: [(wall: Int64, name: String)] = []
        package var namespaces: [Int32] = []
        package var clientPackets = 0
        package var serverPackets = 0
        package var enginePackets = 0
        package var acks = LatencyHistogram()
        package var errors: [String] = []
        package var errorCount = 0
        package var firstSequence: Int64

        package var packets: Int { self.clientPackets + self.serverPackets }
        package var duration: Int64 { (self.closed ?? self.last) - self.first }
    }

    package private(set) var rows: [Row] = []
    /// Interned session id → row index.
    private var bySid: [Int32] = []
    private static let maxErrorsKept = 20

    package init() {}

    package func row(ofSid sid: Int32) -> Row? {
        Int(sid) < self.bySid.count && self.bySid[Int(sid)] >= 0 ? self.rows[Int(self.bySid[Int(sid)])] : nil
    }

    mutating func add(
        _ entry: ViewStore.Entry, sequence: Int64, fields: RecordLine, line: UnsafeRawBufferPointer,
        indexer: LineIndexer, peer: () -> String?
    ) {
        let sid = Int(entry.sid)
        while self.bySid.count <= sid { self.bySid.append(-1) }
        if self.bySid[sid] < 0 {
            self.bySid[sid] = Int32(self.rows.count)
            self.rows.append(Row(sid: entry.sid, first: entry.wall, last: entry.wall, firstSequence: sequence))
        }
        let index = Int(self.bySid[sid])
        self.rows[index].first = min(self.rows[index].first, entry.wall)
        self.rows[index].last = max(self.rows[index].last, entry.wall)
        func string(_ field: RecordLine.Field) -> String? {
            fields.slice(field, line).map { String(decoding: $0, as: UTF8.self) }
        }
        switch entry.kind {
        case .sio:
            if entry.direction == 1 { self.rows[index].clientPackets += 1 } else { self.rows[index].serverPackets += 1 }
            if entry.namespace >= 0, !self.rows[index].namespaces.contains(entry.namespace) {
                self.rows[index].namespaces.append(entry.namespace)
            }
            if entry.ackMicros >= 0 { self.rows[index].acks.add(entry.ackMicros) }
            if entry.socketType == SocketIOPacketType.connectError.rawValue {
                let nsp = string(.nsp) ?? "/"
                self.error(index, "CONNECT_ERROR \(nsp) \((string(.data) ?? "").prefix(120))")
            }
        case .eio:
            self.rows[index].enginePackets += 1
        case .open:
            let transport = fields.equals(.tr, "websocket", line) ? "websocket" : "polling"
            self.rows[index].transport = transport
            self.rows[index].transports.append((entry.wall, transport))
            if self.rows[index].peer == nil { self.rows[index].peer = peer() }
        case .upgrade:
            self.rows[index].transport = "upgraded"
            self.rows[index].transports.append((entry.wall, "websocket"))
        case .close:
            self.rows[index].closed = entry.wall
            self.rows[index].closeCause = string(.cause) ?? "unknown"
        case .raw:
            self.error(index, "raw \(string(.layer) ?? "?"): \(string(.reason) ?? "")")
        case .http:
            if let status = fields.int(.status, line) {
                if status >= 400 { self.error(index, "http \(status)") }
            } else {
                self.error(index, "http no response")
            }
        default:
            break
        }
    }

    private mutating func error(_ index: Int, _ text: String) {
        self.rows[index].errorCount += 1
        if self.rows[index].errors.count < Self.maxErrorsKept { self.rows[index].errors.append(text) }
    }
}
