import SIORecording
import SIOWire

/// What `inspect` needs to know about one line, beyond its field ranges: names as small ids.
public struct LineInfo {
    public var kind: RecordKind = .unknown
    /// Wall-clock time, µs since the epoch.
    public var wall: Int64 = 0
    /// Interned session id, -1 when absent.
    public var sid = -1
    /// Interned namespace (`sio` only), -1 otherwise.
    public var namespace = -1
    /// Interned event name: the `event` of an EVENT, or for an ACK the event it answers (when
    /// the event is in the recording); -1 otherwise.
    public var event = -1
    public var direction: Direction?
    /// The Socket.IO packet type (`sio` only).
    public var socketType: SocketIOPacketType?
    /// For an ACK: the `sequence` its EVENT was indexed with (the view draws the pair); -1 when
    /// the event is not in the recording.
    public var pair: Int64 = -1

    public init() {}
}

/// Turns parsed lines into `LineInfo`: interns names and pairs acks with their events (by
/// session, namespace, ack id and direction). A value: `Inspector.run` keeps one in its local
/// state, so indexing a line costs no exclusivity check at run time; `LineIndexer` holds one for
/// those that share it.
public struct LineIndex {
    private var sessions = ByteInterner()
    private var namespaces = ByteInterner()
    private var events = ByteInterner()
    /// Events waiting for their ack → the event's name id and sequence. Bounded: a recording full
    /// of events whose acks never come must not grow memory without end.
    private var pending: [AckKey: (event: Int, sequence: Int64)] = [:]
    /// The id of `/`, for packets without `nsp`.
    private var root = 0

    private struct AckKey: Hashable {
        var sid: Int
        var namespace: Int
        var id: Int64
        var direction: Direction
    }

    private static let maxPending = 1 << 20

    public init() {
        self.root = [UInt8(ascii: "/")].withUnsafeBytes { self.namespaces.intern($0) }
    }

    package func eventBytes(_ id: Int) -> ArraySlice<UInt8> { self.events.bytes(id) }
    /// A session id or namespace as written in the line (JSON escapes kept).
    package func sessionBytes(_ id: Int) -> ArraySlice<UInt8> { self.sessions.bytes(id) }
    package func namespaceBytes(_ id: Int) -> ArraySlice<UInt8> { self.namespaces.bytes(id) }
    package var namespaceCount: Int { self.namespaces.count }

    public func sessionName(_ id: Int) -> String { self.sessions.string(id) }
    public func namespaceName(_ id: Int) -> String { self.namespaces.string(id) }
    public func eventName(_ id: Int) -> String { self.events.string(id) }
    public var eventCount: Int { self.events.count }

    /// `wall`: the line's wall-clock time (the recording's `wall_us` + `t`); `sequence`: the
    /// line's number for the caller, returned as the `pair` of the ACK that answers it.
    public mutating func index(
        _ line: RecordLine, _ bytes: UnsafeRawBufferPointer, wall: Int64, sequence: Int64 = -1
    ) -> LineInfo {
        var info = LineInfo()
        info.kind = line.slice(.k, bytes).map(RecordKind.init) ?? .unknown
        info.wall = wall
        if let sid = line.slice(.sid, bytes) { info.sid = self.sessions.intern(sid) }
        if let dir = line.slice(.dir, bytes), dir.count == 3, dir[0] == UInt8(ascii: "c") || dir[0] == UInt8(ascii: "s") {
            info.direction = dir[0] == UInt8(ascii: "c") ? .clientToServer : .serverToClient
        }
        guard info.kind == .sio else { return info }
        info.namespace = line.slice(.nsp, bytes).map { self.namespaces.intern($0) } ?? self.root
        info.socketType = line.slice(.type, bytes).flatMap(Self.socketType)
        switch info.socketType {
        case .event?, .binaryEvent?:
            if let name = line.slice(.event, bytes) { info.event = self.events.intern(name) }
            if let id = line.int(.id, bytes), let direction = info.direction, self.pending.count < Self.maxPending {
                self.pending[AckKey(sid: info.sid, namespace: info.namespace, id: id, direction: direction)] =
                    (info.event, sequence)
            }
        case .ack?, .binaryAck?:
            if let id = line.int(.id, bytes), let direction = info.direction,
                let event = self.pending.removeValue(
                    forKey: AckKey(sid: info.sid, namespace: info.namespace, id: id, direction: direction.opposite))
            {
                info.event = event.event
                info.pair = event.sequence
            }
        default:
            break
        }
        return info
    }

    private static func socketType(_ bytes: UnsafeRawBufferPointer) -> SocketIOPacketType? {
        // The seven names differ in length but for DISCONNECT / BINARY_ACK.
        switch bytes.count {
        case 3: return .ack
        case 5: return .event
        case 7: return .connect
        case 10: return bytes[0] == UInt8(ascii: "D") ? .disconnect : .binaryAck
        case 12: return .binaryEvent
        case 13: return .connectError
        default: return nil
        }
    }
}

extension Direction {
    var opposite: Direction { self == .clientToServer ? .serverToClient : .clientToServer }
}
