#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import SIOInspect
import SIORecording
import SIOWire

/// Every line of the recordings (or of the live proxy) in memory, each with what the view
/// filters and draws by: names as small ids (`LineIndexer`), the ack paired to its event by
/// position, and the per-session summary. The lines themselves are kept as they were written
/// (one byte arena): the API serves them verbatim, so nothing is decoded to answer a page.
///
/// Not thread-safe: `ViewModel` holds it under a lock.
package final class ViewStore {
    /// One line. Compact (48 bytes): a million packets cost tens of megabytes besides their text.
    package struct Entry {
        package var offset: Int
        package var length: Int32
        package var sid: Int32 = -1
        package var wall: Int64
        /// The ACK of an EVENT, or the EVENT of an ACK, by sequence number; -1 when unpaired.
        package var pair: Int64 = -1
        /// For an ACK: its latency as recorded (`ack_us`); -1 otherwise.
        package var ackMicros: Int64 = -1
        package var namespace: Int32 = -1
        package var event: Int32 = -1
        package var kind: RecordKind
        /// 0 none, 1 client to server, 2 server to client.
        package var direction: UInt8 = 0
        /// `SocketIOPacketType.rawValue`, 255 when not a Socket.IO packet.
        package var socketType: UInt8 = 255
        /// Which recording (for `view` over several).
        package var source: UInt8 = 0

        package var info: LineInfo {
            var info = LineInfo()
            info.kind = self.kind
            info.wall = self.wall
            info.sid = Int(self.sid)
            info.namespace = Int(self.namespace)
            info.event = Int(self.event)
            info.direction = self.direction == 0 ? nil : (self.direction == 1 ? .clientToServer : .serverToClient)
            info.socketType = self.socketType == 255 ? nil : SocketIOPacketType(rawValue: self.socketType)
            return info
        }
    }

    /// Everything `add` changes, in one stored property, as `LineIndexer` and `RecordingMerger`
    /// keep theirs: every access to a class's stored property is checked for exclusivity at run
    /// time (ten per line cost ~1,100 of the ~7,900 instructions a line took to index), while `add`
    /// takes one access to `lines` and works on the struct in place, checked when compiled.
    private var lines = Lines()

    /// The recording's time 0, µs since the epoch.
    package let start: Int64
    package var entries: [Entry] { self.lines.entries }
    /// The sequence number of `entries[0]`: a live store forgets its oldest lines.
    package var base: Int64 { self.lines.base }
    package let indexer = LineIndexer()
    package var sessions: SessionTable { self.lines.sessions }
    package var statistics: RecordingStatistics { self.lines.statistics }
    /// Lines forgotten (live mode keeps the most recent `capacity`).
    package var forgotten: Int64 { self.lines.forgotten }
    /// Lines that did not parse.
    package private(set) var malformed = 0
    private let fields = RecordLine()
    private let capacity: Int

    /// - Parameter capacity: the most lines kept; past it the oldest half is forgotten (live mode).
    package init(start: Int64, capacity: Int = .max) {
        self.start = start
        self.capacity = capacity
    }

    package var nextSequence: Int64 { self.lines.base + Int64(self.lines.entries.count) }

    /// The entry of a sequence number, if still held.
    package func entry(_ sequence: Int64) -> Entry? {
        let i = sequence - self.lines.base
        return i >= 0 && i < Int64(self.lines.entries.count) ? self.lines.entries[Int(i)] : nil
    }

    /// The bytes of an entry's line (a JSON object).
    @discardableResult
    package func withLine<T>(_ entry: Entry, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try self.lines.arena.withUnsafeReadableBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[entry.offset..<entry.offset + Int(entry.length)]))
        }
    }

    /// Parses the line of `entry` into `fields` (for filters on the type or the text).
    package func parse(_ entry: Entry, into fields: RecordLine) {
        self.withLine(entry) { try? fields.parse($0) }
    }

    /// Adds one line (without its newline) whose time is `wall`; `fields` already parsed from it.
    package func add(_ line: UnsafeRawBufferPointer, fields: RecordLine, wall: Int64, source: Int) {
        self.lines.add(line, fields: fields, wall: wall, source: source, indexer: self.indexer, capacity: self.capacity)
    }

    /// Adds a whole line as read from a recording: parses it first. Returns false when it does not parse.
    @discardableResult
    package func add(line: UnsafeRawBufferPointer, anchor: Int64, source: Int) -> Bool {
        do {
            try self.fields.parse(line)
        } catch {
            self.malformed += 1
            return false
        }
        self.add(line, fields: self.fields, wall: anchor + (self.fields.int(.t, line) ?? 0), source: source)
        return true
    }

    /// Adds complete lines (each ending in `\n`) as the recording holds them: the live feed's
    /// bytes, indexed line by line exactly as lines read from a file are. Returns how many did not parse.
    @discardableResult
    package func add(lines: UnsafeRawBufferPointer, anchor: Int64, source: Int) -> Int {
        guard let base = lines.baseAddress else { return 0 }
        var failed = 0
        var from = 0
        while from < lines.count {
            // `memchr`: the generic `firstIndex(of:)` cost as much as indexing the line.
            var end = lines.count
            if let newline = memchr(base + from, 0x0A, lines.count - from) {
                end = UnsafeRawPointer(newline) - base
            }
            if end > from, !self.add(line: UnsafeRawBufferPointer(rebasing: lines[from..<end]), anchor: anchor, source: source) {
                failed += 1
            }
            from = end + 1
        }
        return failed
    }
}

extension ViewStore {
    private struct Lines {
        var arena = ByteBuffer()
        var entries: [Entry] = []
        var base: Int64 = 0
        var sessions = SessionTable()
        var statistics = RecordingStatistics()
        var forgotten: Int64 = 0
        /// TCP connection → client address (`conn` records), per recording.
        var peers: [UInt64: String] = [:]

        mutating func add(
            _ line: UnsafeRawBufferPointer, fields: RecordLine, wall: Int64, source: Int, indexer: LineIndexer, capacity: Int
        ) {
            let sequence = self.base + Int64(self.entries.count)
            let info = indexer.index(fields, line, wall: wall, sequence: sequence)
            self.statistics.add(info, fields, line)
            var entry = Entry(offset: self.arena.writerIndex, length: Int32(line.count), wall: wall, kind: info.kind)
            self.arena.writeBytes(line)
            entry.sid = Int32(info.sid)
            entry.namespace = Int32(info.namespace)
            entry.event = Int32(info.event)
            entry.direction = info.direction == nil ? 0 : (info.direction == .clientToServer ? 1 : 2)
            entry.socketType = info.socketType?.rawValue ?? 255
            entry.source = UInt8(truncatingIfNeeded: source)
            let connection = fields.int(.conn, line).map { UInt64(source) << 48 | UInt64($0) }
            if info.kind == .conn, let connection, let peer = fields.slice(.peer, line) {
                self.peers[connection] = String(decoding: peer, as: UTF8.self)
            }
            if info.socketType == .ack || info.socketType == .binaryAck {
                // `LineIndex` paired it with its event; an event already forgotten keeps no link.
                entry.pair = info.pair
                if info.pair >= self.base { self.entries[Int(info.pair - self.base)].pair = sequence }
                entry.ackMicros = fields.int(.ackUs, line) ?? -1
            }
            self.entries.append(entry)
            if info.sid >= 0 {
                // The closure may not read `self` while `sessions` changes; a local holds the table.
                let peers = self.peers
                self.sessions.add(entry, sequence: sequence, fields: fields, line: line, indexer: indexer) {
                    connection.flatMap { peers[$0] }
                }
            }
            if self.entries.count > capacity { self.forgetOldestHalf() }
        }

        /// Live mode: keeps memory bounded by dropping the oldest half of the lines (sessions stay listed).
        mutating func forgetOldestHalf() {
            let drop = self.entries.count / 2
            let keepFrom = self.entries[drop].offset
            self.entries.removeFirst(drop)
            for i in self.entries.indices { self.entries[i].offset -= keepFrom }
            var arena = ByteBuffer()
            arena.reserveCapacity(self.arena.writerIndex - keepFrom)
            arena.writeImmutableBuffer(self.arena.getSlice(at: keepFrom, length: self.arena.writerIndex - keepFrom)!)
            self.arena = arena
            self.base += Int64(drop)
            self.forgotten += Int64(drop)
        }
    }
}
