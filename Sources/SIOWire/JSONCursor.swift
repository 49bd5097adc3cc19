/// A position in JSON text: the project's one JSON lexer.
///
/// Everything that reads JSON goes through a cursor: the per-frame validation of Socket.IO
/// payloads (`JSONScanner`), the recording's field index and decoder, `JSONValue`, the
/// Engine.IO handshake and the maskers and id rewriters (through `JSONTokens`). It works on
/// borrowed bytes and allocates nothing itself.
///
/// Two ways to move over a value:
/// - `skipValue` validates strictly as RFC 8259 says (no `01`, `+1`, `1.`, `"\x"`, no raw
///   control characters in strings, well-formed UTF-8) and bounds the nesting by `maxDepth`;
/// - `skipValueUnchecked` only finds where a value ends (brackets balanced, strings skipped), for
///   text this program wrote itself and reads back fast (recording lines).
///
/// Lone `\u` surrogates are accepted and decode to U+FFFD, as JSON parsers do.
public struct JSONCursor {
    /// The text.
    public let bytes: UnsafeRawBufferPointer
    /// The offset of the next byte to read.
    public var index: Int
    /// The deepest nesting `skipValue` accepts; deeper input is reported rather than risking the stack.
    public let maxDepth: Int
    /// Whether whitespace skipped so far held a line break.
    public var sawLineBreak = false

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, at index: Int = 0, maxDepth: Int = JSONScanner.defaultMaxDepth) {
        self.bytes = bytes
        self.index = index
        self.maxDepth = maxDepth
    }

    /// Whether every byte has been read.
    @inlinable public var atEnd: Bool { self.index >= self.bytes.count }

    /// The next byte, `nil` at the end.
    @inlinable @inline(__always)
    public func peek() -> UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    /// Inlined up to its first test: compact JSON has no whitespace, and a call per token cost
    /// more than the test (~120 instructions per EVENT + ACK in the capture).
    @inlinable @inline(__always)
    public mutating func skipWhitespace() {
        guard self.index < self.bytes.count, self.bytes[self.index] <= 0x20 else { return }
        self.skipWhitespaceRun()
    }

    @usableFromInline
    mutating func skipWhitespaceRun() {
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

    /// Consumes `byte` (after whitespace) or fails.
    @inlinable
    public mutating func expect(_ byte: UInt8) throws(WireError) {
        self.skipWhitespace()
        guard self.index < self.bytes.count, self.bytes[self.index] == byte else {
            throw WireError("expected '\(Character(Unicode.Scalar(byte)))'", at: self.index)
        }
        self.index += 1
    }

    /// Consumes `byte` if it is next (after whitespace).
    @inlinable
    public mutating func consume(_ byte: UInt8) -> Bool {
        self.skipWhitespace()
        if self.index < self.bytes.count, self.bytes[self.index] == byte {
            self.index += 1
            return true
        }
        return false
    }

    /// After a member or element: consumes `,` (true: another follows) or `closing` (false).
    @inlinable
    public mutating func continueContainer(closing: UInt8) throws(WireError) -> Bool {
        self.skipWhitespace()
        switch self.peek() {
        case UInt8(ascii: ","):
            self.index += 1
            return true
        case closing:
            self.index += 1
            return false
        case nil:
            throw WireError(closing == UInt8(ascii: "]") ? "unterminated JSON array" : "unterminated JSON object", at: self.index)
        default:
            throw WireError(
                closing == UInt8(ascii: "]") ? "expected ',' or ']' in JSON array" : "expected ',' or '}' in JSON object",
                at: self.index)
        }
    }

    /// Reads an object member's key and its `:`; returns the key's content range (escapes kept).
    public mutating func memberKey() throws(WireError) -> (content: Range<Int>, escaped: Bool) {
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: "\"") else { throw WireError("expected a string key in JSON object", at: self.index) }
        let key = try self.skipString()
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: ":") else { throw WireError("expected ':' in JSON object", at: self.index) }
        self.index += 1
        self.skipWhitespace()
        return key
    }

    // MARK: - Strict

    /// Whether `bytes` hold exactly one valid JSON value, with optional whitespace around it.
    public static func isSingleValue(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = JSONScanner.defaultMaxDepth) -> Bool {
        var cursor = JSONCursor(bytes, maxDepth: maxDepth)
        cursor.skipWhitespace()
        do {
            try cursor.skipValue()
        } catch {
            return false
        }
        cursor.skipWhitespace()
        return cursor.atEnd
    }

    /// Skips one complete value (the cursor on its first byte), validating it; returns its kind.
    @discardableResult
    public mutating func skipValue(depth: Int = 0) throws(WireError) -> JSONScanner.Kind {
        guard let byte = self.peek() else { throw WireError("expected a JSON value, found the end", at: self.index) }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < self.maxDepth else { throw WireError("JSON nested deeper than \(self.maxDepth)", at: self.index) }
            self.index += 1
            try self.skipRestOfObject(depth: depth + 1)
            return .object
        case UInt8(ascii: "["):
            guard depth < self.maxDepth else { throw WireError("JSON nested deeper than \(self.maxDepth)", at: self.index) }
            self.index += 1
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: "]") {
                self.index += 1
                return .array
            }
            try self.skipValue(depth: depth + 1)
            try self.skipRestOfArray(depth: depth + 1)
            return .array
        case UInt8(ascii: "\""):
            _ = try self.skipString()
            return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try self.skipNumber()
            return .number
        case UInt8(ascii: "t"):
            try self.skipLiteral("true")
            return .true
        case UInt8(ascii: "f"):
            try self.skipLiteral("false")
            return .false
        case UInt8(ascii: "n"):
            try self.skipLiteral("null")
            return .null
        default:
            throw WireError("unexpected byte 0x\(String(byte, radix: 16)) where a JSON value should start", at: self.index)
        }
    }

    /// After the first element of an array: `(, value)* ]`.
    mutating func skipRestOfArray(depth: Int) throws(WireError) {
        while try self.continueContainer(closing: UInt8(ascii: "]")) {
            self.skipWhitespace()
            try self.skipValue(depth: depth)
        }
    }

    /// After `{`: `}` or `"key": value (, "key": value)* }`.
    mutating func skipRestOfObject(depth: Int) throws(WireError) {
        self.skipWhitespace()
        if self.peek() == UInt8(ascii: "}") {
            self.index += 1
            return
        }
        repeat {
            _ = try self.memberKey()
            try self.skipValue(depth: depth)
        } while try self.continueContainer(closing: UInt8(ascii: "}"))
    }

    mutating func skipLiteral(_ literal: StaticString) throws(WireError) {
        let count = literal.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else { throw WireError("truncated JSON literal", at: self.index) }
        let pointer = literal.utf8Start
        for offset in 0..<count where self.bytes[self.index + offset] != pointer[offset] {
            throw WireError("invalid JSON literal", at: self.index + offset)
        }
        self.index += count
    }

    /// Skips a number (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`); returns whether it is an integer.
    @discardableResult
    public mutating func skipNumber() throws(WireError) -> Bool {
        if self.peek() == UInt8(ascii: "-") { self.index += 1 }
        guard let first = self.peek(), isDigit(first) else { throw WireError("expected a digit in JSON number", at: self.index) }
        self.index += 1
        if first != UInt8(ascii: "0") {
            while let byte = self.peek(), isDigit(byte) { self.index += 1 }
        }
        var integer = true
        if self.peek() == UInt8(ascii: ".") {
            integer = false
            self.index += 1
            guard let byte = self.peek(), isDigit(byte) else { throw WireError("expected a digit after '.'", at: self.index) }
            while let byte = self.peek(), isDigit(byte) { self.index += 1 }
        }
        if self.peek() == UInt8(ascii: "e") || self.peek() == UInt8(ascii: "E") {
            integer = false
            self.index += 1
            if self.peek() == UInt8(ascii: "+") || self.peek() == UInt8(ascii: "-") { self.index += 1 }
            guard let byte = self.peek(), isDigit(byte) else { throw WireError("expected a digit in exponent", at: self.index) }
            while let byte = self.peek(), isDigit(byte) { self.index += 1 }
        }
        return integer
    }

    /// Validates a string (the cursor on its opening quote): escapes, no raw control characters,
    /// well-formed UTF-8. Returns the range between the quotes and whether it holds an escape.
    public mutating func skipString() throws(WireError) -> (content: Range<Int>, escaped: Bool) {
        let start = self.index
        self.index += 1  // opening quote
        var escaped = false
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
                return (start + 1..<self.index - 1, escaped)
            case UInt8(ascii: "\\"):
                escaped = true
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

    /// Reads a string value (after whitespace), validated, and returns it unescaped.
    public mutating func readString() throws(WireError) -> String {
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: "\"") else { throw WireError("expected a string", at: self.index) }
        let (content, escaped) = try self.skipString()
        return escaped
            ? self.decodeString(content) : String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[content]), as: UTF8.self)
    }

    /// Reads an integer (after whitespace): a JSON number without fraction or exponent that fits.
    public mutating func readInt64() throws(WireError) -> Int64 {
        self.skipWhitespace()
        let start = self.index
        guard let first = self.peek(), first == UInt8(ascii: "-") || isDigit(first) else {
            throw WireError("expected an integer", at: start)
        }
        guard try self.skipNumber(), let value = Self.int64(self.bytes, start..<self.index) else {
            self.index = start
            throw WireError("expected an integer in range", at: start)
        }
        return value
    }

    /// Reads `true` or `false` (after whitespace).
    public mutating func readBool() throws(WireError) -> Bool {
        self.skipWhitespace()
        let start = self.index
        switch try self.skipValue() {
        case .true: return true
        case .false: return false
        default: throw WireError("expected true or false", at: start)
        }
    }

    /// The integer written in `range` (digits with an optional `-`), `nil` when it does not fit or is not one.
    @inlinable
    public static func int64(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int64? {
        var i = range.lowerBound
        var negative = false
        if i < range.upperBound, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < range.upperBound else { return nil }
        var value: Int64 = 0
        while i < range.upperBound {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1 && !o2 else { return nil }
            value = a
            i += 1
        }
        return value
    }

    /// Decodes the content of an already validated string (the range between its quotes).
    public func decodeString(_ content: Range<Int>) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: self.bytes[content])
        // The common case (an event name): no escape, so the bytes are the string; no array to
        // build and free (this runs for every event).
        if !raw.contains(UInt8(ascii: "\\")) { return String(decoding: raw, as: UTF8.self) }
        var output: [UInt8] = []
        Self.unescape(self.bytes, content, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends to `output` the UTF-8 bytes of the already validated string whose content (the
    /// range between its quotes) is `content`: escapes decoded, as `decodeString` reads them.
    public static func unescape(_ bytes: UnsafeRawBufferPointer, _ content: Range<Int>, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + content.count)
        var index = content.lowerBound
        let last = content.upperBound
        while index < last {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = Self.hex4(bytes, at: index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= last,
                    bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                {
                    let low = Self.hex4(bytes, at: index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                // A lone surrogate cannot be represented in a Swift string: it becomes U+FFFD.
                output.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}")!)
            default: output.append(escaped)
            }
        }
    }

    static func hex4(_ bytes: UnsafeRawBufferPointer, at index: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | UInt32(hexValue(bytes[index + offset]) ?? 0) }
        return value
    }

    // MARK: - Unchecked (the range index)

    /// Moves past the value at the cursor without validating it (see `valueEndUnchecked`).
    /// Returns whether the value was a string.
    @inlinable
    public mutating func skipValueUnchecked() throws(WireError) -> Bool {
        guard let raw = self.bytes.baseAddress, self.index < self.bytes.count else {
            throw WireError("expected a value", at: self.index)
        }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        let isString = base[self.index] == UInt8(ascii: "\"")
        self.index = try Self.valueEndUnchecked(base, self.index, self.bytes.count, maxDepth: self.maxDepth)
        return isString
    }

    /// The first index at or after `from` that is not JSON whitespace.
    @inlinable @inline(__always)
    public static func skipWhitespace(_ base: UnsafePointer<UInt8>, _ from: Int, _ n: Int) -> Int {
        var i = from
        while i < n {
            let b = base[i]
            guard b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A else { break }
            i += 1
        }
        return i
    }

    /// The index of the closing quote of a string whose content starts at `from`, `nil` when it
    /// is not closed. Escapes are skipped, not checked; eight bytes at a time up to the next quote
    /// or backslash.
    @inlinable @inline(__always)
    public static func stringEnd(_ base: UnsafePointer<UInt8>, _ from: Int, _ n: Int) -> Int? {
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

    /// `stringEnd` on a buffer.
    @inlinable @inline(__always)
    public static func stringEnd(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard let raw = bytes.baseAddress else { return nil }
        return Self.stringEnd(raw.assumingMemoryBound(to: UInt8.self), from, bytes.count)
    }

    /// The end of the value starting at `from`, found without validating it: a string to its
    /// closing quote, an object or array to its balancing bracket (strings inside skipped),
    /// anything else up to the next `,`, `}`, `]` or space.
    @inlinable
    public static func valueEndUnchecked(
        _ base: UnsafePointer<UInt8>, _ from: Int, _ n: Int, maxDepth: Int
    ) throws(WireError) -> Int {
        let first = base[from]
        if first == UInt8(ascii: "\"") {
            guard let end = Self.stringEnd(base, from + 1, n) else { throw WireError("unterminated string", at: from) }
            return end + 1
        }
        if first != UInt8(ascii: "[") && first != UInt8(ascii: "{") {
            var i = from
            while i < n {
                let b = base[i]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 { break }
                i += 1
            }
            guard i > from else { throw WireError("expected a value", at: from) }
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
                guard let end = Self.stringEnd(base, i + 1, n) else { throw WireError("unterminated string", at: i) }
                i = end
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                guard depth <= maxDepth else { throw WireError("nested too deeply", at: i) }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return i + 1 }
            default:
                break
            }
            i += 1
        }
        throw WireError("unterminated \(first == UInt8(ascii: "[") ? "array" : "object")", at: from)
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
func isJSONWhitespaceByte(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

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
