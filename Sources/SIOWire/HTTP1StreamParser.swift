import NIOCore
import NIOHTTP1

/// Follows one direction of an HTTP/1.x connection on its raw bytes.
///
/// The proxy forwards the bytes it receives untouched; this parser only tells it where each message
/// starts and ends, what its head says, and which bytes are body content. Every input byte is
/// reported exactly once, either inside a `.head` (its `raw` bytes) or as `.forward`, so a relay
/// that writes out `raw` heads and `.forward` slices reproduces the input byte for byte. Heads are
/// `HTTPHead` values: the bytes as read and the ranges of their parts, no `String` per header.
///
/// Chunked bodies are forwarded with their framing and also reported de-chunked as `.content`
/// (slices of the same storage, no copy). After a `101 Switching Protocols` response (or once
/// `switchToOpaque()` is called), every later byte is `.forward` only.
public struct HTTP1StreamParser: Sendable {
    public enum Role: Sendable {
        /// Parses requests (client to server).
        case request
        /// Parses responses (server to client); the caller announces each request's method.
        case response
    }

    public enum Event {
        /// A complete message head; its `raw` holds its bytes up to and including the blank line.
        case head(HTTPHead)
        /// Bytes to forward that are not part of a head (body with its framing, or opaque bytes).
        case forward(ByteBuffer)
        /// De-chunked body content (also contained in some `.forward`).
        case content(ByteBuffer)
        /// The current message is complete.
        case end
    }

    /// Why the byte stream stopped being HTTP the parser understands. The relay carries on with
    /// the remaining bytes as opaque `.forward` data.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var reason: String
        /// Offset from the start of the stream.
        public var offset: Int

        public var description: String { "\(self.reason) (at byte \(self.offset) of the stream)" }
    }

    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case opaque
    }

    public let role: Role
    private var state: State = .head
    private var pending = ByteBuffer()
    /// Whether each request whose response has not started yet was a HEAD (response role only).
    private var pendingHEADs: [Bool] = []
    private var consumed = 0
    /// The largest head accepted; a longer one stops parsing (slowloris, garbage).
    public var maxHeadBytes: Int
    /// Set when the stream could not be parsed; everything after it is opaque.
    public private(set) var error: ParseError?

    public init(role: Role, maxHeadBytes: Int = 64 * 1024) {
        self.role = role
        self.maxHeadBytes = maxHeadBytes
    }

    /// Whether the parser has stopped interpreting bytes (after `101`, an error, or a switch).
    public var isOpaque: Bool {
        if case .opaque = self.state { return true }
        return false
    }

    /// Whether the parser is between messages, with no partial head buffered.
    public var isIdle: Bool {
        if case .head = self.state { return self.pending.readableBytes == 0 }
        return false
    }

    /// Response role: the next response answers a request with this method (HEAD has no body).
    public mutating func expectResponse(to method: HTTPMethod) {
        self.pendingHEADs.append(method == .HEAD)
    }

    /// Response role: the next response answers this request (a HEAD's has no body).
    public mutating func expectResponse(to request: HTTPHead) {
        self.pendingHEADs.append(request.methodIs("HEAD"))
    }

    /// Treats every later byte as opaque (the other direction switched protocols).
    public mutating func switchToOpaque() -> ByteBuffer? {
        self.state = .opaque
        // Opaque bytes are never buffered: let go of the head buffer (a held WebSocket would keep it).
        defer { self.pending = ByteBuffer() }
        guard self.pending.readableBytes > 0 else { return nil }
        return self.pending
    }

    /// The connection's input ended. A body delimited by the close ends here; bytes held back
    /// (an unfinished head or chunk line) are released as opaque bytes, with the error set.
    public mutating func inputClosed(_ emit: (Event) -> Void) {
        switch self.state {
        case .untilClose:
            self.state = .head
            emit(.end)
        case .head, .chunkSize, .chunkDataEnd, .trailers:
            if self.pending.readableBytes > 0 {
                self.fail("the connection ended inside a message head or chunk line", emit)
            }
        case .fixedBody, .chunkData, .opaque:
            break
        }
    }

    /// Feeds bytes read from the connection; events are delivered in stream order.
    public mutating func parse(_ input: ByteBuffer, _ emit: (Event) -> Void) {
        var input = input
        while input.readableBytes > 0 {
            switch self.state {
            case .opaque:
                self.consumed += input.readableBytes
                emit(.forward(input))
                return
            case .head:
                guard self.parseHead(&input, emit) else { return }
            case .fixedBody(let remaining):
                let slice = input.readSlice(length: min(remaining, input.readableBytes))!
                self.consumed += slice.readableBytes
                emit(.forward(slice))
                emit(.content(slice))
                if remaining == slice.readableBytes {
                    self.state = .head
                    emit(.end)
                } else {
                    self.state = .fixedBody(remaining: remaining - slice.readableBytes)
                }
            case .untilClose:
                self.consumed += input.readableBytes
                emit(.forward(input))
                emit(.content(input))
                return
            case .chunkSize, .chunkDataEnd, .trailers:
                guard self.parseChunkFraming(&input, emit) else { return }
            case .chunkData(let remaining):
                let slice = input.readSlice(length: min(remaining, input.readableBytes))!
                self.consumed += slice.readableBytes
                emit(.forward(slice))
                emit(.content(slice))
                self.state = remaining == slice.readableBytes
                    ? .chunkDataEnd : .chunkData(remaining: remaining - slice.readableBytes)
            }
        }
    }

    // MARK: - Heads

    /// Returns false when more bytes are needed.
    private mutating func parseHead(_ input: inout ByteBuffer, _ emit: (Event) -> Void) -> Bool {
        // The usual case on a keep-alive connection (every long-polling request and answer): a
        // whole head at the start of a read, nothing held. It is cut from the read's own bytes,
        // with no copy into `pending` (an allocation and a copy of the whole read per head).
        if self.pending.readableBytes == 0, self.consumed > 0,
            let headLength = Self.headLength(in: input, searchFrom: 0), headLength <= self.maxHeadBytes
        {
            return self.parsedHead(input.readSlice(length: headLength)!, emit)
        }
        let searchFrom = max(0, self.pending.readableBytes - 3)
        self.pending.writeImmutableBuffer(input)
        // A connection that does not start with HTTP (a TLS ClientHello, SSH) is passed on at once
        // rather than held back for a blank line that may never come; checked on every read of
        // the first head, so the verdict does not depend on how the bytes were cut into reads.
        // Later in a connection, bytes after a head may be another protocol's (after an upgrade
        // request, until the 101 arrives) and are held as before.
        if self.consumed == 0, let reason = self.notAnHTTPStart() {
            input.moveReaderIndex(forwardBy: input.readableBytes)
            self.fail(reason, emit)
            return false
        }
        // A head longer than the limit is refused wherever its end falls in the reads.
        guard let headLength = Self.headLength(in: self.pending, searchFrom: searchFrom),
            headLength <= self.maxHeadBytes
        else {
            input.moveReaderIndex(forwardBy: input.readableBytes)
            if self.pending.readableBytes > self.maxHeadBytes {
                self.fail("message head longer than \(self.maxHeadBytes) bytes", emit)
            }
            return false
        }
        // Give back the bytes after the head to `input`.
        let fromInput = headLength - (self.pending.readableBytes - input.readableBytes)
        input.moveReaderIndex(forwardBy: fromInput)
        let raw = self.pending.readSlice(length: headLength)!
        self.pending = ByteBuffer()
        return self.parsedHead(raw, emit)
    }

    /// A complete head (`raw`, through its blank line) was cut from the stream: parses it and
    /// starts its body.
    private mutating func parsedHead(_ raw: ByteBuffer, _ emit: (Event) -> Void) -> Bool {
        let headLength = raw.readableBytes
        let head: HTTPHead
        do {
            head = try HTTPHead.parse(raw, isRequest: self.role == .request)
        } catch {
            self.fail((error as? ParseError)?.reason ?? "\(error)", emit, raw: raw)
            return true  // the rest of the input is forwarded as opaque bytes
        }
        self.consumed += headLength
        emit(.head(head))
        do {
            if head.isRequest {
                try self.startBody(headers: head.headers, bodyless: false, emit)
            } else {
                let code = head.statusCode
                if code == 101 {
                    self.state = .opaque
                    emit(.end)
                    return true
                }
                if (100..<200).contains(code) {
                    // Interim response: the real one follows for the same request.
                    emit(.end)
                    return true
                }
                let isHEAD = self.pendingHEADs.isEmpty ? false : self.pendingHEADs.removeFirst()
                let bodyless = isHEAD || code == 204 || code == 304
                try self.startBody(headers: head.headers, bodyless: bodyless, untilCloseAllowed: true, emit)
            }
        } catch {
            self.fail((error as? ParseError)?.reason ?? "\(error)", emit)
            return true  // the rest of the input is forwarded as opaque bytes
        }
        return true
    }

    /// Why the bytes of an unfinished first head can already be seen not to start HTTP, or
    /// `nil` while they still could: a request starts with a method token and a space, a
    /// response with `HTTP/`.
    private static let judgedStartBytes = 64

    private func notAnHTTPStart() -> String? {
        // Only the first bytes are judged: enough for any real method or `HTTP/`, the same bytes
        // however the head was read, and no rescanning of a long head on every read.
        let bytes = self.pending.readableBytesView.prefix(min(self.maxHeadBytes, Self.judgedStartBytes))
        switch self.role {
        case .request:
            // No empty lines before the request line: `parseHead` does not accept them either.
            let methodEnd = bytes.firstIndex { !Self.isTokenByte($0) } ?? bytes.endIndex
            if methodEnd < bytes.endIndex, bytes[methodEnd] != UInt8(ascii: " ") || methodEnd == bytes.startIndex {
                return "not an HTTP request: bytes that cannot start a request line"
            }
            return nil
        case .response:
            let prefix = "HTTP/".utf8.prefix(bytes.count)
            return bytes.prefix(prefix.count).elementsEqual(prefix) ? nil : "not an HTTP response: no HTTP/ status line"
        }
    }

    private mutating func startBody(
        headers: HTTPHead.Headers, bodyless: Bool, untilCloseAllowed: Bool = false, _ emit: (Event) -> Void
    ) throws {
        if bodyless {
            self.state = .head
            emit(.end)
            return
        }
        // The last transfer coding decides (RFC 9112 6.1); compared on the bytes.
        if let chunked = headers.lastElementIs("chunked", name: "transfer-encoding") {
            guard chunked else {
                if untilCloseAllowed {
                    self.state = .untilClose
                    return
                }
                let encoding = headers.first(name: "transfer-encoding") ?? ""
                throw ParseError(reason: "request with transfer-encoding '\(encoding)' but not chunked", offset: 0)
            }
            self.state = .chunkSize
            return
        }
        if let parsed = headers.integer(name: "content-length") {
            guard let length = parsed, length >= 0 else {
                let lengthText = headers.first(name: "content-length") ?? ""
                throw ParseError(reason: "bad content-length '\(lengthText)'", offset: self.consumed)
            }
            if length == 0 {
                self.state = .head
                emit(.end)
            } else {
                self.state = .fixedBody(remaining: length)
            }
            return
        }
        if untilCloseAllowed {
            self.state = .untilClose
        } else {
            self.state = .head
            emit(.end)
        }
    }

    /// Length of the head including its terminating blank line (`\r\n\r\n` or a bare `\n\n`).
    private static func headLength(in buffer: ByteBuffer, searchFrom: Int) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = searchFrom
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\n") {
                    if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\r"),
                        bytes[index + 2] == UInt8(ascii: "\n")
                    {
                        return index + 3
                    }
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
                        return index + 2
                    }
                }
                index += 1
            }
            return nil
        }
    }

    /// RFC 9110 `tchar`: `!#$%&'*+-.^_`|~`, digits and letters. (Also how `import har` checks a
    /// HAR's header names and methods.)
    package static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    // MARK: - Chunked framing

    /// Consumes one framing line (chunk size, the CRLF after data, or a trailer line).
    private mutating func parseChunkFraming(_ input: inout ByteBuffer, _ emit: (Event) -> Void) -> Bool {
        let searchFrom = self.pending.readableBytes
        self.pending.writeImmutableBuffer(input)
        guard let newline = self.pending.readableBytesView.dropFirst(searchFrom).firstIndex(of: UInt8(ascii: "\n"))
        else {
            input.moveReaderIndex(forwardBy: input.readableBytes)
            if self.pending.readableBytes > 4096 {
                self.fail("chunk framing line longer than 4096 bytes", emit)
            }
            return false
        }
        let lineLength = newline - self.pending.readableBytesView.startIndex + 1
        let fromInput = lineLength - (self.pending.readableBytes - input.readableBytes)
        input.moveReaderIndex(forwardBy: fromInput)
        let raw = self.pending.readSlice(length: lineLength)!
        self.pending = ByteBuffer()
        var lineBytes = raw.readableBytesView[...]
        while let last = lineBytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") {
            lineBytes = lineBytes.dropLast()
        }
        let text = String(decoding: lineBytes, as: UTF8.self)

        switch self.state {
        case .chunkSize:
            let sizeText = text.split(separator: ";", maxSplits: 1).first.map { $0.trimmingHTTPSpaces } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else {
                self.fail("bad chunk size line '\(text.prefix(40))'", emit, raw: raw)
                return true  // the rest of the input is forwarded as opaque bytes
            }
            self.consumed += lineLength
            emit(.forward(raw))
            self.state = size == 0 ? .trailers : .chunkData(remaining: size)
        case .chunkDataEnd:
            guard text.isEmpty else {
                self.fail("chunk data not followed by CRLF", emit, raw: raw)
                return true  // the rest of the input is forwarded as opaque bytes
            }
            self.consumed += lineLength
            emit(.forward(raw))
            self.state = .chunkSize
        case .trailers:
            self.consumed += lineLength
            emit(.forward(raw))
            if text.isEmpty {
                self.state = .head
                emit(.end)
            }
        default:
            preconditionFailure("not a chunk framing state")
        }
        return true
    }

    // MARK: - Errors

    /// Stops interpreting: the bytes held so far and every later byte are forwarded as they are.
    private mutating func fail(_ reason: String, _ emit: (Event) -> Void, raw: ByteBuffer? = nil) {
        self.error = ParseError(reason: reason, offset: self.consumed)
        self.state = .opaque
        var held = raw ?? ByteBuffer()
        if self.pending.readableBytes > 0 {
            held.writeImmutableBuffer(self.pending)
            self.pending = ByteBuffer()
        }
        if held.readableBytes > 0 {
            self.consumed += held.readableBytes
            emit(.forward(held))
        }
    }
}

extension StringProtocol {
    fileprivate var trimmingHTTPSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
