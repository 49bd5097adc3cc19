import NIOCore

/// A byte-level JSON tokenizer for recording lines.
///
/// It hands back raw byte ranges rather than building values, so a Socket.IO payload comes
/// back as exactly the bytes that were written (Foundation's `JSONSerialization` would
/// re-serialise it and lose the wire spelling).
struct JSONScanner {
    struct Failure: Error, Hashable {
        /// Byte offset within the scanned text.
        var offset: Int
        var message: String
    }

    enum ValueKind: Hashable {
        case string, number, object, array, `true`, `false`, null
    }

    let bytes: UnsafeRawBufferPointer
    var index: Int
    private static let maxDepth = 256

    init(_ bytes: UnsafeRawBufferPointer, index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    var atEnd: Bool { self.index >= self.bytes.count }

    func fail(_ message: String) -> Failure { Failure(offset: self.index, message: message) }

    mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            default: return
            }
        }
    }

    /// Consumes `byte` (after whitespace) or fails.
    mutating func expect(_ byte: UInt8) throws(Failure) {
        self.skipWhitespace()
        guard self.index < self.bytes.count, self.bytes[self.index] == byte else {
            throw self.fail("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        self.index += 1
    }

    /// Consumes `byte` if it is next (after whitespace).
    mutating func consume(_ byte: UInt8) -> Bool {
        self.skipWhitespace()
        if self.index < self.bytes.count, self.bytes[self.index] == byte {
            self.index += 1
            return true
        }
        return false
    }

    /// Skips one complete value, validating it, and returns its kind and byte range.
    @discardableResult
    mutating func skipValue(depth: Int = 0) throws(Failure) -> (kind: ValueKind, range: Range<Int>) {
        self.skipWhitespace()
        guard self.index < self.bytes.count else { throw self.fail("expected a value, found the end") }
        let start = self.index
        let kind: ValueKind
        switch self.bytes[self.index] {
        case UInt8(ascii: "\""):
            _ = try self.skipString()
            kind = .string
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw self.fail("nested too deeply") }
            self.index += 1
            if !self.consume(UInt8(ascii: "}")) {
                repeat {
                    self.skipWhitespace()
                    guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
                        throw self.fail("expected an object key")
                    }
                    _ = try self.skipString()
                    try self.expect(UInt8(ascii: ":"))
                    try self.skipValue(depth: depth + 1)
                } while self.consume(UInt8(ascii: ","))
                try self.expect(UInt8(ascii: "}"))
            }
            kind = .object
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw self.fail("nested too deeply") }
            self.index += 1
            if !self.consume(UInt8(ascii: "]")) {
                repeat {
                    try self.skipValue(depth: depth + 1)
                } while self.consume(UInt8(ascii: ","))
                try self.expect(UInt8(ascii: "]"))
            }
            kind = .array
        case UInt8(ascii: "t"):
            try self.literal("true")
            kind = .true
        case UInt8(ascii: "f"):
            try self.literal("false")
            kind = .false
        case UInt8(ascii: "n"):
            try self.literal("null")
            kind = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try self.skipNumber()
            kind = .number
        default:
            throw self.fail("unexpected byte 0x\(String(self.bytes[self.index], radix: 16))")
        }
        return (kind, start..<self.index)
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard self.index + n <= self.bytes.count else { throw self.fail("bad literal") }
        let p = word.utf8Start
        for i in 0..<n where self.bytes[self.index + i] != p[i] {
            throw self.fail("bad literal")
        }
        self.index += n
    }

    private mutating func skipDigits() -> Int {
        let start = self.index
        while self.index < self.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.index]) {
            self.index += 1
        }
        return self.index - start
    }

    private mutating func skipNumber() throws(Failure) {
        if self.bytes[self.index] == UInt8(ascii: "-") { self.index += 1 }
        let intStart = self.index
        let intDigits = self.skipDigits()
        guard intDigits > 0 else { throw self.fail("bad number") }
        if intDigits > 1 && self.bytes[intStart] == UInt8(ascii: "0") { throw self.fail("leading zero in number") }
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: ".") {
            self.index += 1
            guard self.skipDigits() > 0 else { throw self.fail("bad fraction") }
        }
        if self.index < self.bytes.count, self.bytes[self.index] | 0x20 == UInt8(ascii: "e") {
            self.index += 1
            if self.index < self.bytes.count,
                self.bytes[self.index] == UInt8(ascii: "+") || self.bytes[self.index] == UInt8(ascii: "-")
            {
                self.index += 1
            }
            guard self.skipDigits() > 0 else { throw self.fail("bad exponent") }
        }
    }

    /// Skips a string starting at its opening quote; returns the content range and whether it
    /// contains escapes.
    mutating func skipString() throws(Failure) -> (content: Range<Int>, escaped: Bool) {
        self.index += 1
        let start = self.index
        var escaped = false
        while self.index < self.bytes.count {
            let b = self.bytes[self.index]
            if b == UInt8(ascii: "\"") {
                let content = start..<self.index
                self.index += 1
                return (content, escaped)
            }
            if b == UInt8(ascii: "\\") {
                escaped = true
                self.index += 2
                continue
            }
            if b < 0x20 { throw self.fail("control character in string") }
            self.index += 1
        }
        throw self.fail("unterminated string")
    }

    /// Reads a string value and returns it unescaped.
    mutating func readString() throws(Failure) -> String {
        self.skipWhitespace()
        guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
            throw self.fail("expected a string")
        }
        let (content, escaped) = try self.skipString()
        let raw = UnsafeRawBufferPointer(rebasing: self.bytes[content])
        if !escaped { return String(decoding: raw, as: UTF8.self) }
        return try Self.unescape(raw, offset: content.lowerBound)
    }

    static func unescape(_ raw: UnsafeRawBufferPointer, offset: Int) throws(Failure) -> String {
        var out = [UInt8]()
        out.reserveCapacity(raw.count)
        var i = 0
        func hex4(_ at: Int) throws(Failure) -> UInt32 {
            guard at + 4 <= raw.count else { throw Failure(offset: offset + at, message: "short \\u escape") }
            var v: UInt32 = 0
            for j in at..<at + 4 {
                let c = raw[j]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: throw Failure(offset: offset + j, message: "bad hex digit in \\u escape")
                }
                v = v << 4 | UInt32(d)
            }
            return v
        }
        while i < raw.count {
            let b = raw[i]
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < raw.count else { throw Failure(offset: offset + i, message: "dangling backslash") }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"),
                    raw[i + 1] == UInt8(ascii: "u")
                {
                    let low = try hex4(i + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                // A lone surrogate cannot be represented in a Swift String: U+FFFD, as JSON parsers do.
                let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: UTF8.encode(s)!)
            default:
                throw Failure(offset: offset + i - 1, message: "bad escape")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads an integer value (no fraction or exponent).
    mutating func readInt64() throws(Failure) -> Int64 {
        self.skipWhitespace()
        let start = self.index
        var negative = false
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "-") {
            negative = true
            self.index += 1
        }
        var value: Int64 = 0
        var digits = 0
        while self.index < self.bytes.count {
            let b = self.bytes[self.index]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { break }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(b - UInt8(ascii: "0")))
            if o1 || o2 {
                self.index = start
                throw self.fail("integer out of range")
            }
            value = a
            digits += 1
            self.index += 1
        }
        guard digits > 0 else {
            self.index = start
            throw self.fail("expected an integer")
        }
        return negative ? -value : value
    }

    mutating func readBool() throws(Failure) -> Bool {
        let (kind, _) = try self.skipValue()
        switch kind {
        case .true: return true
        case .false: return false
        default: throw self.fail("expected true or false")
        }
    }

    /// Whether `bytes` hold exactly one JSON value, with optional whitespace around it.
    static func isSingleValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var scanner = JSONScanner(bytes)
        do {
            try scanner.skipValue()
        } catch {
            return false
        }
        scanner.skipWhitespace()
        return scanner.atEnd
    }
}
