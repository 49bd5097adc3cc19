import SIOWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The top-level fields of one recording line, found on the bytes: for each field of the format,
/// the byte range of its value (strings without their quotes). The one index of the format's field
/// names: `RecordEncoder` writes these keys, `RecordDecoder` reads lines through this index, and
/// `inspect` filters and counts from its ranges, decoding a full `Record` only for the lines it
/// renders as text or HAR. No value is built, nothing is allocated per line.
///
/// `parse` checks the structure (an object of `"key": value` pairs, strings and brackets
/// closed) but not every nested value; `parse(_:validating: true)` checks every value strictly
/// (`RecordDecoder`, and so `siotape verify`, read lines that way).
public struct RecordLine {
    /// Every field name of format version 1 (docs/recording-format.md).
    public enum Field: Int, CaseIterable, Sendable {
        case t, k, sid, conn, dir, tr, type, nsp, id, event, ackUs, data, dataText, dataB64, att, attN
        case text, b64, cause, code, status, level, msg, layer, reason, records, bytes, method, size, path, peer
        case head, redacted, parser, wire, reqBytes, respBytes, durUs, errorBody, reqHeaders, respHeaders
        case eio, query, headers, handshake, handshakeText, handshakeB64, ext, enc, n, off
        case seq, coding, inflated, last, note
        case format, version, started, wallUs, tool, upstream, listen

        /// The key as written in a line.
        public var key: StaticString {
            switch self {
            case .t: return "t"
            case .k: return "k"
            case .sid: return "sid"
            case .conn: return "conn"
            case .dir: return "dir"
            case .tr: return "tr"
            case .type: return "type"
            case .nsp: return "nsp"
            case .id: return "id"
            case .event: return "event"
            case .ackUs: return "ack_us"
            case .data: return "data"
            case .dataText: return "data_text"
            case .dataB64: return "data_b64"
            case .att: return "att"
            case .attN: return "att_n"
            case .text: return "text"
            case .b64: return "b64"
            case .cause: return "cause"
            case .code: return "code"
            case .status: return "status"
            case .level: return "level"
            case .msg: return "msg"
            case .layer: return "layer"
            case .reason: return "reason"
            case .records: return "records"
            case .bytes: return "bytes"
            case .method: return "method"
            case .size: return "size"
            case .path: return "path"
            case .peer: return "peer"
            case .head: return "head"
            case .redacted: return "redacted"
            case .parser: return "parser"
            case .wire: return "wire"
            case .reqBytes: return "req_bytes"
            case .respBytes: return "resp_bytes"
            case .durUs: return "dur_us"
            case .errorBody: return "error_body"
            case .reqHeaders: return "req_headers"
            case .respHeaders: return "resp_headers"
            case .eio: return "eio"
            case .query: return "query"
            case .headers: return "headers"
            case .handshake: return "handshake"
            case .handshakeText: return "handshake_text"
            case .handshakeB64: return "handshake_b64"
            case .ext: return "ext"
            case .enc: return "enc"
            case .n: return "n"
            case .off: return "off"
            case .seq: return "seq"
            case .coding: return "coding"
            case .inflated: return "inflated"
            case .last: return "last"
            case .note: return "note"
            case .format: return "format"
            case .version: return "version"
            case .started: return "started"
            case .wallUs: return "wall_us"
            case .tool: return "tool"
            case .upstream: return "upstream"
            case .listen: return "listen"
            }
        }
    }

    /// A line that is not one JSON object of fields: what is wrong and where.
    public struct Malformed: Error, CustomStringConvertible {
        public var offset: Int
        public var message: String

        public init(offset: Int, message: String) {
            self.offset = offset
            self.message = message
        }

        public var description: String { "\(self.message) at byte \(self.offset) of the line" }
    }

    /// Per field: start and end of its value (`start < 0` when absent) and whether it was a string
    /// (then the range excludes the quotes). In one allocation that `parse` overwrites in place:
    /// copies of a `RecordLine` share it, so use a line's fields before parsing the next line.
    @usableFromInline
    final class Storage {
        @usableFromInline let starts: UnsafeMutablePointer<Int>
        @usableFromInline let ends: UnsafeMutablePointer<Int>
        @usableFromInline let quoted: UnsafeMutablePointer<Bool>
        /// See `RecordLine.matchesUncheckedScan`.
        var matchesUncheckedScan = true

        init() {
            let n = RecordLine.fieldCount
            self.starts = .allocate(capacity: n)
            self.starts.initialize(repeating: -1, count: n)
            self.ends = .allocate(capacity: n)
            self.ends.initialize(repeating: 0, count: n)
            self.quoted = .allocate(capacity: n)
            self.quoted.initialize(repeating: false, count: n)
        }

        deinit {
            self.starts.deallocate()
            self.ends.deallocate()
            self.quoted.deallocate()
        }
    }

    // Inlinable accessors: `inspect` and the view read a line's fields from other modules, for
    // every line, and a call per field would cost it more than the scan.
    @usableFromInline let storage = Storage()
    /// `Field.allCases.count` without building the array.
    static let fieldCount = Field.listen.rawValue + 1

    public init() {}

    /// The byte range of `field`'s value (inside the quotes for a string), if present and not `null`.
    @inlinable @inline(__always)
    public func range(_ field: Field) -> Range<Int>? {
        let s = self.storage.starts[field.rawValue]
        return s < 0 ? nil : s..<self.storage.ends[field.rawValue]
    }

    @inlinable @inline(__always)
    public func has(_ field: Field) -> Bool { self.storage.starts[field.rawValue] >= 0 }

    /// Whether `field` holds a string (for a string field, escapes are still in the bytes).
    @inlinable @inline(__always)
    public func isString(_ field: Field) -> Bool { self.storage.quoted[field.rawValue] }

    /// The integer value of `field`, if it is a plain integer.
    @inlinable @inline(__always)
    public func int(_ field: Field, _ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let range = self.range(field), !self.storage.quoted[field.rawValue] else { return nil }
        return JSONCursor.int64(bytes, range)
    }

    /// Whether the string value of `field` is exactly `literal` (compared as written, escapes not decoded).
    @inlinable @inline(__always)
    public func equals(_ field: Field, _ literal: StaticString, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let range = self.range(field), range.count == literal.utf8CodeUnitCount else { return false }
        return memcmp(bytes.baseAddress! + range.lowerBound, literal.utf8Start, range.count) == 0
    }

    /// The value bytes of `field` (inside the quotes for strings).
    @inlinable @inline(__always)
    public func slice(_ field: Field, _ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let range = self.range(field) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    /// The byte range of `field`'s whole value, quotes included for a string.
    @inlinable @inline(__always)
    public func valueRange(_ field: Field) -> Range<Int>? {
        guard let range = self.range(field) else { return nil }
        return self.storage.quoted[field.rawValue] ? (range.lowerBound - 1)..<(range.upperBound + 1) : range
    }

    /// Whether the ranges found by the last `parse` are those the unchecked scan finds too. They
    /// differ only where a number, `true`, `false` or `null` is followed by a tab or a carriage
    /// return: the validating scan ends the value before it, the unchecked one only at a space,
    /// `,`, `}` or `]`. So a reader that indexes lines with the unchecked scan can parse a line
    /// once, validating, when this holds (`inspect`'s text and HAR output).
    public var matchesUncheckedScan: Bool { self.storage.matchesUncheckedScan }

    /// Finds the fields of `bytes`, one JSON object. Unknown keys are skipped, `null` counts as
    /// absent. `validating`: every value is checked as strict JSON too, not only where it ends.
    public func parse(_ bytes: UnsafeRawBufferPointer, validating: Bool = false) throws(Malformed) {
        self.storage.starts.update(repeating: -1, count: Self.fieldCount)
        self.storage.matchesUncheckedScan = true
        do throws(WireError) {
            if validating {
                try self.parseValidating(bytes)
            } else {
                try self.parseUnchecked(bytes)
            }
        } catch {
            throw Malformed(offset: error.offset, message: error.reason)
        }
    }

    /// Nesting deeper than this in a line is damage (payloads from the wire nest 128 levels at most).
    static let maxDepth = 256

    /// The fast scan of `inspect`: on a pointer, every value skipped by `JSONCursor`'s unchecked
    /// primitives (this runs for every line of a recording).
    private func parseUnchecked(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        let n = bytes.count
        guard let raw = bytes.baseAddress, n >= 2 else { throw WireError("not a JSON object", at: 0) }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        var i = JSONCursor.skipWhitespace(base, 0, n)
        guard i < n, base[i] == UInt8(ascii: "{") else { throw WireError("expected '{'", at: i) }
        i = JSONCursor.skipWhitespace(base, i + 1, n)
        if i < n, base[i] == UInt8(ascii: "}") {
            guard JSONCursor.skipWhitespace(base, i + 1, n) == n else { throw WireError("text after the object", at: i + 1) }
            return
        }
        while true {
            guard i < n, base[i] == UInt8(ascii: "\"") else { throw WireError("expected a key", at: i) }
            let keyStart = i + 1
            guard let keyEnd = JSONCursor.stringEnd(base, keyStart, n) else { throw WireError("unterminated key", at: i) }
            i = JSONCursor.skipWhitespace(base, keyEnd + 1, n)
            guard i < n, base[i] == UInt8(ascii: ":") else { throw WireError("expected ':'", at: i) }
            i = JSONCursor.skipWhitespace(base, i + 1, n)
            guard i < n else { throw WireError("expected a value", at: i) }
            let valueStart = i
            let isString = base[i] == UInt8(ascii: "\"")
            let valueEnd = try JSONCursor.valueEndUnchecked(base, i, n, maxDepth: Self.maxDepth)
            let isNull = !isString && valueEnd - valueStart == 4 && base[valueStart] == UInt8(ascii: "n")
            if !isNull, keyEnd > keyStart {
                self.record(Self.field(base + keyStart, keyEnd - keyStart), valueStart..<valueEnd, isString: isString)
            }
            i = JSONCursor.skipWhitespace(base, valueEnd, n)
            guard i < n else { throw WireError("unterminated object", at: i) }
            if base[i] == UInt8(ascii: ",") {
                i = JSONCursor.skipWhitespace(base, i + 1, n)
                continue
            }
            guard base[i] == UInt8(ascii: "}") else { throw WireError("expected ',' or '}'", at: i) }
            guard JSONCursor.skipWhitespace(base, i + 1, n) == n else { throw WireError("text after the object", at: i + 1) }
            return
        }
    }

    /// The decoder's scan: every key and value checked by `JSONCursor`.
    private func parseValidating(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        var cursor = JSONCursor(bytes, maxDepth: Self.maxDepth)
        cursor.skipWhitespace()
        guard cursor.peek() == UInt8(ascii: "{") else { throw WireError("expected '{'", at: cursor.index) }
        cursor.index += 1
        if !cursor.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try cursor.memberKey().content
                let start = cursor.index
                let kind = try cursor.skipValue()
                if kind != .string && kind != .object && kind != .array, let next = cursor.peek(), next < 0x20 {
                    self.storage.matchesUncheckedScan = false
                }
                if kind != .null, !key.isEmpty {
                    self.record(
                        Self.field(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + key.lowerBound, key.count),
                        start..<cursor.index, isString: kind == .string)
                }
            } while try cursor.continueContainer(closing: UInt8(ascii: "}"))
        }
        cursor.skipWhitespace()
        guard cursor.atEnd else { throw WireError("text after the object", at: cursor.index) }
    }

    /// Notes the value of a known field (a string without its quotes).
    @inline(__always)
    private func record(_ field: Field?, _ value: Range<Int>, isString: Bool) {
        guard let field else { return }
        self.storage.starts[field.rawValue] = isString ? value.lowerBound + 1 : value.lowerBound
        self.storage.ends[field.rawValue] = isString ? value.upperBound - 1 : value.upperBound
        self.storage.quoted[field.rawValue] = isString
    }

    /// The field of a key, by its length and first byte, then the whole key.
    @inline(__always)
    private static func field(_ key: UnsafePointer<UInt8>, _ length: Int) -> Field? {
        @inline(__always) func match(_ field: Field) -> Field? {
            memcmp(key, field.key.utf8Start, length) == 0 ? field : nil
        }
        let c = key[0]
        switch length {
        case 1:
            switch c {
            case UInt8(ascii: "t"): return .t
            case UInt8(ascii: "k"): return .k
            case UInt8(ascii: "n"): return .n
            default: return nil
            }
        case 2:
            switch c {
            case UInt8(ascii: "t"): return match(.tr)
            case UInt8(ascii: "i"): return match(.id)
            default: return nil
            }
        case 3:
            switch c {
            case UInt8(ascii: "s"): return match(.sid) ?? match(.seq)
            case UInt8(ascii: "d"): return match(.dir)
            case UInt8(ascii: "n"): return match(.nsp)
            case UInt8(ascii: "a"): return match(.att)
            case UInt8(ascii: "b"): return match(.b64)
            case UInt8(ascii: "m"): return match(.msg)
            case UInt8(ascii: "e"): return match(.eio) ?? match(.ext) ?? match(.enc)
            case UInt8(ascii: "o"): return match(.off)
            default: return nil
            }
        case 4:
            switch c {
            case UInt8(ascii: "c"): return match(.conn) ?? match(.code)
            case UInt8(ascii: "t"): return match(.type) ?? match(.text) ?? match(.tool)
            case UInt8(ascii: "d"): return match(.data)
            case UInt8(ascii: "p"): return match(.path) ?? match(.peer)
            case UInt8(ascii: "s"): return match(.size)
            case UInt8(ascii: "h"): return match(.head)
            case UInt8(ascii: "w"): return match(.wire)
            case UInt8(ascii: "l"): return match(.last)
            case UInt8(ascii: "n"): return match(.note)
            default: return nil
            }
        case 5:
            switch c {
            case UInt8(ascii: "e"): return match(.event)
            case UInt8(ascii: "c"): return match(.cause)
            case UInt8(ascii: "l"): return match(.level) ?? match(.layer)
            case UInt8(ascii: "a"): return match(.attN)
            case UInt8(ascii: "b"): return match(.bytes)
            case UInt8(ascii: "q"): return match(.query)
            default: return nil
            }
        case 6:
            switch c {
            case UInt8(ascii: "a"): return match(.ackUs)
            case UInt8(ascii: "s"): return match(.status)
            case UInt8(ascii: "r"): return match(.reason)
            case UInt8(ascii: "m"): return match(.method)
            case UInt8(ascii: "d"): return match(.durUs)
            case UInt8(ascii: "p"): return match(.parser)
            case UInt8(ascii: "c"): return match(.coding)
            case UInt8(ascii: "l"): return match(.listen)
            case UInt8(ascii: "f"): return match(.format)
            default: return nil
            }
        case 7:
            switch c {
            case UInt8(ascii: "r"): return match(.records)
            case UInt8(ascii: "h"): return match(.headers)
            case UInt8(ascii: "v"): return match(.version)
            case UInt8(ascii: "s"): return match(.started)
            case UInt8(ascii: "w"): return match(.wallUs)
            default: return nil
            }
        case 8:
            switch c {
            case UInt8(ascii: "d"): return match(.dataB64)
            case UInt8(ascii: "r"): return match(.redacted)
            case UInt8(ascii: "i"): return match(.inflated)
            case UInt8(ascii: "u"): return match(.upstream)
            default: return nil
            }
        case 9:
            switch c {
            case UInt8(ascii: "d"): return match(.dataText)
            case UInt8(ascii: "r"): return match(.reqBytes)
            case UInt8(ascii: "h"): return match(.handshake)
            default: return nil
            }
        case 10:
            return match(.respBytes) ?? match(.errorBody)
        case 11:
            return match(.reqHeaders)
        case 12:
            return match(.respHeaders)
        case 13:
            return match(.handshakeB64)
        case 14:
            return match(.handshakeText)
        default:
            return nil
        }
    }
}
