import NIOCore
import SIOWire

/// Server-issued ids as recorded and as issued live (Engine.IO sids, Socket.IO socket ids), and
/// the rewriting of payloads from one to the other.
///
/// A live server issues ids of its own, and real apps put them in payloads (`{from: socket.id}`,
/// a users list keyed by socket id, `"room-<sid>"`). `replay run` rewrites recorded payloads
/// `toLive` before comparing them with what arrived and before sending a recorded client
/// packet; `replay serve` rewrites the recorded server packets it sends `toLive` (its own fresh
/// ids) and what a live client sends `toRecorded`.
///
/// The rule, applied to JSON bytes without parsing them: inside a JSON string (a value or an
/// object key), a known id is replaced where
/// - the whole string is the id, or
/// - the id is embedded in the string and is at least `minimumEmbeddedLength` bytes long (short
///   ids, such as counters, would match by accident inside unrelated text).
///
/// Numbers, literals and the bytes between strings are never touched. Where several ids match at
/// one position the longest wins; replaced text is not scanned again, so a chain (A→B, B→C) is
/// never applied twice. Ids that JSON writes with escapes (a quote, a backslash, a control
/// character) are not mapped.
package struct IDMapping: Sendable, Equatable {
    /// Which way to rewrite.
    package enum Direction: Sendable {
        /// Recorded ids become the live ones.
        case toLive
        /// Live ids become the recorded ones.
        case toRecorded
    }

    /// One id as recorded and as issued live.
    package struct Pair: Hashable, Sendable {
        package var recorded: String
        package var live: String

        package init(recorded: String, live: String) {
            self.recorded = recorded
            self.live = live
        }
    }

    /// Ids shorter than this are mapped only where they are a whole JSON string.
    package static let minimumEmbeddedLength = 8

    /// The known pairs, in the order they were added.
    package private(set) var pairs: [Pair] = []
    private var toLiveTable = Table()
    private var toRecordedTable = Table()

    package init(_ pairs: [Pair] = []) {
        self.merge(pairs)
    }

    package static func == (lhs: IDMapping, rhs: IDMapping) -> Bool {
        lhs.pairs == rhs.pairs
    }

    /// Whether no id would be rewritten.
    package var isEmpty: Bool { self.pairs.isEmpty }

    /// Adds a pair. A pair already known for the same recorded or the same live id is replaced
    /// (the mapping stays one to one). Empty ids, ids equal on both sides, and ids JSON would
    /// escape are left out.
    package mutating func add(recorded: String, live: String) {
        guard !recorded.isEmpty, !live.isEmpty, recorded != live, Self.isMappable(recorded), Self.isMappable(live)
        else { return }
        let pair = Pair(recorded: recorded, live: live)
        guard !self.pairs.contains(pair) else { return }
        let count = self.pairs.count
        self.pairs.removeAll { $0.recorded == recorded || $0.live == live }
        self.pairs.append(pair)
        if self.pairs.count == count + 1 {
            // Nothing replaced: the tables only gain this pair (a table per pair added would make
            // building a mapping of n ids cost n²).
            self.toLiveTable.insert(from: Array(recorded.utf8), to: Array(live.utf8))
            self.toRecordedTable.insert(from: Array(live.utf8), to: Array(recorded.utf8))
        } else {
            self.rebuildTables()
        }
    }

    /// Adds every pair of `other` (its pairs win where they conflict).
    package mutating func merge(_ other: IDMapping) {
        self.merge(other.pairs)
    }

    private mutating func merge(_ pairs: [Pair]) {
        for pair in pairs { self.add(recorded: pair.recorded, live: pair.live) }
    }

    private mutating func rebuildTables() {
        self.toLiveTable = Table()
        self.toRecordedTable = Table()
        for pair in self.pairs {
            self.toLiveTable.insert(from: Array(pair.recorded.utf8), to: Array(pair.live.utf8))
            self.toRecordedTable.insert(from: Array(pair.live.utf8), to: Array(pair.recorded.utf8))
        }
    }

    /// The live id of a recorded one.
    package func live(forRecorded recorded: String) -> String? {
        self.pairs.last { $0.recorded == recorded }?.live
    }

    /// The recorded id of a live one.
    package func recorded(forLive live: String) -> String? {
        self.pairs.last { $0.live == live }?.recorded
    }

    // MARK: - Rewriting

    /// `json` with the ids inside its strings rewritten; the same buffer when nothing matched.
    package func rewriting(json: ByteBuffer, _ direction: Direction) -> ByteBuffer {
        let table = self.table(direction)
        guard !table.isEmpty else { return json }
        return json.withUnsafeReadableBytes { bytes -> ByteBuffer in
            var out: [UInt8] = []
            var copied = 0
            var tokens = JSONTokens(bytes)
            while let (kind, range) = tokens.next() {
                guard case .string = kind else { continue }
                table.rewrite(bytes, tokens.content(ofString: range), json: true, into: &out, copied: &copied)
            }
            guard copied > 0 else { return json }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[copied...]))
            return ByteBuffer(bytes: out)
        }
    }

    /// `text` (the content of one string, not JSON) with ids rewritten by the same rule.
    package func rewriting(string text: String, _ direction: Direction) -> String {
        let table = self.table(direction)
        guard !table.isEmpty else { return text }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw in
            var out: [UInt8] = []
            var copied = 0
            table.rewrite(raw, 0..<raw.count, json: false, into: &out, copied: &copied)
            guard copied > 0 else { return text }
            out.append(contentsOf: raw[copied...])
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// `packet` with ids rewritten in its JSON payload and event name (binary attachments and
    /// the header are not touched).
    package func rewriting(_ packet: SocketIOPacket, _ direction: Direction) -> SocketIOPacket {
        guard !self.table(direction).isEmpty, let json = packet.json else { return packet }
        let rewritten = self.rewriting(json: json, direction)
        guard rewritten != json else { return packet }
        var out = packet
        out.json = rewritten
        out.eventName = packet.eventName.map { self.rewriting(string: $0, direction) }
        return out
    }

    private func table(_ direction: Direction) -> Table {
        direction == .toLive ? self.toLiveTable : self.toRecordedTable
    }

    static func isMappable(_ id: String) -> Bool {
        !id.utf8.contains { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }
    }

    /// Ids to find, by first byte, longest first.
    private struct Table: Sendable {
        struct Entry: Sendable {
            var from: [UInt8]
            var to: [UInt8]
        }

        var byFirstByte: [UInt8: [Entry]] = [:]

        /// Adds an id, keeping each bucket longest first (ties in the order added).
        mutating func insert(from: [UInt8], to: [UInt8]) {
            var bucket = self.byFirstByte[from[0], default: []]
            let position = bucket.firstIndex { $0.from.count < from.count } ?? bucket.endIndex
            bucket.insert(Entry(from: from, to: to), at: position)
            self.byFirstByte[from[0]] = bucket
        }

        var isEmpty: Bool { self.byFirstByte.isEmpty }

        /// Rewrites the string content `range` of `bytes`: appends to `out` what lies between
        /// `copied` and a match, then the replacement, and moves `copied` past the match. `json`:
        /// the content is a JSON string's, with escapes.
        func rewrite(
            _ bytes: UnsafeRawBufferPointer,
            _ range: Range<Int>,
            json: Bool,
            into out: inout [UInt8],
            copied: inout Int
        ) {
            var i = range.lowerBound
            search: while i < range.upperBound {
                if let entries = self.byFirstByte[bytes[i]] {
                    for entry in entries where i + entry.from.count <= range.upperBound {
                        let whole = i == range.lowerBound && i + entry.from.count == range.upperBound
                        guard whole || entry.from.count >= IDMapping.minimumEmbeddedLength else { continue }
                        guard Self.matches(entry.from, bytes, at: i) else { continue }
                        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[copied..<i]))
                        out.append(contentsOf: entry.to)
                        i += entry.from.count
                        copied = i
                        continue search
                    }
                }
                // Skip an escape as a whole so no match starts inside it.
                if json, bytes[i] == UInt8(ascii: "\\") {
                    i += i + 1 < range.upperBound && bytes[i + 1] == UInt8(ascii: "u") ? 6 : 2
                } else {
                    i += 1
                }
            }
        }

        static func matches(_ id: [UInt8], _ bytes: UnsafeRawBufferPointer, at i: Int) -> Bool {
            for k in 1..<id.count where bytes[i + k] != id[k] { return false }
            return true
        }
    }
}
