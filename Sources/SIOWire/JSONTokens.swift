/// The tokens of a JSON text, read leniently: for the maskers and rewriters that must copy every
/// byte of what they are given, JSON or not (credential masking, known secrets, id rewriting).
///
/// Each token is a byte range; strings are told apart as object keys or values by the brackets,
/// commas and colons before them. Nothing is validated: an unterminated string runs to the end, a
/// byte that starts no JSON token becomes a one-run `scalar` with the bytes up to the next
/// structural byte, quote or space. Strict reading is `JSONCursor`'s `skipValue`.
public struct JSONTokens {
    /// What a token is.
    public enum Kind: Hashable, Sendable {
        /// `{` (`object: true`) or `[`.
        case open(object: Bool)
        /// `}` or `]`.
        case close
        case comma, colon
        /// A run of spaces, tabs and line breaks.
        case whitespace
        /// A string, quotes included in the range; `key` when it stands where an object key does.
        case string(key: Bool)
        /// A number, a literal, or bytes that are not JSON.
        case scalar
    }

    /// The text.
    public let bytes: UnsafeRawBufferPointer
    /// The offset of the next token.
    public var index = 0
    /// For each open container: whether it is an object.
    private var containers: [Bool] = []
    private var expectKey = false

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The next token and its byte range, `nil` at the end.
    public mutating func next() -> (kind: Kind, range: Range<Int>)? {
        guard self.index < self.bytes.count else { return nil }
        let start = self.index
        let byte = self.bytes[start]
        let kind: Kind
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0D:
            while self.index < self.bytes.count, isJSONWhitespaceByte(self.bytes[self.index]) { self.index += 1 }
            return (.whitespace, start..<self.index)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let object = byte == UInt8(ascii: "{")
            self.containers.append(object)
            self.expectKey = object
            kind = .open(object: object)
            self.index += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            _ = self.containers.popLast()
            self.expectKey = false
            kind = .close
            self.index += 1
        case UInt8(ascii: ","):
            self.expectKey = self.containers.last ?? false
            kind = .comma
            self.index += 1
        case UInt8(ascii: ":"):
            self.expectKey = false
            kind = .colon
            self.index += 1
        case UInt8(ascii: "\""):
            self.index = Self.stringEnd(self.bytes, start)
            kind = .string(key: self.expectKey)
        default:
            self.index += 1
            while self.index < self.bytes.count, !Self.endsScalar(self.bytes[self.index]) { self.index += 1 }
            kind = .scalar
        }
        return (kind, start..<self.index)
    }

    /// Moves past the whole value that starts at the next byte (a string, a bracketed value with
    /// everything inside, or a run up to `,`, `}`, `]` or whitespace) and returns its range. The
    /// containers it held do not count: the next token follows the value.
    public mutating func skipValue() -> Range<Int> {
        let start = self.index
        guard start < self.bytes.count else { return start..<start }
        switch self.bytes[start] {
        case UInt8(ascii: "\""):
            self.index = Self.stringEnd(self.bytes, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            self.index = self.bytes.count
            scan: while i < self.bytes.count {
                switch self.bytes[i] {
                case UInt8(ascii: "\""):
                    i = Self.stringEnd(self.bytes, i)
                    continue scan
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        self.index = i + 1
                        break scan
                    }
                default: break
                }
                i += 1
            }
        default:
            var i = start
            while i < self.bytes.count, !Self.endsValueRun(self.bytes[i]) { i += 1 }
            self.index = max(i, start + 1)
        }
        self.expectKey = false
        return start..<self.index
    }

    /// The bytes between the quotes of a string token (to the end of the text when it is not closed).
    public func content(ofString range: Range<Int>) -> Range<Int> {
        (range.lowerBound + 1)..<(Self.runsToEnd(self.bytes, range.lowerBound) ? range.upperBound : range.upperBound - 1)
    }

    /// Whether the string at `start` has no closing quote.
    private static func runsToEnd(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Bool {
        var end = start + 1
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
        return end >= bytes.count
    }

    /// Just past the closing quote of the string whose opening quote is at `start` (escapes
    /// skipped as two bytes), or the end of the text when it is not closed.
    @inline(__always)
    public static func stringEnd(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Int {
        var end = start + 1
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
        return min(end + 1, bytes.count)
    }

    @inline(__always)
    private static func endsScalar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "\""), 0x20, 0x09, 0x0A, 0x0D:
            return true
        default:
            return false
        }
    }

    @inline(__always)
    private static func endsValueRun(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return true
        default: return false
        }
    }
}
