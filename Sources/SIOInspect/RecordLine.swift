import SIOWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The top-level fields of one recording line, found on the bytes: for each field it knows, the
/// byte range of its value (strings without their quotes). No value is built, nothing is
/// allocated per line; `inspect` filters and counts from these ranges and decodes a full
/// `Record` only for the lines it renders as text or HAR.
///
/// The scan checks the structure (an object of `"key": value` pairs, strings and brackets
/// closed) but not every nested value; `siotape verify` decodes every line completely.
public struct RecordLine {
    public enum Field: Int, CaseIterable {
        case t, k, sid, conn, dir, tr, type, nsp, id, event, ackUs, data, dataText, dataB64, att, attN
        case text, b64, cause, code, status, level, msg, layer, reason, records, bytes, method, size, path, peer

        var key: StaticString {
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
            }
        }
    }

    public struct Malformed: Error, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "\(self.message) at byte \(self.offset) of the line" }
    }

    /// Per field: start and end of its value (`start < 0` when absent) and whether it was a string
    /// (then the range excludes the quotes). In one allocation that `parse` overwrites in place:
    /// copies of a `RecordLine` share it, so use a line's fields before parsing the next line.
    private final class Storage {
        let starts: UnsafeMutablePointer<Int>
        let ends: UnsafeMutablePointer<Int>
        let quoted: UnsafeMutablePointer<Bool>

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

    private let storage = Storage()
    /// `Field.allCases.count` without building the array.
    static let fieldCount = Field.peer.rawValue + 1

    public init() {}

    /// The byte range of `field`'s value (inside the quotes for a string), if present and not `null`.
    @inline(__always)
    public func range(_ field: Field) -> Range<Int>? {
        let s = self.storage.starts[field.rawValue]
        return s < 0 ? nil : s..<self.storage.ends[field.rawValue]
    }

    @inline(__always)
    public func has(_ field: Field) -> Bool { self.storage.starts[field.rawValue] >= 0 }

    /// Whether `field` holds a string (for a string field, escapes are still in the bytes).
    public func isString(_ field: Field) -> Bool { self.storage.quoted[field.rawValue] }

    /// The integer value of `field`, if it is a plain integer.
    public func int(_ field: Field, _ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let range = self.range(field), !self.storage.quoted[field.rawValue], !range.isEmpty else { return nil }
        var i = range.lowerBound
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < range.upperBound else { return nil }
        var value: Int64 = 0
        while i < range.upperBound {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1 && !o2 else { return nil }
            value = a
            i += 1
        }
        return negative ? -value : value
    }

    /// Whether the string value of `field` is exactly `literal` (compared as written, escapes not decoded).
    public func equals(_ field: Field, _ literal: StaticString, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let range = self.range(field), range.count == literal.utf8CodeUnitCount else { return false }
        return memcmp(bytes.baseAddress! + range.lowerBound, literal.utf8Start, range.count) == 0
    }

    /// The value bytes of `field` (inside the quotes for strings).
    public func slice(_ field: Field, _ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let range = self.range(field) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    /// Finds the fields of `bytes`, one JSON object. Unknown keys are skipped, `null` counts as absent.
    public func parse(_ bytes: UnsafeRawBufferPointer) throws(Malformed) {
        let starts = self.storage.starts
        let ends = self.storage.ends
        let quoted = self.storage.quoted
        starts.update(repeating: -1, count: Self.fieldCount)
        let n = bytes.count
        guard let raw = bytes.baseAddress, n >= 2 else { throw Malformed(offset: 0, message: "not a JSON object") }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        var i = Self.skipSpace(base, 0, n)
        guard i < n, base[i] == UInt8(ascii: "{") else { throw Malformed(offset: i, message: "expected '{'") }
        i = Self.skipSpace(base, i + 1, n)
        if i < n, base[i] == UInt8(ascii: "}") { return }
        while true {
            guard i < n, base[i] == UInt8(ascii: "\"") else { throw Malformed(offset: i, message: "expected a key") }
            let keyStart = i + 1
            guard let keyEnd = Self.stringEnd(base, keyStart, n) else {
                throw Malformed(offset: i, message: "unterminated key")
            }
            i = Self.skipSpace(base, keyEnd + 1, n)
            guard i < n, base[i] == UInt8(ascii: ":") else { throw Malformed(offset: i, message: "expected ':'") }
            i = Self.skipSpace(base, i + 1, n)
            guard i < n else { throw Malformed(offset: i, message: "expected a value") }
            let valueStart = i
            let isString = base[i] == UInt8(ascii: "\"")
            let valueEnd: Int
            if isString {
                guard let end = Self.stringEnd(base, i + 1, n) else {
                    throw Malformed(offset: i, message: "unterminated string")
                }
                valueEnd = end + 1
            } else {
                valueEnd = try Self.valueEnd(base, i, n)
            }
            if let field = Self.field(base + keyStart, keyEnd - keyStart) {
                let isNull =
                    !isString && valueEnd - valueStart == 4 && base[valueStart] == UInt8(ascii: "n")
                if !isNull {
                    starts[field.rawValue] = isString ? valueStart + 1 : valueStart
                    ends[field.rawValue] = isString ? valueEnd - 1 : valueEnd
                    quoted[field.rawValue] = isString
                }
            }
            i = Self.skipSpace(base, valueEnd, n)
            guard i < n else { throw Malformed(offset: i, message: "unterminated object") }
            if base[i] == UInt8(ascii: ",") {
                i = Self.skipSpace(base, i + 1, n)
                continue
            }
            guard base[i] == UInt8(ascii: "}") else { throw Malformed(offset: i, message: "expected ',' or '}'") }
            guard Self.skipSpace(base, i + 1, n) == n else {
                throw Malformed(offset: i + 1, message: "text after the object")
            }
            return
        }
    }

    @inline(__always)
    private static func skipSpace(_ base: UnsafePointer<UInt8>, _ from: Int, _ n: Int) -> Int {
        var i = from
        while i < n {
            let b = base[i]
            guard b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A else { break }
            i += 1
        }
        return i
    }

    /// The index of the closing quote of a string whose content starts at `from`, eight bytes
    /// at a time up to the next quote or backslash.
    @inline(__always)
    static func stringEnd(_ base: UnsafePointer<UInt8>, _ from: Int, _ n: Int) -> Int? {
        let raw = UnsafeRawPointer(base)
        var i = from
        while true {
            while i &+ 8 <= n {
                let word = ByteWords.load(raw, i)
                let found = ByteWords.equal(word, UInt8(ascii: "\"")) | ByteWords.equal(word, UInt8(ascii: "\\"))
                if found != 0 {
                    i &+= ByteWords.firstIndex(found)
                    break
                }
                i &+= 8
            }
            guard i < n else { return nil }
            switch base[i] {
            case UInt8(ascii: "\""): return i
            case UInt8(ascii: "\\"): i &+= 2
            default: i &+= 1
            }
        }
    }

    /// The end of a non-string value starting at `from`: brackets balanced, strings skipped.
    private static func valueEnd(_ base: UnsafePointer<UInt8>, _ from: Int, _ n: Int) throws(Malformed) -> Int {
        let first = base[from]
        if first != UInt8(ascii: "[") && first != UInt8(ascii: "{") {
            var i = from
            while i < n {
                let b = base[i]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 { break }
                i += 1
            }
            guard i > from else { throw Malformed(offset: from, message: "expected a value") }
            return i
        }
        let raw = UnsafeRawPointer(base)
        var depth = 0
        var i = from
        while true {
            // Eight bytes at a time to the next quote or bracket. `[ ] { }` are the bytes that
            // OR 0x26 turns into 0x7F (with `Y _ y` and DEL, which the switch passes over).
            while i &+ 8 <= n {
                let word = ByteWords.load(raw, i)
                let found =
                    ByteWords.equal(word | ByteWords.repeating(0x26), 0x7F) | ByteWords.equal(word, UInt8(ascii: "\""))
                if found != 0 {
                    i &+= ByteWords.firstIndex(found)
                    break
                }
                i &+= 8
            }
            guard i < n else { break }
            switch base[i] {
            case UInt8(ascii: "\""):
                guard let end = Self.stringEnd(base, i + 1, n) else {
                    throw Malformed(offset: i, message: "unterminated string")
                }
                i = end
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                guard depth <= 256 else { throw Malformed(offset: i, message: "nested too deeply") }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return i + 1 }
            default:
                break
            }
            i += 1
        }
        throw Malformed(offset: from, message: "unterminated \(first == UInt8(ascii: "[") ? "array" : "object")")
    }

    @inline(__always)
    private static func field(_ key: UnsafePointer<UInt8>, _ length: Int) -> Field? {
        @inline(__always) func match(_ name: StaticString) -> Bool {
            memcmp(key, name.utf8Start, length) == 0
        }
        let c = key[0]
        switch length {
        case 1:
            return c == UInt8(ascii: "t") ? .t : c == UInt8(ascii: "k") ? .k : nil
        case 2:
            return match("tr") ? .tr : match("id") ? .id : nil
        case 3:
            switch c {
            case UInt8(ascii: "s"): return match("sid") ? .sid : nil
            case UInt8(ascii: "d"): return match("dir") ? .dir : nil
            case UInt8(ascii: "n"): return match("nsp") ? .nsp : nil
            case UInt8(ascii: "a"): return match("att") ? .att : nil
            case UInt8(ascii: "b"): return match("b64") ? .b64 : nil
            case UInt8(ascii: "m"): return match("msg") ? .msg : nil
            default: return nil
            }
        case 4:
            switch c {
            case UInt8(ascii: "c"): return match("conn") ? .conn : match("code") ? .code : nil
            case UInt8(ascii: "t"): return match("type") ? .type : match("text") ? .text : nil
            case UInt8(ascii: "d"): return match("data") ? .data : nil
            case UInt8(ascii: "p"): return match("path") ? .path : match("peer") ? .peer : nil
            case UInt8(ascii: "s"): return match("size") ? .size : nil
            default: return nil
            }
        case 5:
            switch c {
            case UInt8(ascii: "e"): return match("event") ? .event : nil
            case UInt8(ascii: "c"): return match("cause") ? .cause : nil
            case UInt8(ascii: "l"): return match("level") ? .level : match("layer") ? .layer : nil
            case UInt8(ascii: "a"): return match("att_n") ? .attN : nil
            case UInt8(ascii: "b"): return match("bytes") ? .bytes : nil
            default: return nil
            }
        case 6:
            switch c {
            case UInt8(ascii: "a"): return match("ack_us") ? .ackUs : nil
            case UInt8(ascii: "s"): return match("status") ? .status : nil
            case UInt8(ascii: "r"): return match("reason") ? .reason : nil
            case UInt8(ascii: "m"): return match("method") ? .method : nil
            default: return nil
            }
        case 7:
            return match("records") ? .records : nil
        case 8:
            return match("data_b64") ? .dataB64 : nil
        case 9:
            return match("data_text") ? .dataText : nil
        default:
            return nil
        }
    }
}
