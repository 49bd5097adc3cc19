#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SIORecording
import SIOWire

/// Which records `inspect` shows. Every condition given must hold; a repeated option matches
/// any of its values. A record that lacks the field a condition is about does not match it
/// (with `--namespace`, only Socket.IO packets are shown).
public struct PacketFilter: Sendable {
    /// Session ids or prefixes of them (the text view shows the first 8 characters).
    public var sessions: [String] = []
    /// Namespaces, exactly (`/`, `/admin`).
    public var namespaces: [String] = []
    /// Event names, with `*` (any run of characters) and `?` (one character). An event's ACK
    /// matches as well, when the event is in the recording.
    public var events: [String] = []
    public var direction: Direction?
    /// Socket.IO packet types (`EVENT`, `ack`, `connect_error`, ...) or Engine.IO types (`ping`,
    /// `upgrade`, ...), case-insensitive.
    public var types: [String] = []
    /// Wall-clock bounds, µs since the epoch, inclusive.
    public var since: Int64?
    public var until: Int64?
    /// Text that must occur in the packet's arguments or data (as written in the recording:
    /// JSON text, or base64 for binary).
    public var grep: String?
    /// Show Engine.IO-level and connection-level records (ping, pong, noop, polling bodies,
    /// HTTP exchanges, TCP connections, WebSocket frames); applies to the text and jsonl views.
    public var engine = false

    public init() {}

    /// Whether no condition is given (every record passes, but for `engine`).
    package var isEmpty: Bool {
        self.sessions.isEmpty && self.namespaces.isEmpty && self.events.isEmpty && self.direction == nil
            && self.types.isEmpty && self.since == nil && self.until == nil && self.grep == nil
    }

    /// Whether any condition is about packet contents (then session-level records are hidden).
    package var selectsPackets: Bool {
        !self.namespaces.isEmpty || !self.events.isEmpty || !self.types.isEmpty || self.grep != nil
    }
}

/// `PacketFilter` applied to lines, with per-name answers cached by interned id.
package struct PacketMatcher {
    let filter: PacketFilter
    private let sessionPrefixes: [[UInt8]]
    private let namespaces: [[UInt8]]
    private let globs: [[UInt8]]
    private let types: [[UInt8]]
    private let grep: [UInt8]
    /// Per interned event id: 1 matches, 2 does not, 0 unknown yet.
    private var eventCache: [UInt8] = []
    private var sessionCache: [UInt8] = []
    private var namespaceCache: [UInt8] = []

    package init(_ filter: PacketFilter) {
        self.filter = filter
        self.sessionPrefixes = filter.sessions.map { Array($0.utf8) }
        self.namespaces = filter.namespaces.map { Array($0.utf8) }
        self.globs = filter.events.map { Array($0.utf8) }
        self.types = filter.types.map { Array($0.uppercased().utf8) }
        self.grep = Array((filter.grep ?? "").utf8)
    }

    /// Whether the line is selected; `hideEngine` applies the engine-level visibility too.
    package mutating func matches(
        _ info: LineInfo, _ line: RecordLine, _ bytes: UnsafeRawBufferPointer, indexer: LineIndexer,
        hideEngine: Bool
    ) -> Bool {
        self.matches(info, line, bytes, index: indexer.table, hideEngine: hideEngine)
    }

    /// Whether the line is selected; `hideEngine` applies the engine-level visibility too.
    package mutating func matches(
        _ info: LineInfo, _ line: RecordLine, _ bytes: UnsafeRawBufferPointer, index: LineIndex,
        hideEngine: Bool
    ) -> Bool {
        let filter = self.filter
        if hideEngine && !filter.engine && info.kind.isEngineLevel { return false }
        if let since = filter.since, info.wall < since { return false }
        if let until = filter.until, info.wall > until { return false }
        if let direction = filter.direction, info.direction != direction { return false }
        if !self.sessionPrefixes.isEmpty {
            guard info.sid >= 0 else { return false }
            let prefixes = self.sessionPrefixes
            guard Self.cached(&self.sessionCache, info.sid, {
                let sid = index.sessionBytes(info.sid)
                return prefixes.contains { sid.starts(with: $0) }
            }) else { return false }
        }
        if filter.selectsPackets && info.kind != .sio && info.kind != .eio && info.kind != .raw { return false }
        if !self.namespaces.isEmpty {
            guard info.namespace >= 0 else { return false }
            let namespaces = self.namespaces
            guard Self.cached(&self.namespaceCache, info.namespace, {
                let nsp = index.namespaceBytes(info.namespace)
                return namespaces.contains { nsp.elementsEqual($0) }
            }) else { return false }
        }
        if !self.globs.isEmpty {
            guard info.event >= 0 else { return false }
            let globs = self.globs
            guard Self.cached(&self.eventCache, info.event, {
                let name = Array(index.eventBytes(info.event))
                return globs.contains { Glob.matches($0, name) }
            }) else { return false }
        }
        if !self.types.isEmpty {
            guard let type = line.slice(.type, bytes) else { return false }
            guard self.types.contains(where: { Self.equalsUppercased(type, $0) }) else { return false }
        }
        if !self.grep.isEmpty {
            guard self.contains(line, bytes) else { return false }
        }
        return true
    }

    private static func cached(_ cache: inout [UInt8], _ id: Int, _ compute: () -> Bool) -> Bool {
        if id >= cache.count { cache.append(contentsOf: repeatElement(0, count: id - cache.count + 1)) }
        if cache[id] == 0 { cache[id] = compute() ? 1 : 2 }
        return cache[id] == 1
    }

    private static func equalsUppercased(_ bytes: UnsafeRawBufferPointer, _ upper: [UInt8]) -> Bool {
        guard bytes.count == upper.count else { return false }
        for i in 0..<upper.count {
            var b = bytes[i]
            if b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") { b -= 32 }
            if b != upper[i] { return false }
        }
        return true
    }

    /// `grep` in the payload fields of the line: `data`, `data_text`, `data_b64`, `text`, `b64`, `att`.
    private func contains(_ line: RecordLine, _ bytes: UnsafeRawBufferPointer) -> Bool {
        for field in [RecordLine.Field.data, .dataText, .dataB64, .text, .b64, .att] {
            guard let value = line.slice(field, bytes), value.count >= self.grep.count else { continue }
            if Self.find(self.grep, in: value) { return true }
        }
        return false
    }
}

extension PacketMatcher {
    /// Whether `needle` (not empty) occurs in `haystack`: `memchr` for its first byte, then `memcmp`.
    package static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Bool {
        needle.withUnsafeBytes { n in
            let base = haystack.baseAddress!
            var i = 0
            let last = haystack.count - n.count
            while i <= last {
                guard let hit = memchr(base + i, Int32(n[0]), last - i + 1) else { return false }
                let at = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + at, n.baseAddress!, n.count) == 0 { return true }
                i = at + 1
            }
            return false
        }
    }
}

/// Shell-style patterns on bytes: `*` any run, `?` one byte; everything else literal.
package enum Glob {
    package static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0
        var t = 0
        var star = -1
        var resume = 0
        while t < text.count {
            if p < pattern.count && (pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t]) {
                p += 1
                t += 1
            } else if p < pattern.count && pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
