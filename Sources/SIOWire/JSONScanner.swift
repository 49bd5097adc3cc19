import NIOCore

/// Validates one JSON value directly on UTF-8 bytes, without building any object.
///
/// Socket.IO payloads are forwarded and recorded verbatim, so decoding only needs to know that the
/// text is valid JSON, what kind of value it is, and (for events) the first array element when it is
/// a string. Doing that on the bytes keeps the hot path free of `String` and dictionaries.
public struct JSONScanner: Sendable {
    /// The kind of a JSON value.
    public enum Kind: Hashable, Sendable {
        case object, array, string, number, `true`, `false`, null
    }

    /// The result of scanning one JSON value.
    public struct Result: Hashable, Sendable {
        /// The kind of the top-level value.
        public var kind: Kind
        /// For arrays: the kind of the first element, `nil` when the array is empty.
        public var firstElementKind: Kind?
        /// For arrays whose first element is a string: that string, unescaped.
        public var firstElementString: String?
        /// Offset just past the value (before any trailing whitespace), relative to the start of the scanned bytes.
        public var end: Int
        /// No whitespace before or after the value and no line break anywhere: the bytes can be
        /// embedded as they are in a line of JSON (a recording, JSON lines).
        public var isCompact: Bool

        public init(
            kind: Kind, firstElementKind: Kind? = nil, firstElementString: String? = nil, end: Int, isCompact: Bool = false
        ) {
            self.kind = kind
            self.firstElementKind = firstElementKind
            self.firstElementString = firstElementString
            self.end = end
            self.isCompact = isCompact
        }
    }

    /// The deepest nesting accepted; deeper input is reported rather than risking the stack.
    public static let defaultMaxDepth = 128

    /// Scans the readable bytes of `buffer`, which must hold exactly one JSON value (surrounding
    /// whitespace allowed). Offsets in errors are relative to the buffer's reader index.
    /// `decodingFirstString: false` leaves `firstElementString` nil (it costs a copy of the string).
    public static func scan(
        _ buffer: ByteBuffer, maxDepth: Int = JSONScanner.defaultMaxDepth, decodingFirstString: Bool = true
    ) throws(WireError) -> Result {
        let outcome: Swift.Result<Result, WireError> = buffer.withUnsafeReadableBytes { bytes in
            var scanner = Cursor(bytes: bytes, maxDepth: maxDepth, decodingFirstString: decodingFirstString)
            do throws(WireError) {
                return .success(try scanner.scanDocument())
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}

/// The scanning state: a position in a byte buffer.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    let decodingFirstString: Bool
    var index = 0
    /// Whether whitespace skipped so far held a line break.
    var sawLineBreak = false

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int, decodingFirstString: Bool) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.decodingFirstString = decodingFirstString
    }

    mutating func scanDocument() throws(WireError) -> JSONScanner.Result {
        self.skipWhitespace()
        guard self.index < self.bytes.count else { throw WireError("expected a JSON value, found the end", at: self.index) }
        var result = JSONScanner.Result(kind: .null, firstElementKind: nil, firstElementString: nil, end: 0)
        if self.bytes[self.index] == UInt8(ascii: "[") {
            result.kind = .array
            // Scanned by hand to capture the first element.
            self.index += 1
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: "]") {
                self.index += 1
            } else {
                let firstStart = self.index
                let firstKind = try self.scanValue(depth: 1)
                result.firstElementKind = firstKind
                if firstKind == .string && self.decodingFirstString {
                    result.firstElementString = self.decodeString(from: firstStart, to: self.index)
                }
                try self.scanRestOfArray(depth: 1)
            }
        } else {
            result.kind = try self.scanValue(depth: 0)
        }
        result.end = self.index
        self.skipWhitespace()
        if self.index < self.bytes.count {
            throw WireError("unexpected bytes after the JSON value", at: self.index)
        }
        result.isCompact = !self.sawLineBreak && result.end == self.bytes.count && !isWhitespace(self.bytes[0])
        return result
    }

    func peek() -> UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09: self.index += 1
            case 0x0A, 0x0D:
                self.sawLineBreak = true
                self.index += 1
            default: return
            }
        }
    }

    mutating func scanValue(depth: Int) throws(WireError) -> JSONScanner.Kind {
        guard let byte = self.peek() else { throw WireError("expected a JSON value, found the end", at: self.index) }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < self.maxDepth else { throw WireError("JSON nested deeper than \(self.maxDepth)", at: self.index) }
            self.index += 1
            try self.scanRestOfObject(depth: depth + 1)
            return .object
        case UInt8(ascii: "["):
            guard depth < self.maxDepth else { throw WireError("JSON nested deeper than \(self.maxDepth)", at: self.index) }
            self.index += 1
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: "]") {
                self.index += 1
                return .array
            }
            _ = try self.scanValue(depth: depth + 1)
            try self.scanRestOfArray(depth: depth + 1)
            return .array
        case UInt8(ascii: "\""):
            try self.scanString()
            return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try self.scanNumber()
            return .number
        case UInt8(ascii: "t"):
            try self.scanLiteral("true")
            return .true
        case UInt8(ascii: "f"):
            try self.scanLiteral("false")
            return .false
        case UInt8(ascii: "n"):
            try self.scanLiteral("null")
            return .null
        default:
            throw WireError("unexpected byte 0x\(String(byte, radix: 16)) where a JSON value should start", at: self.index)
        }
    }

    /// After the first element of an array: `(, value)* ]`.
    mutating func scanRestOfArray(depth: Int) throws(WireError) {
        while true {
            self.skipWhitespace()
            switch self.peek() {
            case UInt8(ascii: "]"):
                self.index += 1
                return
            case UInt8(ascii: ","):
                self.index += 1
                self.skipWhitespace()
                _ = try self.scanValue(depth: depth)
            case nil:
                throw WireError("unterminated JSON array", at: self.index)
            default:
                throw WireError("expected ',' or ']' in JSON array", at: self.index)
            }
        }
    }

    /// After `{`: `}` or `"key": value (, "key": value)* }`.
    mutating func scanRestOfObject(depth: Int) throws(WireError) {
        self.skipWhitespace()
        if self.peek() == UInt8(ascii: "}") {
            self.index += 1
            return
        }
        while true {
            self.skipWhitespace()
            guard self.peek() == UInt8(ascii: "\"") else { throw WireError("expected a string key in JSON object", at: self.index) }
            try self.scanString()
            self.skipWhitespace()
            guard self.peek() == UInt8(ascii: ":") else { throw WireError("expected ':' in JSON object", at: self.index) }
            self.index += 1
            self.skipWhitespace()
            _ = try self.scanValue(depth: depth)
            self.skipWhitespace()
            switch self.peek() {
            case UInt8(ascii: "}"):
                self.index += 1
                return
            case UInt8(ascii: ","):
                self.index += 1
            case nil:
                throw WireError("unterminated JSON object", at: self.index)
            default:
                throw WireError("expected ',' or '}' in JSON object", at: self.index)
            }
        }
    }

    mutating func scanLiteral(_ literal: StaticString) throws(WireError) {
        let count = literal.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else { throw WireError("truncated JSON literal", at: self.index) }
        let pointer = literal.utf8Start
        for offset in 0..<count where self.bytes[self.index + offset] != pointer[offset] {
            throw WireError("invalid JSON literal", at: self.index + offset)
        }
        self.index += count
    }

    mutating func scanNumber() throws(WireError) {
        if self.peek() == UInt8(ascii: "-") { self.index += 1 }
        guard let first = self.peek(), isDigit(first) else { throw WireError("expected a digit in JSON number", at: self.index) }
        self.index += 1
        if first != UInt8(ascii: "0") {
            while let byte = self.peek(), isDigit(byte) { self.index += 1 }
        }
        if self.peek() == UInt8(ascii: ".") {
            self.index += 1
            guard let byte = self.peek(), isDigit(byte) else { throw WireError("expected a digit after '.'", at: self.index) }
            while let byte = self.peek(), isDigit(byte) { self.index += 1 }
        }
        if self.peek() == UInt8(ascii: "e") || self.peek() == UInt8(ascii: "E") {
            self.index += 1
            if self.peek() == UInt8(ascii: "+") || self.peek() == UInt8(ascii: "-") { self.index += 1 }
            guard let byte = self.peek(), isDigit(byte) else { throw WireError("expected a digit in exponent", at: self.index) }
            while let byte = self.peek(), isDigit(byte) { self.index += 1 }
        }
    }

    /// Validates a string: escapes, no raw control characters, well-formed UTF-8.
    mutating func scanString() throws(WireError) {
        let start = self.index
        self.index += 1  // opening quote
        while self.index < self.bytes.count {
            // Eight plain bytes at a time: payloads are mostly long runs of printable ASCII.
            while self.index &+ 8 <= self.bytes.count,
                !containsSpecialStringByte(self.bytes.loadUnaligned(fromByteOffset: self.index, as: UInt64.self))
            {
                self.index &+= 8
            }
            guard self.index < self.bytes.count else { break }
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                self.index += 1
                return
            case UInt8(ascii: "\\"):
                guard self.index + 1 < self.bytes.count else { throw WireError("unterminated JSON string", at: start) }
                switch self.bytes[self.index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    self.index += 2
                case UInt8(ascii: "u"):
                    guard self.index + 6 <= self.bytes.count else { throw WireError("truncated \\u escape", at: self.index) }
                    for offset in 2..<6 where hexValue(self.bytes[self.index + offset]) == nil {
                        throw WireError("invalid hex digit in \\u escape", at: self.index + offset)
                    }
                    self.index += 6
                default:
                    throw WireError("invalid escape in JSON string", at: self.index)
                }
            case 0x00..<0x20:
                throw WireError("control character in JSON string", at: self.index)
            case 0x20..<0x80:
                self.index += 1
            default:
                self.index += try validateUTF8Sequence(self.bytes, at: self.index)
            }
        }
        throw WireError("unterminated JSON string", at: start)
    }

    /// Decodes an already validated string literal (quotes included in the range).
    func decodeString(from start: Int, to end: Int) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(end - start)
        var index = start + 1
        let last = end - 1
        while index < last {
            let byte = self.bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            let escaped = self.bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = self.hex4(at: index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= last,
                    self.bytes[index] == UInt8(ascii: "\\"), self.bytes[index + 1] == UInt8(ascii: "u")
                {
                    let low = self.hex4(at: index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                // A lone surrogate cannot be represented in a Swift string: it becomes U+FFFD.
                let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                output.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: output.append(escaped)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    func hex4(at index: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | UInt32(hexValue(self.bytes[index + offset]) ?? 0) }
        return value
    }
}

/// Whether any of the eight bytes of `word` needs a look inside a JSON string: a quote, a
/// backslash, a control character (below 0x20) or a non-ASCII byte. Exact, with no false alarms:
/// only whether a byte matched is asked, not which (see `ByteWords`).
@inline(__always)
func containsSpecialStringByte(_ word: UInt64) -> Bool {
    let highs: UInt64 = 0x8080_8080_8080_8080
    let below20 = (word &- ByteWords.repeating(0x20)) & ~word & highs
    let quoteOrBackslash = ByteWords.equal(word, UInt8(ascii: "\"")) | ByteWords.equal(word, UInt8(ascii: "\\"))
    return below20 | quoteOrBackslash | (word & highs) != 0
}

@inline(__always)
private func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

@inline(__always)
private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// Validates the multi-byte UTF-8 sequence starting at `index` (whose first byte is >= 0x80) and
/// returns its length. Rejects overlong forms, surrogates and code points above U+10FFFF.
func validateUTF8Sequence(_ bytes: UnsafeRawBufferPointer, at index: Int) throws(WireError) -> Int {
    let lead = bytes[index]
    let length: Int
    var lowerBound: UInt8 = 0x80
    var upperBound: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: length = 2
    case 0xE0: length = 3; lowerBound = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED: length = 3; upperBound = 0x9F
    case 0xF0: length = 4; lowerBound = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4: length = 4; upperBound = 0x8F
    default: throw WireError("invalid UTF-8 lead byte 0x\(String(lead, radix: 16))", at: index)
    }
    guard index + length <= bytes.count else { throw WireError("truncated UTF-8 sequence", at: index) }
    let second = bytes[index + 1]
    guard second >= lowerBound && second <= upperBound else { throw WireError("invalid UTF-8 sequence", at: index) }
    for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 {
        throw WireError("invalid UTF-8 sequence", at: index)
    }
    return length
}
