import NIOCore
import NIOHTTP1

/// An HTTP/1 message head as it was read: its bytes, and where its parts lie in them.
///
/// `HTTP1StreamParser` makes one per request and per response (every long-polling round trip has
/// two), so it holds no `String` and no dictionary: the head's bytes (one `ByteBuffer` slice, as
/// read, up to and including the blank line), the ranges of the start line's three parts and of
/// each header's name and value. Lookups compare names case-insensitively on the bytes; a `String`
/// is made only when one is asked for (a record's path, headers kept in a recording, redaction).
///
/// The proxy forwards `raw`; a head is never serialised again for forwarding.
public struct HTTPHead: Hashable, Sendable {
    /// A part of the head: offsets from the reader index of `raw`.
    struct Span: Hashable, Sendable {
        var start: Int32
        var end: Int32

        init(_ start: Int, _ end: Int) {
            self.start = Int32(truncatingIfNeeded: start)
            self.end = Int32(truncatingIfNeeded: end)
        }

        var range: Range<Int> { Int(self.start)..<Int(self.end) }
        var count: Int { Int(self.end - self.start) }
    }

    /// Whether this is a request head (else a response head).
    public let isRequest: Bool
    /// Request: method, target, version. Response: version, status code, reason phrase.
    let line: (Span, Span, Span)
    /// The protocol version of the start line.
    public let version: HTTPVersion
    /// The status code of a response (three digits); 0 for a request.
    public let statusCode: Int
    /// The header fields, in order.
    public let headers: Headers

    /// The head's bytes as read, through its terminating blank line.
    public var raw: ByteBuffer { self.headers.raw }

    init(isRequest: Bool, line: (Span, Span, Span), version: HTTPVersion, statusCode: Int, headers: Headers) {
        self.isRequest = isRequest
        self.line = line
        self.version = version
        self.statusCode = statusCode
        self.headers = headers
    }

    public static func == (lhs: HTTPHead, rhs: HTTPHead) -> Bool {
        lhs.isRequest == rhs.isRequest && lhs.line == rhs.line && lhs.statusCode == rhs.statusCode
            && lhs.version == rhs.version && lhs.headers == rhs.headers
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.isRequest)
        hasher.combine(self.headers)
    }

    // MARK: - The start line

    /// The request's method (a request head only).
    public var method: HTTPMethod { HTTPMethod(rawValue: self.methodString) }

    /// The request's method as sent (a request head only).
    public var methodString: String { self.headers.string(self.line.0) }

    /// Whether the request's method is exactly `name` (methods are case-sensitive).
    public func methodIs(_ name: String) -> Bool {
        self.isRequest && self.headers.bytesEqual(self.line.0, name, caseInsensitive: false)
    }

    /// The request target (path and query) as sent (a request head only).
    public var uri: String { self.headers.string(self.line.1) }

    /// The request target's bytes (a slice of the head, no copy; a request head only).
    public var uriBytes: ByteBuffer {
        self.raw.getSlice(at: self.raw.readerIndex + Int(self.line.1.start), length: self.line.1.count)!
    }

    /// Whether the request target contains `needle` (bytes, case-sensitive): no `String` made.
    public func uriContains(_ needle: String) -> Bool {
        guard self.isRequest else { return false }
        return self.headers.raw.withUnsafeReadableBytes { bytes in
            HTTPHead.contains(bytes[self.line.1.range], needle)
        }
    }

    /// The status of a response, as NIO spells it (made on access).
    public var status: HTTPResponseStatus {
        HTTPResponseStatus(statusCode: self.statusCode, reasonPhrase: self.reasonPhrase)
    }

    /// The reason phrase of a response ("" when there is none).
    public var reasonPhrase: String { self.isRequest ? "" : self.headers.string(self.line.2) }

    static func contains(_ haystack: Slice<UnsafeRawBufferPointer>, _ needle: String) -> Bool {
        // A literal's bytes are contiguous: no array of them per call (every request asks twice).
        if let found = needle.utf8.withContiguousStorageIfAvailable({ Self.contains(haystack, utf8: $0) }) {
            return found
        }
        return Array(needle.utf8).withUnsafeBufferPointer { Self.contains(haystack, utf8: $0) }
    }

    private static func contains(
        _ haystack: Slice<UnsafeRawBufferPointer>, utf8 needle: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return needle.isEmpty }
        var index = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = 1
                while matched < needle.count, haystack[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return true }
            }
            index += 1
        }
        return false
    }

    // MARK: - Heads made from parts

    /// A request head made from its parts (`import har`, tests): the bytes a client would have sent.
    /// Names and values are written as given; their ranges are recorded as written, not re-parsed.
    public init(method: HTTPMethod, uri: String, version: HTTPVersion = .http1_1, headers: [(String, String)] = []) {
        var builder = Builder()
        let m = builder.write(method.rawValue)
        builder.write(" ")
        let u = builder.write(uri)
        builder.write(" ")
        let v = builder.write("HTTP/\(version.major).\(version.minor)")
        self.init(isRequest: true, line: (m, u, v), version: version, statusCode: 0, headers: builder.finish(headers))
    }

    /// A response head made from its parts; the reason phrase defaults to the status code's usual one.
    public init(status: Int, reason: String? = nil, version: HTTPVersion = .http1_1, headers: [(String, String)] = []) {
        precondition((0...999).contains(status), "an HTTP status code has three digits")
        var builder = Builder()
        let v = builder.write("HTTP/\(version.major).\(version.minor)")
        builder.write(" ")
        let code = String(status)
        let s = builder.write(String(repeating: "0", count: 3 - code.utf8.count) + code)
        builder.write(" ")
        let r = builder.write(reason ?? HTTPResponseStatus(statusCode: status).reasonPhrase)
        self.init(
            isRequest: false, line: (v, s, r), version: version, statusCode: status, headers: builder.finish(headers))
    }

    private struct Builder {
        var bytes = ByteBuffer()

        @discardableResult
        mutating func write(_ text: String) -> Span {
            let start = self.bytes.writerIndex
            self.bytes.writeString(text)
            return Span(start, self.bytes.writerIndex)
        }

        mutating func finish(_ pairs: [(String, String)]) -> Headers {
            self.write("\r\n")
            var fields: [Headers.Field] = []
            fields.reserveCapacity(pairs.count)
            for (name, value) in pairs {
                let n = self.write(name)
                self.write(": ")
                let v = self.write(value)
                self.write("\r\n")
                fields.append(Headers.Field(name: n, value: v))
            }
            self.write("\r\n")
            return Headers(raw: self.bytes, fields: fields)
        }
    }
}

extension HTTPHead {
    /// A head's header fields: ranges in its bytes. Names are compared ASCII case-insensitively,
    /// values are trimmed of spaces and tabs, duplicates are kept in order (as NIO's `HTTPHeaders`).
    /// As a collection, its elements are `(name, value)` strings, made on access.
    public struct Headers: Hashable, Sendable, RandomAccessCollection {
        struct Field: Hashable, Sendable {
            var name: Span
            var value: Span
        }

        let raw: ByteBuffer
        let fields: [Field]

        init(raw: ByteBuffer, fields: [Field]) {
            self.raw = raw
            self.fields = fields
        }

        /// No headers.
        public init() {
            self.init(raw: ByteBuffer(), fields: [])
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { self.fields.count }

        public subscript(position: Int) -> (name: String, value: String) {
            (self.name(at: position), self.value(at: position))
        }

        public func name(at index: Int) -> String { self.string(self.fields[index].name) }

        public func value(at index: Int) -> String { self.string(self.fields[index].value) }

        /// The value's bytes (a slice of the head, no copy).
        public func valueBytes(at index: Int) -> ByteBuffer {
            let span = self.fields[index].value
            return self.raw.getSlice(at: self.raw.readerIndex + Int(span.start), length: span.count)!
        }

        /// Whether the name of the field at `index` is `name`, ignoring ASCII case.
        public func nameIs(_ name: String, at index: Int) -> Bool {
            self.bytesEqual(self.fields[index].name, name, caseInsensitive: true)
        }

        /// The index of the first field named `name` (ASCII case-insensitive).
        public func firstIndex(name: String) -> Int? {
            let length = name.utf8.count
            for index in self.fields.indices where self.fields[index].name.count == length {
                if self.bytesEqual(self.fields[index].name, name, caseInsensitive: true) { return index }
            }
            return nil
        }

        /// The value of the first field named `name`.
        public func first(name: String) -> String? {
            self.firstIndex(name: name).map { self.value(at: $0) }
        }

        public func contains(name: String) -> Bool {
            self.firstIndex(name: name) != nil
        }

        /// The values of every field named `name`, in order.
        public subscript(name: String) -> [String] {
            self.indices.filter { self.nameIs(name, at: $0) }.map { self.value(at: $0) }
        }

        /// Whether a field named `name` lists `token` among its comma-separated elements, ignoring
        /// ASCII case and the spaces around elements (`Upgrade: websocket`, `Transfer-Encoding: chunked`).
        public func hasToken(_ token: String, name: String) -> Bool {
            let token = Array(token.utf8)
            return self.raw.withUnsafeReadableBytes { bytes in
                for index in self.fields.indices where self.nameIs(name, at: index) {
                    let value = self.fields[index].value
                    var start = Int(value.start)
                    let end = Int(value.end)
                    while start <= end {
                        var stop = start
                        while stop < end, bytes[stop] != UInt8(ascii: ",") { stop += 1 }
                        let element = HTTPHead.trimmed(bytes, start, stop)
                        if HTTPHead.asciiEqual(bytes[element], token, caseInsensitive: true) { return true }
                        start = stop + 1
                    }
                }
                return false
            }
        }

        /// Whether the last element of the first field named `name` is `token` (ASCII case-insensitive,
        /// empty elements skipped): how `Transfer-Encoding` says the body is chunked. `nil` when there
        /// is no such field or its value is empty.
        func lastElementIs(_ token: String, name: String) -> Bool? {
            guard let index = self.firstIndex(name: name), self.fields[index].value.count > 0 else { return nil }
            let value = self.fields[index].value
            return self.raw.withUnsafeReadableBytes { bytes in
                var end = Int(value.end)
                let start = Int(value.start)
                while end > start, bytes[end - 1] == UInt8(ascii: ",") { end -= 1 }
                guard end > start else { return false }
                var elementStart = end
                while elementStart > start, bytes[elementStart - 1] != UInt8(ascii: ",") { elementStart -= 1 }
                return HTTPHead.asciiEqual(
                    bytes[HTTPHead.trimmed(bytes, elementStart, end)], Array(token.utf8), caseInsensitive: true)
            }
        }

        /// The value of the first field named `name` as a decimal integer (`Int(_:)`'s syntax: an
        /// optional sign, then digits); `nil` when absent, `.some(nil)` when not a number.
        func integer(name: String) -> Int?? {
            guard let index = self.firstIndex(name: name) else { return nil }
            let value = self.fields[index].value
            return .some(
                self.raw.withUnsafeReadableBytes { bytes -> Int? in
                    var position = Int(value.start)
                    let end = Int(value.end)
                    var negative = false
                    if position < end, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                        negative = bytes[position] == UInt8(ascii: "-")
                        position += 1
                    }
                    guard position < end else { return nil }
                    var result = 0
                    while position < end {
                        let digit = bytes[position] &- UInt8(ascii: "0")
                        guard digit <= 9 else { return nil }
                        let (times, o1) = result.multipliedReportingOverflow(by: 10)
                        let (sum, o2) = times.addingReportingOverflow(Int(digit))
                        guard !o1, !o2 else { return nil }
                        result = sum
                        position += 1
                    }
                    return negative ? -result : result
                })
        }

        func string(_ span: Span) -> String {
            self.raw.withUnsafeReadableBytes { String(decoding: $0[span.range], as: UTF8.self) }
        }

        func bytesEqual(_ span: Span, _ text: String, caseInsensitive: Bool) -> Bool {
            guard span.count == text.utf8.count else { return false }
            return self.raw.withUnsafeReadableBytes { bytes in
                HTTPHead.asciiEqual(bytes[span.range], text.utf8, caseInsensitive: caseInsensitive)
            }
        }
    }

    static func asciiEqual<C: Collection<UInt8>>(
        _ bytes: Slice<UnsafeRawBufferPointer>, _ other: C, caseInsensitive: Bool
    ) -> Bool {
        guard bytes.count == other.count else { return false }
        var index = bytes.startIndex
        for byte in other {
            let mine = bytes[index]
            if mine != byte {
                guard caseInsensitive, Self.lowercased(mine) == Self.lowercased(byte) else { return false }
            }
            index += 1
        }
        return true
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// `start..<end` without the spaces and tabs at either end.
    static func trimmed(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Range<Int> {
        var start = start
        var end = end
        while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        return start..<end
    }
}
