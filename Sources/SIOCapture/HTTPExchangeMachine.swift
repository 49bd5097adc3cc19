import NIOCore
import SIORecording
import SIOWire

/// Follows the HTTP exchanges of one client connection (requests are strictly sequential) and
/// keeps the Engine.IO bodies that will be decoded. Says what to do; does no decoding itself.
struct HTTPExchangeMachine {
    /// A body being collected, with a cap: beyond it the first bytes are kept to show what it was.
    struct Body {
        var bytes = ByteBuffer()
        var keep: Bool
        var limit: Int
        var overflowed = false

        static let headBytes = 1024

        mutating func append(_ piece: ByteBuffer) {
            guard self.keep, !self.overflowed else { return }
            if self.bytes.readableBytes + piece.readableBytes > self.limit {
                self.overflowed = true
                // Only the head survives; the rest of a huge body is not decoded.
                var head = self.bytes
                head.writeImmutableBuffer(piece)
                self.bytes = head.getSlice(at: head.readerIndex, length: min(Self.headBytes, head.readableBytes)) ?? ByteBuffer()
            } else {
                self.bytes.writeImmutableBuffer(piece)
            }
        }
    }

    struct Exchange {
        /// The request head as the client sent it.
        var request: HTTPHead
        var uri: String
        /// Set when the request is an Engine.IO request (`EIO=` present).
        var target: EngineIORequestTarget?
        /// `Redactor.queryMayNameCredentials` of the request, told once per request: the `http`
        /// record's path is rewritten only when it may.
        var queryMayNameCredentials = true
        var start: Int64
        var requestBytes = 0
        var requestBody: Body
        var status: Int?
        /// The final response's head (or the `101`), once it came.
        var response: HTTPHead?
        var responseBytes = 0
        var responseBody = Body(keep: false, limit: 0)
        var requestEnded = false
        /// The recording's copies of the bodies of an exchange that is not Engine.IO.
        var requestCapture: BodyCapture?
        var responseCapture: BodyCapture?
        /// The `body` records the copies produced and the tap has not written yet.
        var pieces: [Record.HTTPBody] = []
        /// Values masked in the bodies, not yet taken by the tap (known secrets).
        var secrets: [String] = []

        /// Whether the request is an Engine.IO request: `target != nil` compared two optional
        /// targets (copying the target twice), the target being `Equatable`.
        var isEngineIO: Bool {
            if case .some = self.target { return true }
            return false
        }

        var requestHeaders: HTTPHead.Headers { self.request.headers }
        var responseHeaders: HTTPHead.Headers { self.response?.headers ?? HTTPHead.Headers() }

        mutating func capture(_ direction: Direction, _ step: (inout BodyCapture) -> Record.HTTPBody?) {
            switch direction {
            case .clientToServer:
                guard self.requestCapture != nil else { return }
                if let piece = step(&self.requestCapture!) { self.pieces.append(piece) }
                if !self.requestCapture!.secrets.isEmpty {
                    self.secrets += self.requestCapture!.secrets
                    self.requestCapture!.secrets = []
                }
            case .serverToClient:
                guard self.responseCapture != nil else { return }
                if let piece = step(&self.responseCapture!) { self.pieces.append(piece) }
                if !self.responseCapture!.secrets.isEmpty {
                    self.secrets += self.responseCapture!.secrets
                    self.responseCapture!.secrets = []
                }
            }
        }
    }

    enum Action {
        case none
        /// An Engine.IO POST body is complete: decode it (client → server packets). The exchange
        /// stays in flight and is lent for it (`decodeRequestBody`), not copied into the action.
        case requestBodyComplete
        /// The response is complete: record the exchange, decode a polling answer.
        case exchangeComplete(Exchange)
        /// The upstream switched protocols (`101`); the connection carries no more HTTP. `webSocket`
        /// is what the tap was told (the proxy's state machine decides whether it is a WebSocket).
        case protocolSwitched(Exchange, webSocket: Bool)
    }

    private enum State {
        case idle
        /// An exchange in flight: `current`.
        case exchange
        /// After a `101`: no more exchanges.
        case switched
        case closed
    }

    private var state: State = .idle
    /// The exchange in flight (set exactly while `state` is `.exchange`). Kept out of the state enum
    /// so that every body piece and head of a polling round trip changes it in place: taking it out
    /// of an enum payload and putting it back copied (retained and released) all of its fields.
    private var current: Exchange?
    let maxBodyBytes: Int
    /// `--body-limit`: bytes of each body of an exchange that is not Engine.IO kept in the
    /// recording; 0 keeps none (no `body` records).
    let bodyLimit: Int
    let connection: UInt64
    let bodyRedactor: BodyRedactor

    init(
        maxBodyBytes: Int, bodyLimit: Int = 0, connection: UInt64 = 0,
        bodyRedactor: BodyRedactor = BodyRedactor(enabled: true)
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.bodyLimit = bodyLimit
        self.connection = connection
        self.bodyRedactor = bodyRedactor
    }

    /// The exchange in flight, taken out; the machine is idle after.
    private mutating func takeExchange() -> Exchange {
        self.state = .idle
        // Moved out (`take`): a copy, then the original's destruction, cost ~1,800 instructions.
        return self.current.take()!
    }

    /// A request head; `queryMayNameCredentials`: `Redactor.queryMayNameCredentials(head)`, which
    /// the tap asks anyway (known secrets).
    mutating func requestHead(_ head: HTTPHead, time: Int64, queryMayNameCredentials: Bool = true) -> Action {
        guard case .idle = self.state else {
            // A new request before the previous response ended (the proxy lost the response):
            // finish the old one so it is still recorded.
            if case .exchange = self.state {
                var old = self.takeExchange()
                Self.finishCaptures(&old)
                _ = self.requestHead(head, time: time, queryMayNameCredentials: queryMayNameCredentials)
                return .exchangeComplete(old)
            }
            return .none
        }
        let uri = head.uri
        let target = head.uriContains("EIO=") ? EngineIORequestTarget(uri: uri) : nil
        let isEngineIO = target?.version != nil
        // Made in place: a local exchange stored here was copied and destroyed.
        self.current = Exchange(
            request: head, uri: uri, target: isEngineIO ? target : nil, start: time,
            requestBody: Body(keep: isEngineIO && head.methodIs("POST"), limit: self.maxBodyBytes))
        self.current!.queryMayNameCredentials = queryMayNameCredentials
        if !isEngineIO, self.bodyLimit > 0 {
            self.current!.requestCapture = BodyCapture(
                connection: self.connection, direction: .clientToServer, headers: head.headers, limit: self.bodyLimit,
                streamed: BodyCapture.isStreamed(head.headers, isResponse: false, redactor: self.bodyRedactor),
                redactor: self.bodyRedactor)
        }
        self.state = .exchange
        return .none
    }

    mutating func requestBody(_ bytes: ByteBuffer) {
        guard case .exchange = self.state else { return }
        self.current!.requestBytes += bytes.readableBytes
        self.current!.requestBody.append(bytes)
        self.current!.capture(.clientToServer) { $0.append(bytes) }
    }

    mutating func requestEnd() -> Action {
        guard case .exchange = self.state, !self.current!.requestEnded else { return .none }
        self.current!.requestEnded = true
        self.current!.capture(.clientToServer) { $0.finish() }
        self.current!.requestCapture = nil
        guard self.current!.requestBody.keep else {
            self.current!.requestBody = Body(keep: false, limit: 0)
            return .none
        }
        return .requestBodyComplete
    }

    /// After `requestBodyComplete`: lends the exchange in flight to `decode`, then lets its request
    /// body go. Lent in place: a copy of the exchange in the action, and its destruction, cost
    /// ~3,000 instructions per POST.
    mutating func decodeRequestBody(_ decode: (Exchange) -> Void) {
        guard case .exchange = self.state, self.current!.requestBody.keep else { return }
        decode(self.current!)
        self.current!.requestBody = Body(keep: false, limit: 0)
    }

    /// A final response head or a `101`; `webSocket`: the `101` accepted a WebSocket upgrade.
    mutating func responseHead(_ head: HTTPHead, webSocket: Bool = false) -> Action {
        guard case .exchange = self.state else { return .none }
        self.current!.status = head.statusCode
        self.current!.response = head
        if !self.current!.isEngineIO, self.bodyLimit > 0, head.statusCode != 101 {
            self.current!.responseCapture = BodyCapture(
                connection: self.connection, direction: .serverToClient, headers: head.headers, limit: self.bodyLimit,
                streamed: BodyCapture.isStreamed(head.headers, isResponse: true, redactor: self.bodyRedactor),
                redactor: self.bodyRedactor)
        }
        if head.statusCode == 101 {
            let exchange = self.takeExchange()
            self.state = .switched
            return .protocolSwitched(exchange, webSocket: webSocket)
        }
        if self.current!.isEngineIO {
            // Polling answers are decoded; error answers keep their start for the record.
            let isPollAnswer = head.statusCode == 200 && self.current!.request.methodIs("GET")
            let isError = head.statusCode >= 400
            self.current!.responseBody = Body(
                keep: isPollAnswer || isError, limit: isPollAnswer ? self.maxBodyBytes : Body.headBytes)
        }
        return .none
    }

    mutating func responseBody(_ bytes: ByteBuffer) {
        guard case .exchange = self.state else { return }
        self.current!.responseBytes += bytes.readableBytes
        self.current!.responseBody.append(bytes)
        self.current!.capture(.serverToClient) { $0.append(bytes) }
    }

    mutating func responseEnd() -> Action {
        guard case .exchange = self.state else { return .none }
        var exchange = self.takeExchange()
        Self.finishCaptures(&exchange)
        return .exchangeComplete(exchange)
    }

    /// The exchange in flight, if any, taken out (the connection ends or the upstream was unreachable).
    mutating func abandon() -> Exchange? {
        guard case .exchange = self.state else { return nil }
        var exchange = self.takeExchange()
        Self.finishCaptures(&exchange)
        return exchange
    }

    /// The `body` records produced since the last call (streamed pieces, a request body that
    /// ended) and the values masked in them, taken out.
    mutating func takePieces() -> (pieces: [Record.HTTPBody], secrets: [String]) {
        guard case .exchange = self.state, !self.current!.pieces.isEmpty || !self.current!.secrets.isEmpty
        else { return ([], []) }
        let taken = (self.current!.pieces, self.current!.secrets)
        self.current!.pieces = []
        self.current!.secrets = []
        return taken
    }

    /// Ends the copies still open (a body cut short is still written, with the size seen).
    private static func finishCaptures(_ exchange: inout Exchange) {
        if !exchange.requestEnded { exchange.capture(.clientToServer) { $0.finish() } }
        exchange.requestCapture = nil
        exchange.capture(.serverToClient) { $0.finish() }
        exchange.responseCapture = nil
    }

    mutating func close() {
        self.state = .closed
        self.current = nil
    }
}
