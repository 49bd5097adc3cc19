import NIOCore
import SIOWire

/// The logic of one proxied connection (a client TCP connection and its twin to the upstream) as a
/// plain value: events in, actions out. No channel, no tap, no clock.
///
/// Both HTTP parsers, the upstream's state and the connection's flags live here. Every event method
/// returns the actions the caller (`ProxyConnection`) performs, in order, once the method has
/// returned: writes, flushes and closes happen after the parsers are done with the bytes, so a
/// write that fails and closes a channel at once cannot reach back into a parser mid-parse (the
/// exclusivity trap fixed by e8fc73c was such a re-entry).
///
/// Bytes are relayed as they arrive, untouched, in order; the only change is the `X-Forwarded-*`
/// lines added at the end of each request head (and `Host`, when asked to rewrite it). After the
/// upstream's `101` both directions are opaque bytes; on a WebSocket each read is relayed, flushed
/// and only then handed to the tap, so decoding never delays a frame.
///
/// In the style of async-http-client's `HTTP1ConnectionStateMachine`.
struct ProxyConnectionStateMachine {
    enum Side: Hashable, Sendable {
        case client
        case upstream

        var partner: Side { self == .client ? .upstream : .client }
    }

    /// How a channel failed, as far as the machine cares.
    enum Failure: Hashable, Sendable {
        /// The peer reset the connection (ECONNRESET).
        case reset
        /// The TLS handshake with the upstream (or a later TLS record) failed.
        case tls(String)
        case other(String)
    }

    /// What the capture tap is told; `ProxyConnection` calls the `ConnectionTap` method of the same name.
    enum TapEvent: Equatable {
        case requestHead(HTTPHead)
        case requestBody(ByteBuffer)
        case requestEnd
        /// A final response, or a `101` that switched to a protocol other than WebSocket.
        case responseHead(HTTPHead)
        /// The upstream's `101` to a WebSocket upgrade: the machine's verdict, which the tap
        /// follows (it does not judge the upgrade itself); `webSocketBytes` follow.
        case webSocketAccepted(HTTPHead)
        case responseBody(ByteBuffer)
        case responseEnd
        case webSocketBytes(ByteBuffer, Direction)
        case httpUndecodable(ByteBuffer, reason: String, offset: Int, Direction)
        case upstreamUnreachable(reason: String)
        case connectionClosed(cause: String)
    }

    enum Action: Equatable {
        /// Write bytes to a side's channel (not flushed).
        case write(ByteBuffer, to: Side)
        case flush(Side)
        case tap(TapEvent)
        /// Issue the read a side held back (its partner can take more now).
        case resumeReading(Side)
        /// Send a FIN once what was written has gone out.
        case closeOutput(Side)
        /// Close once what was written has gone out.
        case close(Side)
        /// Close at once.
        case closeNow(Side)
        /// Reset (RST, not FIN) once what was written has gone out: its partner reset, and the peer
        /// must see what it would have seen without the proxy.
        case resetAfterPendingWrites(Side)
        /// Reset at once (shutdown of a side whose partner reset).
        case resetNow(Side)
        /// Answer the client `502 Bad Gateway` with this reason, then close it
        /// (`ProxyConnectionStateMachine.badGatewayResponse(reason:)`).
        case badGateway(reason: String)
        /// Both sides are gone: let go of the channels and of the connection.
        case release
    }

    private enum Upstream {
        case connecting
        case connected
        case unreachable(String)
    }

    /// What was meant for the upstream before its connection was made. The client is not read until
    /// then, except that NIO reads a socket's input to its end as soon as it sees the peer's FIN,
    /// whatever the relay's backpressure says: a client that sends its request and half-closes at
    /// once can have both read while there is no upstream channel to write to. They wait here and
    /// are relayed, in order, once there is.
    private struct HeldForUpstream {
        var bytes: ByteBuffer?
        /// A request head is among the bytes: answered `502` if the upstream turns out unreachable.
        var request = false
        /// The client half-closed: the upstream gets a FIN after the bytes.
        var closeOutput = false
    }

    /// What the connection carries: the one place that says whether it is a WebSocket yet.
    private enum Phase {
        /// HTTP; whether the last request head asked for a WebSocket upgrade.
        case http(webSocketRequested: Bool)
        /// The upstream switched protocols on a WebSocket upgrade: both directions go to the tap.
        case webSocket
        /// The upstream switched to some other protocol: relayed, not decoded.
        case otherProtocol
    }

    /// One flag per side, read and set by `Side`.
    private struct PerSide {
        var client = false
        var upstream = false

        subscript(side: Side) -> Bool {
            get { side == .client ? self.client : self.upstream }
            set {
                switch side {
                case .client: self.client = newValue
                case .upstream: self.upstream = newValue
                }
            }
        }
    }

    private let configuration: ProxyConfiguration
    private let clientIP: String
    private let allocator: ByteBufferAllocator
    private var upstream = Upstream.connecting
    private var held = HeldForUpstream()
    private var phase = Phase.http(webSocketRequested: false)
    private var requestParser = HTTP1StreamParser(role: .request)
    private var responseParser = HTTP1StreamParser(role: .response)
    /// The response being read is a 1xx other than 101 (its end is not the exchange's end).
    private var interimResponse = false
    /// The upstream half-closed: a body delimited by the close has already been ended.
    private var upstreamInputClosed = false
    private var inactive = PerSide()
    /// Sides whose peer reset the connection: their partner is reset too, not closed.
    private var peerReset = PerSide()
    private var closeCause: String?
    /// The side whose error (not a reset, not a close) `closeCause` names, while nothing else happened.
    private var closeCauseIsErrorOf: Side?
    private var finished = false
    /// Whether any byte of the upstream has reached the client (after that, a failure of the upstream
    /// is the client's to see as it happens, not something to answer for).
    private var upstreamAnswered = false
    /// Sides written to since their last flush. `readComplete` flushes only these: a WebSocket read
    /// is flushed as it is relayed, and flushing again would be a pass through the pipeline for nothing.
    private var unflushed = PerSide()

    init(configuration: ProxyConfiguration, clientIP: String, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.configuration = configuration
        self.clientIP = clientIP
        self.allocator = allocator
    }

    /// Whether the connection is relaying a WebSocket (the upstream accepted an upgrade).
    var isWebSocket: Bool {
        if case .webSocket = self.phase { return true }
        return false
    }

    // MARK: - Lifecycle

    /// A side's channel became active.
    mutating func channelActive(_ side: Side) -> [Action] {
        switch side {
        case .client:
            // The upstream may have connected first and be holding back its first read.
            return [.resumeReading(.upstream)]
        case .upstream:
            self.upstream = .connected
            let held = self.held
            self.held = HeldForUpstream()
            var actions: [Action] = []
            if let bytes = held.bytes {
                actions.append(.write(bytes, to: .upstream))
                actions.append(.flush(.upstream))
            }
            if self.inactive.client {
                // The client left while the upstream connection was being made; what it sent goes first.
                if self.peerReset.client {
                    actions.append(.resetAfterPendingWrites(.upstream))
                } else {
                    actions.append(held.bytes == nil ? .closeNow(.upstream) : .close(.upstream))
                }
                return actions
            }
            if held.closeOutput {
                actions.append(.closeOutput(.upstream))
            }
            actions.append(.resumeReading(.client))
            return actions
        }
    }

    /// The upstream could not be reached: the client's first request is answered `502`.
    mutating func upstreamConnectFailed(reason: String) -> [Action] {
        self.upstream = .unreachable(reason)
        self.inactive.upstream = true
        let held = self.held
        self.held = HeldForUpstream()
        if self.inactive.client {
            return self.finish()
        }
        if held.request {
            // The request was read while connecting (and tapped then): it is answered now.
            var actions: [Action] = []
            self.answerBadGateway(reason: reason, into: &actions)
            return actions
        }
        if held.closeOutput {
            // The client has nothing more to send and there is nothing to answer.
            return [.close(.client)]
        }
        return [.resumeReading(.client)]
    }

    /// Whether `side` may read now (backpressure: only while its partner can take more).
    func mayRead(_ side: Side, partnerWritable: Bool) -> Bool {
        switch side {
        case .client:
            switch self.upstream {
            case .connecting: return false
            case .connected: return partnerWritable
            case .unreachable: return true
            }
        case .upstream:
            return partnerWritable
        }
    }

    mutating func writabilityChanged(_ side: Side) -> [Action] {
        [.resumeReading(side.partner)]
    }

    mutating func readComplete(_ side: Side) -> [Action] {
        guard self.unflushed[side.partner] else { return [] }
        self.unflushed[side.partner] = false
        return [.flush(side.partner)]
    }

    /// A side half-closed its output: the partner is half-closed too, once what it was sent is out.
    mutating func inputClosed(_ side: Side) -> [Action] {
        var actions: [Action] = []
        switch side {
        case .client:
            self.closeCause = self.closeCause ?? "client"
            self.closeCauseIsErrorOf = nil
        case .upstream:
            self.upstreamInputClosed = true
            self.closeCause = self.closeCause ?? "upstream"
            self.closeCauseIsErrorOf = nil
        }
        self.parserInputClosed(side, into: &actions)
        if side == .client, case .connecting = self.upstream {
            self.held.closeOutput = true
        } else {
            actions.append(.closeOutput(side.partner))
        }
        return actions
    }

    /// A side's channel failed: NIO reported an error (its handler closes the channel next), or a
    /// write to it failed. NIO closes a channel whose send fails without reporting an error; the
    /// handler learns it from the failed write and reports it just before `channelInactive`, so a
    /// reset that a write met (the peer reset while it was being written to) is passed on as one
    /// found by a read is.
    mutating func errorCaught(_ failure: Failure, on side: Side) -> [Action] {
        let who = side == .client ? "client" : "upstream"
        switch failure {
        case .reset:
            // A reset names the end even after an error of the same side: over TLS, NIOSSL reports an
            // unclean shutdown when the TCP connection under it closes, before the failed write that
            // closed it says it met a reset.
            if self.closeCause == nil || self.closeCauseIsErrorOf == side {
                self.closeCause = "\(who) reset"
            }
            self.closeCauseIsErrorOf = nil
            self.peerReset[side] = true
        case .tls(let description), .other(let description):
            if self.closeCause == nil {
                self.closeCause = "\(who) error: \(description)"
                self.closeCauseIsErrorOf = side
            }
        }
        var actions: [Action] = []
        if side == .upstream, !self.upstreamAnswered, case .tls(let description) = failure {
            // The TCP connection was made but TLS was not: to the client the upstream is unreachable.
            self.answerBadGateway(
                reason: "cannot reach the upstream \(self.configuration.upstream): TLS handshake failed: \(description)"
                    + " (use --insecure for a self-signed certificate)",
                into: &actions)
        }
        return actions
    }

    /// A side's channel closed. Its partner is closed once what it was sent has gone out, or reset if
    /// the side's peer reset and the partner is still open: a reset passes through as a reset.
    mutating func channelInactive(_ side: Side) -> [Action] {
        var actions: [Action] = []
        switch side {
        case .client:
            self.inactive.client = true
            self.closeCause = self.closeCause ?? "client"
            self.closeCauseIsErrorOf = nil
            if case .connecting = self.upstream {
                // The upstream is closed by `channelActive(.upstream)`, after what the client sent.
                return []
            }
        case .upstream:
            self.inactive.upstream = true
            self.closeCause = self.closeCause ?? "upstream"
            self.closeCauseIsErrorOf = nil
            if !self.upstreamInputClosed {
                self.parserInputClosed(.upstream, into: &actions)
            }
        }
        if self.peerReset[side] && !self.inactive[side.partner] {
            actions.append(.resetAfterPendingWrites(side.partner))
        } else {
            actions.append(.close(side.partner))
        }
        if self.inactive.client && self.inactive.upstream {
            actions += self.finish()
        }
        return actions
    }

    /// The proxy shuts down: both sides close at once; a side whose partner reset is reset, not closed
    /// (its reset may still be waiting for its pending writes).
    mutating func shutdown() -> [Action] {
        [Side.client, Side.upstream].map { side -> Action in
            self.peerReset[side.partner] ? .resetNow(side) : .closeNow(side)
        }
    }

    private mutating func finish() -> [Action] {
        guard !self.finished else { return [] }
        self.finished = true
        return [.tap(.connectionClosed(cause: self.closeCause ?? "closed")), .release]
    }

    // MARK: - Relaying

    /// Bytes read from a side.
    mutating func received(_ buffer: ByteBuffer, from side: Side) -> [Action] {
        var actions: [Action] = []
        self.received(buffer, from: side, into: &actions)
        return actions
    }

    /// `received(_:from:)` appending to an array the caller reuses (the executor: no allocation per read).
    mutating func received(_ buffer: ByteBuffer, from side: Side, into actions: inout [Action]) {
        // The parser is moved out while it runs so that its callback can change the rest of the
        // machine (the other parser included) without an overlapping access and without a copy.
        switch side {
        case .client:
            if case .unreachable(let reason) = self.upstream {
                self.answerUnreachable(buffer, reason: reason, into: &actions)
                return
            }
            var parser = self.takeParser(.client)
            let failedBefore = parser.error != nil
            parser.parse(buffer) { self.handleRequestEvent($0, into: &actions) }
            self.requestParser = parser
            self.checkParser(failedBefore: failedBefore, side: .client, bytes: buffer, into: &actions)
        case .upstream:
            self.upstreamAnswered = true
            var parser = self.takeParser(.upstream)
            let failedBefore = parser.error != nil
            parser.parse(buffer) { self.handleResponseEvent($0, into: &actions) }
            self.responseParser = parser
            self.checkParser(failedBefore: failedBefore, side: .upstream, bytes: buffer, into: &actions)
        }
    }

    private mutating func takeParser(_ side: Side) -> HTTP1StreamParser {
        switch side {
        case .client:
            defer { self.requestParser = HTTP1StreamParser(role: .request) }
            return self.requestParser
        case .upstream:
            defer { self.responseParser = HTTP1StreamParser(role: .response) }
            return self.responseParser
        }
    }

    /// After a parser of `side` was fed: if it just gave up, the damage is recorded, and when it was
    /// the request side, responses can no longer be matched to requests either: the response side
    /// turns opaque too, releasing whatever it held (the upstream's answer to garbage is relayed).
    private mutating func checkParser(failedBefore: Bool, side: Side, bytes: ByteBuffer, into actions: inout [Action]) {
        guard !failedBefore, let error = side == .client ? self.requestParser.error : self.responseParser.error
        else { return }
        actions.append(
            .tap(
                .httpUndecodable(
                    bytes, reason: error.reason, offset: error.offset,
                    side == .client ? .clientToServer : .serverToClient)))
        if side == .client, let held = self.responseParser.switchToOpaque() {
            self.write(held, to: .client, into: &actions)
            self.flush(.client, into: &actions)
        }
    }

    /// The input of `side` ended: a body delimited by the close ends, and bytes a parser still held
    /// (a head cut short) are relayed, so the other peer gets every byte that was sent.
    private mutating func parserInputClosed(_ side: Side, into actions: inout [Action]) {
        var released = ByteBuffer()
        var parser = self.takeParser(side)
        let failedBefore = parser.error != nil
        parser.inputClosed { event in
            if case .forward(let bytes) = event { released.writeImmutableBuffer(bytes) }
            switch side {
            case .client: self.handleRequestEvent(event, into: &actions)
            case .upstream: self.handleResponseEvent(event, into: &actions)
            }
        }
        switch side {
        case .client: self.requestParser = parser
        case .upstream: self.responseParser = parser
        }
        self.checkParser(failedBefore: failedBefore, side: side, bytes: released, into: &actions)
    }

    private mutating func handleRequestEvent(_ event: HTTP1StreamParser.Event, into actions: inout [Action]) {
        switch event {
        case .head(let head):
            precondition(head.isRequest, "the request parser produced a response head")
            actions.append(.tap(.requestHead(head)))
            self.responseParser.expectResponse(to: head)
            if case .http = self.phase {
                self.phase = .http(webSocketRequested: head.headers.hasToken("websocket", name: "upgrade"))
            }
            self.write(self.forwardedHead(head), to: .upstream, into: &actions)
            if case .connecting = self.upstream { self.held.request = true }
        case .forward(let bytes):
            self.relay(bytes, to: .upstream, into: &actions)
        case .content(let bytes):
            actions.append(.tap(.requestBody(bytes)))
        case .end:
            actions.append(.tap(.requestEnd))
        }
    }

    private mutating func handleResponseEvent(_ event: HTTP1StreamParser.Event, into actions: inout [Action]) {
        switch event {
        case .head(let head):
            precondition(!head.isRequest, "the response parser produced a request head")
            self.write(head.raw, to: .client, into: &actions)
            let code = head.statusCode
            self.interimResponse = (100..<200).contains(code) && code != 101
            if code == 101 {
                if case .http(let webSocketRequested) = self.phase {
                    self.phase = webSocketRequested ? .webSocket : .otherProtocol
                }
                // The tap is told which it is: this machine is the one place that decides.
                actions.append(.tap(self.isWebSocket ? .webSocketAccepted(head) : .responseHead(head)))
                if let held = self.requestParser.switchToOpaque() {
                    // Bytes the client sent after its upgrade request, before the 101 arrived.
                    self.relay(held, to: .upstream, flush: true, into: &actions)
                }
            } else if !self.interimResponse {
                actions.append(.tap(.responseHead(head)))
            }
        case .forward(let bytes):
            self.relay(bytes, to: .client, into: &actions)
        case .content(let bytes):
            actions.append(.tap(.responseBody(bytes)))
        case .end:
            if !self.interimResponse {
                actions.append(.tap(.responseEnd))
            }
            self.interimResponse = false
        }
    }

    /// Relays bytes that are not a head. On a WebSocket: relay, flush, then tap, so the frames are
    /// on their way before they are decoded. HTTP bodies are flushed at the end of the read.
    private mutating func relay(_ bytes: ByteBuffer, to side: Side, flush: Bool = false, into actions: inout [Action]) {
        self.write(bytes, to: side, into: &actions)
        if case .webSocket = self.phase {
            self.flush(side, into: &actions)
            actions.append(.tap(.webSocketBytes(bytes, side == .upstream ? .clientToServer : .serverToClient)))
        } else if flush {
            self.flush(side, into: &actions)
        }
    }

    private mutating func write(_ bytes: ByteBuffer, to side: Side, into actions: inout [Action]) {
        if side == .upstream, case .connecting = self.upstream {
            if self.held.bytes == nil {
                self.held.bytes = bytes
            } else {
                self.held.bytes!.writeImmutableBuffer(bytes)
            }
            return
        }
        actions.append(.write(bytes, to: side))
        self.unflushed[side] = true
    }

    private mutating func flush(_ side: Side, into actions: inout [Action]) {
        // Held bytes are flushed when the upstream connection is made.
        if side == .upstream, case .connecting = self.upstream { return }
        actions.append(.flush(side))
        self.unflushed[side] = false
    }

    // MARK: - 502

    /// Answers the client's request with `502` because the upstream cannot be reached.
    private mutating func answerUnreachable(_ buffer: ByteBuffer, reason: String, into actions: inout [Action]) {
        var answered = false
        var head: HTTPHead?
        self.requestParser.parse(buffer) { event in
            guard !answered, case .head(let requestHead) = event else { return }
            answered = true
            head = requestHead
        }
        guard let head else { return }
        actions.append(.tap(.requestHead(head)))
        self.answerBadGateway(reason: reason, into: &actions)
    }

    /// Sends the client a `502` whose body says why, then closes its connection. The only answer the
    /// proxy ever gives on its own: when there is no upstream answer to relay.
    private mutating func answerBadGateway(reason: String, into actions: inout [Action]) {
        self.closeCause = "upstream unreachable"
        self.closeCauseIsErrorOf = nil
        self.upstreamAnswered = true
        actions.append(.tap(.upstreamUnreachable(reason: reason)))
        actions.append(.badGateway(reason: reason))
    }

    /// The bytes of the `502` that `.badGateway(reason:)` sends.
    static func badGatewayResponse(reason: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let body = "siotape: \(reason)\n"
        var response = allocator.buffer(capacity: 160 + body.utf8.count)
        response.writeString(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        return response
    }

    // MARK: - Forwarded heads

    /// The request head as forwarded: the client's bytes, plus `X-Forwarded-For/-Proto/-Host`
    /// lines before the blank line that ends it.
    private func forwardedHead(_ head: HTTPHead) -> ByteBuffer {
        var raw = head.raw
        if self.configuration.rewriteHost {
            raw = Self.rewritingHost(raw, to: self.configuration.upstream.authority)
        }
        let view = raw.readableBytesView
        let terminatorLength = view.count >= 4 && view[view.endIndex - 4] == UInt8(ascii: "\r") ? 2 : 1
        let newline = terminatorLength == 2 ? "\r\n" : "\n"
        var out = self.allocator.buffer(capacity: raw.readableBytes + 160)
        out.writeImmutableBuffer(raw.getSlice(at: raw.readerIndex, length: raw.readableBytes - terminatorLength)!)
        out.writeString("X-Forwarded-For: \(self.clientIP)\(newline)X-Forwarded-Proto: http\(newline)")
        if let host = head.headers.firstIndex(name: "host") {
            out.writeStaticString("X-Forwarded-Host: ")
            let value = head.headers.valueBytes(at: host)
            if value.readableBytesView.allSatisfy({ $0 < 0x80 }) {
                out.writeImmutableBuffer(value)
            } else {
                // As a `String` (invalid UTF-8 replaced), as before heads were kept as bytes.
                out.writeString(head.headers.value(at: host))
            }
            out.writeString(newline)
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
}
