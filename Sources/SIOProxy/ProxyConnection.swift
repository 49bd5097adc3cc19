#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import SIOCapture
import SIOWire

/// One client TCP connection and its twin connection to the upstream.
///
/// Bytes are relayed as they arrive, untouched, in order; the only change is the `X-Forwarded-*`
/// lines added at the end of each request head (and `Host`, when asked to rewrite it). HTTP parsing
/// happens on the side to find message boundaries, and a copy of every message goes to the
/// capture tap. After the upstream's `101` both directions are relayed as opaque bytes and the tap
/// decodes its copy as WebSocket frames.
///
/// Lives on the client channel's event loop; the upstream channel is opened on the same loop, so
/// nothing here needs a lock.
final class ProxyConnection {
    enum Side: Sendable {
        case client
        case upstream
    }

    private enum Upstream {
        case connecting
        case connected
        case unreachable(String)
    }

    let id: UInt64
    private let configuration: ProxyConfiguration
    private let tap: ConnectionTap
    private let logger: Logger
    private let clientIP: String
    private let onClose: (ProxyConnection) -> Void

    private var clientHandler: RelayHandler?
    private var upstreamHandler: RelayHandler?
    private var upstream = Upstream.connecting
    private var requestParser = HTTP1StreamParser(role: .request)
    private var responseParser = HTTP1StreamParser(role: .response)
    /// The request being answered asked for a WebSocket upgrade.
    private var webSocketRequested = false
    /// The upstream switched the connection to WebSocket.
    private var isWebSocket = false
    private var interimResponse = false
    /// The upstream half-closed: a body delimited by the close has already been ended.
    private var upstreamInputClosed = false
    private var inactive: (client: Bool, upstream: Bool) = (false, false)
    private var closeCause: String?
    private var finished = false
    /// Whether any byte of the upstream has reached the client (after that, a failure of the upstream
    /// is the client's to see as it happens, not something to answer for).
    private var upstreamAnswered = false
    /// Bytes the client sent before the upstream's `101` were written to the upstream while the
    /// response parser ran. They are flushed once it has returned: a flush can close a channel at
    /// once (a write error), and the close handling must not re-enter the parser mid-parse.
    private var flushUpstreamAfterParse = false

    init(
        id: UInt64, configuration: ProxyConfiguration, tap: ConnectionTap, clientIP: String, logger: Logger,
        onClose: @escaping (ProxyConnection) -> Void
    ) {
        self.id = id
        self.configuration = configuration
        self.tap = tap
        self.clientIP = clientIP
        self.logger = logger
        self.onClose = onClose
    }

    // MARK: - Lifecycle

    func active(_ handler: RelayHandler) {
        switch handler.side {
        case .client:
            self.clientHandler = handler
            // The upstream may have connected first and be holding back its first read.
            self.upstreamHandler?.resumeReading()
        case .upstream:
            self.upstreamHandler = handler
            self.upstream = .connected
            if self.inactive.client {
                // The client left while the upstream connection was being made.
                handler.close()
                return
            }
            self.clientHandler?.resumeReading()
        }
    }

    /// The upstream could not be reached: the client's first request is answered `502`.
    func upstreamConnectFailed(_ error: any Error) {
        let reason = "cannot reach the upstream \(self.configuration.upstream): \(error)"
        self.upstream = .unreachable(reason)
        self.inactive.upstream = true
        if self.inactive.client {
            self.finish()
            return
        }
        self.clientHandler?.resumeReading()
    }

    func mayRead(_ side: Side) -> Bool {
        switch side {
        case .client:
            switch self.upstream {
            case .connecting: return false
            case .connected: return self.upstreamHandler?.isWritable ?? false
            case .unreachable: return true
            }
        case .upstream:
            return self.clientHandler?.isWritable ?? false
        }
    }

    func writabilityChanged(_ side: Side) {
        switch side {
        case .client: self.upstreamHandler?.resumeReading()
        case .upstream: self.clientHandler?.resumeReading()
        }
    }

    func readComplete(from side: Side) {
        self.partner(of: side)?.flush()
    }

    func inputClosed(_ side: Side) {
        switch side {
        case .client:
            self.closeCause = self.closeCause ?? "client"
            self.parserInputClosed(.client)
            self.upstreamHandler?.closeOutputAfterPendingWrites()
        case .upstream:
            self.upstreamInputClosed = true
            self.closeCause = self.closeCause ?? "upstream"
            self.parserInputClosed(.upstream)
            self.clientHandler?.closeOutputAfterPendingWrites()
        }
    }

    func errorCaught(_ error: any Error, on side: Side) {
        let who = side == .client ? "client" : "upstream"
        if let error = error as? IOError, error.errnoCode == ECONNRESET {
            self.closeCause = self.closeCause ?? "\(who) reset"
        } else {
            self.closeCause = self.closeCause ?? "\(who) error: \(error)"
        }
        self.logger.debug("connection error", metadata: ["connection": "\(self.id)", "side": "\(who)", "error": "\(error)"])
        if side == .upstream, !self.upstreamAnswered, error is NIOSSLError {
            // The TCP connection was made but TLS was not: to the client the upstream is unreachable.
            self.answerBadGateway(
                reason: "cannot reach the upstream \(self.configuration.upstream): TLS handshake failed: \(error)"
                    + " (use --insecure for a self-signed certificate)")
        }
    }

    func inactive(_ side: Side) {
        switch side {
        case .client:
            self.inactive.client = true
            self.closeCause = self.closeCause ?? "client"
            self.upstreamHandler?.closeAfterPendingWrites()
        case .upstream:
            self.inactive.upstream = true
            self.closeCause = self.closeCause ?? "upstream"
            if !self.upstreamInputClosed {
                self.parserInputClosed(.upstream)
            }
            self.clientHandler?.closeAfterPendingWrites()
        }
        if self.inactive.client && self.inactive.upstream {
            self.finish()
        }
    }

    private func finish() {
        guard !self.finished else { return }
        self.finished = true
        self.tap.connectionClosed(cause: self.closeCause ?? "closed")
        self.clientHandler = nil
        self.upstreamHandler = nil
        self.onClose(self)
    }

    /// Closes both sides (shutdown of the proxy).
    func close() {
        self.clientHandler?.close()
        self.upstreamHandler?.close()
    }

    private func partner(of side: Side) -> RelayHandler? {
        side == .client ? self.upstreamHandler : self.clientHandler
    }

    // MARK: - Relaying

    func received(_ buffer: ByteBuffer, from side: Side) {
        switch side {
        case .client:
            if case .unreachable(let reason) = self.upstream {
                self.answerUnreachable(buffer, reason: reason)
                return
            }
            let failedBefore = self.requestParser.error != nil
            self.requestParser.parse(buffer) { self.handleRequestEvent($0) }
            self.checkParsers(failedBefore: failedBefore, side: .client, bytes: buffer)
        case .upstream:
            self.upstreamAnswered = true
            let failedBefore = self.responseParser.error != nil
            self.responseParser.parse(buffer) { self.handleResponseEvent($0) }
            self.checkParsers(failedBefore: failedBefore, side: .upstream, bytes: buffer)
            if self.flushUpstreamAfterParse {
                self.flushUpstreamAfterParse = false
                self.upstreamHandler?.flush()
            }
        }
    }

    /// After a parser of `side` was fed: if it just gave up, the damage is recorded, and when it was
    /// the request side, responses can no longer be matched to requests either: the response side
    /// turns opaque too, releasing whatever it held (the upstream's answer to garbage is relayed).
    private func checkParsers(failedBefore: Bool, side: Side, bytes: ByteBuffer) {
        guard !failedBefore, let error = side == .client ? self.requestParser.error : self.responseParser.error
        else { return }
        self.tap.httpUndecodable(
            bytes, reason: error.reason, offset: error.offset, direction: side == .client ? .clientToServer : .serverToClient)
        if side == .client, let held = self.responseParser.switchToOpaque() {
            self.clientHandler?.write(held)
            self.clientHandler?.flush()
        }
    }

    /// The input of `side` ended: a body delimited by the close ends, and bytes a parser still held
    /// (a head cut short) are relayed, so the other peer gets every byte that was sent.
    private func parserInputClosed(_ side: Side) {
        var released = ByteBuffer()
        switch side {
        case .client:
            let failedBefore = self.requestParser.error != nil
            self.requestParser.inputClosed { event in
                if case .forward(let bytes) = event { released.writeImmutableBuffer(bytes) }
                self.handleRequestEvent(event)
            }
            self.checkParsers(failedBefore: failedBefore, side: .client, bytes: released)
        case .upstream:
            let failedBefore = self.responseParser.error != nil
            self.responseParser.inputClosed { event in
                if case .forward(let bytes) = event { released.writeImmutableBuffer(bytes) }
                self.handleResponseEvent(event)
            }
            self.checkParsers(failedBefore: failedBefore, side: .upstream, bytes: released)
        }
    }

    private func handleRequestEvent(_ event: HTTP1StreamParser.Event) {
        switch event {
        case .head(.request(let head), let raw):
            self.tap.requestHead(head)
            self.responseParser.expectResponse(to: head.method)
            self.webSocketRequested = head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
            self.upstreamHandler?.write(self.forwardedHead(raw, head))
        case .head(.response, _):
            preconditionFailure("the request parser produced a response head")
        case .forward(let bytes):
            self.upstreamHandler?.write(bytes)
            if self.isWebSocket {
                self.tap.webSocketBytes(bytes, direction: .clientToServer)
            }
        case .content(let bytes):
            self.tap.requestBody(bytes)
        case .end:
            self.tap.requestEnd()
        }
    }

    private func handleResponseEvent(_ event: HTTP1StreamParser.Event) {
        switch event {
        case .head(.response(let head), let raw):
            self.clientHandler?.write(raw)
            let code = head.status.code
            self.interimResponse = (100..<200).contains(code) && code != 101
            if code == 101 {
                self.isWebSocket = self.webSocketRequested
                self.tap.responseHead(head)
                if let held = self.requestParser.switchToOpaque() {
                    // Bytes the client sent after its upgrade request, before the 101 arrived.
                    self.upstreamHandler?.write(held)
                    self.flushUpstreamAfterParse = true
                    if self.isWebSocket {
                        self.tap.webSocketBytes(held, direction: .clientToServer)
                    }
                }
            } else if !self.interimResponse {
                self.tap.responseHead(head)
            }
        case .head(.request, _):
            preconditionFailure("the response parser produced a request head")
        case .forward(let bytes):
            self.clientHandler?.write(bytes)
            if self.isWebSocket {
                self.tap.webSocketBytes(bytes, direction: .serverToClient)
            }
        case .content(let bytes):
            self.tap.responseBody(bytes)
        case .end:
            if !self.interimResponse {
                self.tap.responseEnd()
            }
            self.interimResponse = false
        }
    }

    /// The request head as forwarded: the client's bytes, plus `X-Forwarded-For/-Proto/-Host`
    /// lines before the blank line that ends it.
    private func forwardedHead(_ raw: ByteBuffer, _ head: HTTPRequestHead) -> ByteBuffer {
        var raw = raw
        if self.configuration.rewriteHost {
            raw = Self.rewritingHost(raw, to: self.configuration.upstream.authority)
        }
        let view = raw.readableBytesView
        let terminatorLength = view.count >= 4 && view[view.endIndex - 4] == UInt8(ascii: "\r") ? 2 : 1
        let newline = terminatorLength == 2 ? "\r\n" : "\n"
        var out = self.clientHandler?.allocator.buffer(capacity: raw.readableBytes + 160) ?? ByteBuffer()
        out.writeImmutableBuffer(raw.getSlice(at: raw.readerIndex, length: raw.readableBytes - terminatorLength)!)
        out.writeString("X-Forwarded-For: \(self.clientIP)\(newline)X-Forwarded-Proto: http\(newline)")
        if let host = head.headers.first(name: "host") {
            out.writeString("X-Forwarded-Host: \(host)\(newline)")
        }
        out.writeString(newline)
        return out
    }

    private static func rewritingHost(_ raw: ByteBuffer, to authority: String) -> ByteBuffer {
        // Split on bytes: "\r\n" is a single Character in a Swift String.
        let lines = raw.readableBytesView.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        var out = ByteBuffer()
        for (index, line) in lines.enumerated() {
            if index > 0 { out.writeInteger(UInt8(ascii: "\n")) }
            let isHost = index > 0 && line.count >= 5
                && String(decoding: line.prefix(5), as: UTF8.self).lowercased() == "host:"
            if isHost {
                out.writeString("Host: \(authority)")
                if line.last == UInt8(ascii: "\r") { out.writeInteger(UInt8(ascii: "\r")) }
            } else {
                out.writeBytes(line)
            }
        }
        return out
    }

    /// Answers the client's request with `502` because the upstream cannot be reached.
    private func answerUnreachable(_ buffer: ByteBuffer, reason: String) {
        var answered = false
        self.requestParser.parse(buffer) { event in
            guard !answered, case .head(.request(let head), _) = event else { return }
            answered = true
            self.tap.requestHead(head)
            self.answerBadGateway(reason: reason)
        }
    }

    /// Sends the client a `502` whose body says why, then closes its connection. The only answer the
    /// proxy ever gives on its own: when there is no upstream answer to relay.
    private func answerBadGateway(reason: String) {
        self.logger.warning("\(reason)", metadata: ["connection": "\(self.id)"])
        self.tap.upstreamUnreachable(reason: reason)
        let body = "siotape: \(reason)\n"
        var response = self.clientHandler?.allocator.buffer(capacity: 160 + body.utf8.count) ?? ByteBuffer()
        response.writeString(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        self.closeCause = "upstream unreachable"
        self.upstreamAnswered = true
        self.clientHandler?.write(response)
        self.clientHandler?.closeAfterPendingWrites()
    }
}
