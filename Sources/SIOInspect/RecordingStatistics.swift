import SIORecording
import SIOWire

/// Packets and payload bytes.
public struct Traffic: Hashable, Sendable {
    public var packets = 0
    /// Payload bytes as recorded: the JSON `data` (or Engine.IO `text`) plus attachments, base64
    /// counted as the bytes it stands for. Packet headers and framing are not counted.
    public var bytes = 0

    public init(packets: Int = 0, bytes: Int = 0) {
        self.packets = packets
        self.bytes = bytes
    }
}

/// What `inspect --stats` reports; built by `RecordingStatistics.summary()`.
public struct StatisticsSummary: Hashable, Sendable {
    public struct Event: Hashable, Sendable {
        /// How many times the event was emitted, per direction (EVENT and BINARY_EVENT).
        public var emitted: [Direction: Int] = [:]
        /// Latencies of the acks that answered it.
        public var acks = LatencyHistogram()
    }

    /// Record lines read (header and trailer excluded).
    public var records = 0
    /// Wall-clock µs of the first and last record.
    public var first: Int64?
    public var last: Int64?
    public var sessions = 0
    /// Sessions by transport: `websocket` (opened on a WebSocket), `polling` (never upgraded),
    /// `upgraded` (polling, then WebSocket), `unknown` (no `open` record).
    public var transports: [String: Int] = [:]
    /// Open to close (or to the session's last record when it did not close).
    public var durations = LatencyHistogram()
    public var socketIO: [Direction: Traffic] = [:]
    public var engineIO: [Direction: Traffic] = [:]
    /// Socket.IO packets per namespace and direction.
    public var namespaces: [String: [Direction: Traffic]] = [:]
    /// Socket.IO packets by type (`EVENT`, `ACK`, ...) and Engine.IO packets by type (`ping`, ...).
    public var socketTypes: [String: Int] = [:]
    public var engineTypes: [String: Int] = [:]
    public var events: [String: Event] = [:]
    /// ACKs whose event is not in the recording (or was filtered out).
    public var unpairedAcks = 0
    /// `CONNECT_ERROR /nsp {"message":...}`, `raw sio: reason`, `http 400`, `note error: ...`.
    public var errors: [String: Int] = [:]
    /// Engine.IO session close causes.
    public var closeCauses: [String: Int] = [:]
    /// WebSocket close frames by code (`1000`, `none`) and direction (`1000 c2s`).
    public var webSocketCloses: [String: Int] = [:]
    /// TCP connection close causes.
    public var connectionCloses: [String: Int] = [:]
    /// Bodies of HTTP exchanges that are not Engine.IO (`body` records): `packets` counts bodies,
    /// `bytes` their sizes on the wire.
    public var httpBodies: [Direction: Traffic] = [:]
}

/// Accumulates statistics over lines, from their byte ranges (no record is decoded).
package struct RecordingStatistics {
    private struct Session {
        var first: Int64
        var last: Int64
        var closed: Int64?
        var transport = "unknown"
    }

    private struct EventCounts {
        var c2s = 0
        var s2c = 0
        var acks = LatencyHistogram()
    }

    private var summary = StatisticsSummary()
    private var sessions: [Session?] = []
    private var events: [EventCounts] = []
    /// Per namespace id: c2s and s2c traffic.
    private var namespaces: [(Traffic, Traffic)] = []
    private var socketTypes = [Int](repeating: 0, count: SocketIOPacketType.allCases.count)
    private var engineTypes = ByteInterner()
    private var engineTypeCounts: [Int] = []
    private var traffic = [Traffic](repeating: Traffic(), count: 4)

    package init() {}

    package mutating func add(_ info: LineInfo, _ line: RecordLine, _ bytes: UnsafeRawBufferPointer) {
        self.summary.records += 1
        if self.summary.first == nil { self.summary.first = info.wall }
        self.summary.first = min(self.summary.first!, info.wall)
        self.summary.last = max(self.summary.last ?? info.wall, info.wall)
        if info.sid >= 0 { self.touch(info.sid, info.wall) }
        switch info.kind {
        case .sio:
            let size = Self.payloadSize(line, bytes)
            let d = info.direction == .serverToClient ? 1 : 0
            self.traffic[d].packets += 1
            self.traffic[d].bytes += size
            if info.namespace >= 0 {
                while self.namespaces.count <= info.namespace { self.namespaces.append((Traffic(), Traffic())) }
                if d == 0 {
                    self.namespaces[info.namespace].0.packets += 1
                    self.namespaces[info.namespace].0.bytes += size
                } else {
                    self.namespaces[info.namespace].1.packets += 1
                    self.namespaces[info.namespace].1.bytes += size
                }
            }
            guard let type = info.socketType else { return }
            self.socketTypes[Int(type.rawValue)] += 1
            switch type {
            case .event, .binaryEvent:
                if info.event >= 0 {
                    self.growEvents(info.event)
                    if d == 0 { self.events[info.event].c2s += 1 } else { self.events[info.event].s2c += 1 }
                }
            case .ack, .binaryAck:
                if info.event >= 0 {
                    self.growEvents(info.event)
                    if let latency = line.int(.ackUs, bytes) { self.events[info.event].acks.add(latency) }
                } else {
                    self.summary.unpairedAcks += 1
                }
            case .connectError:
                let data = line.slice(.data, bytes).map { String(decoding: $0, as: UTF8.self) } ?? ""
                let nsp = line.slice(.nsp, bytes).map { String(decoding: $0, as: UTF8.self) } ?? "/"
                self.count(&self.summary.errors, "CONNECT_ERROR \(nsp) \(data.prefix(120))")
            default:
                break
            }
        case .eio:
            let d = info.direction == .serverToClient ? 3 : 2
            self.traffic[d].packets += 1
            self.traffic[d].bytes += Self.payloadSize(line, bytes)
            if let type = line.slice(.type, bytes) {
                let id = self.engineTypes.intern(type)
                while self.engineTypeCounts.count <= id { self.engineTypeCounts.append(0) }
                self.engineTypeCounts[id] += 1
            }
        case .open:
            if info.sid >= 0 {
                let tr = line.equals(.tr, "websocket", bytes) ? "websocket" : "polling"
                self.sessions[info.sid]!.transport = tr
            }
        case .upgrade:
            if info.sid >= 0 { self.sessions[info.sid]!.transport = "upgraded" }
        case .close:
            if info.sid >= 0 { self.sessions[info.sid]!.closed = info.wall }
            self.count(&self.summary.closeCauses, Self.string(.cause, line, bytes) ?? "unknown")
        case .raw:
            let layer = Self.string(.layer, line, bytes) ?? "?"
            self.count(&self.summary.errors, "raw \(layer): \(Self.string(.reason, line, bytes) ?? "")")
        case .http:
            if let status = line.int(.status, bytes) {
                if status >= 400 { self.count(&self.summary.errors, "http \(status)") }
            } else {
                self.count(&self.summary.errors, "http no response")
            }
        case .note:
            let level = Self.string(.level, line, bytes) ?? "info"
            if level != "info" {
                self.count(&self.summary.errors, "note \(level): \(Self.string(.msg, line, bytes) ?? "")")
            }
        case .wsClose:
            let code = line.int(.code, bytes).map { String($0) } ?? "none"
            self.count(&self.summary.webSocketCloses, "\(code) \(info.direction?.rawValue ?? "?")")
        case .connClose:
            self.count(&self.summary.connectionCloses, Self.string(.cause, line, bytes) ?? "unknown")
        case .body:
            if let size = line.int(.size, bytes), let direction = info.direction {
                self.summary.httpBodies[direction, default: Traffic()].packets += 1
                self.summary.httpBodies[direction, default: Traffic()].bytes += Int(size)
            }
        case .conn, .ws, .poll, .end, .unknown:
            break
        }
    }

    package func summary(_ indexer: LineIndexer) -> StatisticsSummary {
        self.summary(indexer.table)
    }

    package func summary(_ index: LineIndex) -> StatisticsSummary {
        var summary = self.summary
        for case let session? in self.sessions {
            summary.sessions += 1
            summary.transports[session.transport, default: 0] += 1
            summary.durations.add((session.closed ?? session.last) - session.first)
        }
        summary.socketIO = [.clientToServer: self.traffic[0], .serverToClient: self.traffic[1]]
        summary.engineIO = [.clientToServer: self.traffic[2], .serverToClient: self.traffic[3]]
        for (id, (c2s, s2c)) in self.namespaces.enumerated() where c2s.packets + s2c.packets > 0 {
            summary.namespaces[index.namespaceName(id)] = [.clientToServer: c2s, .serverToClient: s2c]
        }
        for type in SocketIOPacketType.allCases where self.socketTypes[Int(type.rawValue)] > 0 {
            summary.socketTypes[type.name] = self.socketTypes[Int(type.rawValue)]
        }
        for (id, n) in self.engineTypeCounts.enumerated() where n > 0 {
            summary.engineTypes[self.engineTypes.string(id)] = n
        }
        for (id, counts) in self.events.enumerated() where counts.c2s + counts.s2c + counts.acks.count > 0 {
            var event = StatisticsSummary.Event()
            if counts.c2s > 0 { event.emitted[.clientToServer] = counts.c2s }
            if counts.s2c > 0 { event.emitted[.serverToClient] = counts.s2c }
            event.acks = counts.acks
            summary.events[index.eventName(id)] = event
        }
        return summary
    }

    private mutating func touch(_ sid: Int, _ wall: Int64) {
        while self.sessions.count <= sid { self.sessions.append(nil) }
        if self.sessions[sid] == nil {
            self.sessions[sid] = Session(first: wall, last: wall)
        } else {
            self.sessions[sid]!.last = max(self.sessions[sid]!.last, wall)
        }
    }

    private mutating func growEvents(_ id: Int) {
        while self.events.count <= id { self.events.append(EventCounts()) }
    }

    private func count(_ table: inout [String: Int], _ key: String) {
        table[key, default: 0] += 1
    }

    private static func string(_ field: RecordLine.Field, _ line: RecordLine, _ bytes: UnsafeRawBufferPointer) -> String? {
        line.slice(field, bytes).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The payload bytes a line stands for: verbatim JSON as is, base64 as the bytes it encodes.
    private static func payloadSize(_ line: RecordLine, _ bytes: UnsafeRawBufferPointer) -> Int {
        var size = 0
        if let r = line.range(.data) { size += r.count }
        if let r = line.range(.dataText) { size += r.count }
        if let r = line.range(.text) { size += r.count }
        if let r = line.range(.dataB64) { size += r.count * 3 / 4 }
        if let r = line.range(.b64) { size += r.count * 3 / 4 }
        if let r = line.range(.att) {
            // `["AQID","BA=="]`: the base64 characters, less quotes and commas.
            var chars = 0
            for i in r where bytes[i] != UInt8(ascii: "\"") && bytes[i] != UInt8(ascii: ",")
                && bytes[i] != UInt8(ascii: "[") && bytes[i] != UInt8(ascii: "]") && bytes[i] != 0x20
            {
                chars += 1
            }
            size += chars * 3 / 4
        }
        return size
    }
}
