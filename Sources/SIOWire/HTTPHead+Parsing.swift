import NIOCore
import NIOHTTP1

extension HTTPHead {
    /// Parses a complete head (through its blank line) on its bytes. Lines end in `\r\n` or a bare
    /// `\n`; a field name must be an RFC 9110 token (no obs-fold, no spaces, no non-ASCII bytes);
    /// values are trimmed of spaces and tabs. The error reasons quote the offending line.
    static func parse(_ raw: ByteBuffer, isRequest: Bool) throws -> HTTPHead {
        try raw.withUnsafeReadableBytes { bytes throws -> HTTPHead in
            // One field per line after the first, at most.
            var lineCount = 0
            for byte in bytes where byte == UInt8(ascii: "\n") { lineCount += 1 }
            var fields: [Headers.Field] = []
            fields.reserveCapacity(max(0, lineCount - 2))
            var startLine: (Span, Span, Span)?
            var version = HTTPVersion.http1_1
            var statusCode = 0
            /// An empty line seen before a non-empty one (only the terminating blank line may be empty).
            var emptyLineAt: Range<Int>?
            var lineNumber = 0
            var position = 0
            while position < bytes.count {
                var newline = position
                while newline < bytes.count, bytes[newline] != UInt8(ascii: "\n") { newline += 1 }
                var end = newline
                if end > position, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = position..<end
                position = newline + 1
                defer { lineNumber += 1 }
                if line.isEmpty {
                    if emptyLineAt == nil { emptyLineAt = line }
                    continue
                }
                if let empty = emptyLineAt {
                    // Not reachable from the parser (a head ends at its first blank line); reported
                    // as the line-based parser did.
                    if startLine == nil && fields.isEmpty && empty.lowerBound == 0 {
                        throw Self.malformedStartLine(isRequest: isRequest, bytes[empty])
                    }
                    throw HTTP1StreamParser.ParseError(reason: "malformed header line ''", offset: 0)
                }
                if lineNumber == 0 {
                    if isRequest {
                        guard let parsed = Self.requestLine(bytes, line) else {
                            throw Self.malformedStartLine(isRequest: true, bytes[line])
                        }
                        startLine = parsed.spans
                        version = parsed.version
                    } else {
                        guard let parsed = Self.statusLine(bytes, line) else {
                            throw Self.malformedStartLine(isRequest: false, bytes[line])
                        }
                        startLine = parsed.spans
                        version = parsed.version
                        statusCode = parsed.code
                    }
                    continue
                }
                var colon = line.lowerBound
                while colon < line.upperBound, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
                guard colon < line.upperBound, colon != line.lowerBound else {
                    let text = Substring(decoding: bytes[line], as: UTF8.self)
                    throw HTTP1StreamParser.ParseError(reason: "malformed header line '\(text.prefix(80))'", offset: 0)
                }
                // A field name is an RFC 9110 token; anything else (spaces, an obs-fold line's
                // leading space, non-ASCII bytes) is not HTTP.
                guard bytes[line.lowerBound..<colon].allSatisfy(HTTP1StreamParser.isTokenByte) else {
                    let name = Substring(decoding: bytes[line.lowerBound..<colon], as: UTF8.self)
                    throw HTTP1StreamParser.ParseError(reason: "invalid header name '\(name.prefix(80))'", offset: 0)
                }
                let value = Self.trimmed(bytes, colon + 1, line.upperBound)
                fields.append(
                    Headers.Field(
                        name: Span(line.lowerBound, colon), value: Span(value.lowerBound, value.upperBound)))
            }
            guard let startLine else {
                throw HTTP1StreamParser.ParseError(
                    reason: isRequest ? "empty request head" : "empty response head", offset: 0)
            }
            return HTTPHead(
                isRequest: isRequest, line: startLine, version: version, statusCode: statusCode,
                headers: Headers(raw: raw, fields: fields))
        }
    }

    private static func malformedStartLine(isRequest: Bool, _ line: Slice<UnsafeRawBufferPointer>) -> HTTP1StreamParser.ParseError {
        let text = Substring(decoding: line, as: UTF8.self)
        return HTTP1StreamParser.ParseError(
            reason: "malformed \(isRequest ? "request" : "status") line '\(text.prefix(80))'", offset: 0)
    }

    /// `METHOD SP target SP HTTP/x.y`: exactly two spaces, method and target not empty.
    private static func requestLine(
        _ bytes: UnsafeRawBufferPointer, _ line: Range<Int>
    ) -> (spans: (Span, Span, Span), version: HTTPVersion)? {
        var first = -1
        var second = -1
        for index in line where bytes[index] == UInt8(ascii: " ") {
            if first < 0 {
                first = index
            } else if second < 0 {
                second = index
            } else {
                return nil
            }
        }
        guard second >= 0, first > line.lowerBound, second > first + 1,
            let version = Self.version(bytes, second + 1..<line.upperBound)
        else { return nil }
        return ((Span(line.lowerBound, first), Span(first + 1, second), Span(second + 1, line.upperBound)), version)
    }

    /// `HTTP/x.y SP ddd [SP reason]`: three digits (RFC 9112; `HTTPResponseStatus` traps on codes
    /// outside 0...999, and a sign is not a digit).
    private static func statusLine(
        _ bytes: UnsafeRawBufferPointer, _ line: Range<Int>
    ) -> (spans: (Span, Span, Span), version: HTTPVersion, code: Int)? {
        guard let first = line.first(where: { bytes[$0] == UInt8(ascii: " ") }),
            let version = Self.version(bytes, line.lowerBound..<first)
        else { return nil }
        let codeEnd = (first + 1..<line.upperBound).first(where: { bytes[$0] == UInt8(ascii: " ") }) ?? line.upperBound
        guard codeEnd - first - 1 == 3 else { return nil }
        var code = 0
        for index in first + 1..<codeEnd {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            code = code * 10 + Int(digit)
        }
        let reason = codeEnd < line.upperBound ? Span(codeEnd + 1, line.upperBound) : Span(line.upperBound, line.upperBound)
        return ((Span(line.lowerBound, first), Span(first + 1, codeEnd), reason), version, code)
    }

    /// `HTTP/` digit `.` digit.
    private static func version(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> HTTPVersion? {
        guard range.count == 8, Self.asciiEqual(bytes[range.prefix(5)], "HTTP/".utf8, caseInsensitive: false),
            bytes[range.lowerBound + 6] == UInt8(ascii: "."),
            case let major = bytes[range.lowerBound + 5] &- UInt8(ascii: "0"), major <= 9,
            case let minor = bytes[range.lowerBound + 7] &- UInt8(ascii: "0"), minor <= 9
        else { return nil }
        return HTTPVersion(major: Int(major), minor: Int(minor))
    }
}
