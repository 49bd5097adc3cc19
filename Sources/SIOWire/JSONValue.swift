/// A JSON value for comparing payloads: objects compare without regard to key order, numbers by
/// value. Built on `JSONCursor`. Only replay builds these (to compare payloads, to read ids out of
/// CONNECT payloads, to check options); forwarding and recording keep the wire's bytes.
package indirect enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// The number's text as written; compared by value (see `==`).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
    /// A value an `--ignore` path removed from comparison.
    case ignored

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null), (.ignored, .ignored): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return Self.sameNumber(a, b)
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    /// `1` and `1.0` are the same number; two integers are compared exactly (beyond 2^53 a
    /// `Double` would call different ids equal).
    static func sameNumber(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        let isInteger = { (s: String) in !s.contains { $0 == "." || $0 == "e" || $0 == "E" } }
        if isInteger(a) && isInteger(b), let x = Int(a), let y = Int(b) { return x == y }
        return Double(a) == Double(b)
    }

    package func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .number(let n): hasher.combine(Double(n) ?? 0)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let o): hasher.combine(o)
        case .ignored: hasher.combine(1)
        }
    }

    /// Parses JSON text; `nil` when it is not valid JSON.
    package init?(parsing text: String) {
        var text = text
        let parsed = text.withUTF8 { utf8 in try? JSONValue(parsing: UnsafeRawBufferPointer(utf8)) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The member `key` of an object; `nil` for other values.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The string of a `.string`; `nil` for other values.
    package var stringValue: String? {
        guard case .string(let string) = self else { return nil }
        return string
    }

    /// Compact JSON text, keys sorted, for messages.
    package var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return Self.quote(s)
        case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
        case .object(let o):
            return "{" + o.keys.sorted().map { Self.quote($0) + ":" + o[$0]!.text }.joined(separator: ",") + "}"
        case .ignored: return "(ignored)"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The deepest nesting `init(parsing:)` accepts.
    package static let maxDepth = 256

    /// Parses one JSON value (surrounding whitespace allowed), strictly as RFC 8259 says.
    package init(parsing bytes: UnsafeRawBufferPointer, maxDepth: Int = JSONValue.maxDepth) throws(WireError) {
        var cursor = JSONCursor(bytes, maxDepth: maxDepth)
        cursor.skipWhitespace()
        self = try Self.value(&cursor, depth: 0)
        cursor.skipWhitespace()
        guard cursor.atEnd else { throw WireError("unexpected bytes after the JSON value", at: cursor.index) }
    }

    /// The value at the cursor (on its first byte).
    static func value(_ cursor: inout JSONCursor, depth: Int) throws(WireError) -> JSONValue {
        let start = cursor.index
        switch cursor.peek() {
        case UInt8(ascii: "{"):
            guard depth < cursor.maxDepth else { throw WireError("JSON nested deeper than \(cursor.maxDepth)", at: start) }
            cursor.index += 1
            var members: [String: JSONValue] = [:]
            if cursor.consume(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                let (key, escaped) = try cursor.memberKey()
                let name =
                    escaped
                    ? cursor.decodeString(key)
                    : String(decoding: UnsafeRawBufferPointer(rebasing: cursor.bytes[key]), as: UTF8.self)
                members[name] = try Self.value(&cursor, depth: depth + 1)
            } while try cursor.continueContainer(closing: UInt8(ascii: "}"))
            return .object(members)
        case UInt8(ascii: "["):
            guard depth < cursor.maxDepth else { throw WireError("JSON nested deeper than \(cursor.maxDepth)", at: start) }
            cursor.index += 1
            var items: [JSONValue] = []
            if cursor.consume(UInt8(ascii: "]")) { return .array(items) }
            repeat {
                cursor.skipWhitespace()
                items.append(try Self.value(&cursor, depth: depth + 1))
            } while try cursor.continueContainer(closing: UInt8(ascii: "]"))
            return .array(items)
        case UInt8(ascii: "\""):
            return .string(try cursor.readString())
        default:
            switch try cursor.skipValue(depth: depth) {
            case .true: return .bool(true)
            case .false: return .bool(false)
            case .null: return .null
            default:
                return .number(String(decoding: UnsafeRawBufferPointer(rebasing: cursor.bytes[start..<cursor.index]), as: UTF8.self))
            }
        }
    }
}
