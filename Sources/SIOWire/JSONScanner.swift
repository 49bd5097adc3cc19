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
            var scanner = JSONCursor(bytes, maxDepth: maxDepth)
            do throws(WireError) {
                return .success(try scanner.scanDocument(decodingFirstString: decodingFirstString))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}

extension JSONCursor {
    /// The whole text as one value, with what `JSONScanner.Result` tells of it.
    mutating func scanDocument(decodingFirstString: Bool) throws(WireError) -> JSONScanner.Result {
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
                if self.peek() == UInt8(ascii: "\"") {
                    // A string read here rather than by `skipValue`: whether it holds an escape is
                    // then known, and an event name without one is its bytes.
                    let (content, escaped) = try self.skipString()
                    result.firstElementKind = .string
                    if decodingFirstString {
                        result.firstElementString =
                            escaped
                            ? self.decodeString(content)
                            : String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[content]), as: UTF8.self)
                    }
                } else {
                    result.firstElementKind = try self.skipValue(depth: 1)
                }
                try self.skipRestOfArray(depth: 1)
            }
        } else {
            result.kind = try self.skipValue(depth: 0)
        }
        result.end = self.index
        self.skipWhitespace()
        if self.index < self.bytes.count {
            throw WireError("unexpected bytes after the JSON value", at: self.index)
        }
        result.isCompact = !self.sawLineBreak && result.end == self.bytes.count && !isJSONWhitespaceByte(self.bytes[0])
        return result
    }
}
