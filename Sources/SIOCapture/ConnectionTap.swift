import NIOCore
import SIORecording
import SIOWire

/// One client TCP connection (and its upstream twin). NOT Sendable: used by one thread at a time
/// (the proxy's `CaptureQueue` hands it from its capture thread to an event loop under a lock).
///
/// A thin shell: `HTTPExchangeMachine` follows the exchanges, `WebSocketTap` decodes frames,
/// and the hub's `SessionRegistry` turns packets into records. Decoding happens here, outside
/// the hub's lock; only session bookkeeping happens under it.
///
/// Every event takes the time it happened (`at`, in the hub's microseconds, `CaptureHub.now()`),
/// for a tap that runs after the fact; without it, the records are stamped now.
public final class ConnectionTap {
    let hub: CaptureHub
    let connection: UInt64
    private var http: HTTPExchangeMachine
    private var webSocket: WebSocketTap?
    /// For a WebSocket-only session: the handshake request, until the server's `0{...}` frame.
    private var pendingHandshake: SessionRegistry.HandshakeRequest?
    private var closed = false
    /// Where this connection's session was in the hub's table at its last common packet (fast path).
    var sessionSlot: SessionRegistry.SessionSlot?
    /// The arrays of the last WebSocket read, kept empty for the next one.
    private var spareFound = WebSocketTap.Found()
    /// The arrays of the last polling body's packets, kept empty for the next one.
    var sparePolled = PolledPackets()
    /// The line buffer of the last polling body's packets (`pollLines`), kept empty for the next one.
    var spareLines = ByteBuffer()
    /// Bytes seen since the last time the hub's counters were updated.
    var bytes: (clientToServer: Int, serverToClient: Int) = (0, 0)

    init(hub: CaptureHub, connection: UInt64) {
        self.hub = hub
        self.connection = connection
        let configuration = hub.configuration
        self.http = HTTPExchangeMachine(
            maxBodyBytes: configuration.maxBodyBytes, bodyLimit: configuration.bodyLimit, connection: connection,
            bodyRedactor: BodyRedactor(enabled: configuration.redactCredentials, extraNames: configuration.redactNames))
    }

    var redactor: Redactor { Redactor(enabled: self.hub.configuration.redactCredentials) }

    /// Records `conn`: the connection was accepted from `peer`.
    public func connectionOpened(peer: String, at time: Int64? = nil) {
        let record = Record(
            time: time ?? self.hub.now(), event: .connectionOpened(.init(connection: self.connection, peer: peer)))
        self.hub.withRegistry(bytes: &self.bytes) { _, records in records.append(record) }
    }

    /// A request head, as the client sent it (before `X-Forwarded-*` were added).
    public func requestHead(_ head: HTTPHead, at time: Int64? = nil) {
        let time = time ?? self.hub.now()
        let queryMayNameCredentials = Redactor.queryMayNameCredentials(head)
        let action = self.http.requestHead(head, time: time, queryMayNameCredentials: queryMayNameCredentials)
        if queryMayNameCredentials
            || head.headers.indices.contains(where: { Redactor.isCredentialHeader(head.headers, at: $0) })
        {
            self.learnCredentials { $0.learn(request: head) }
        }
        self.perform(action, time: time)
    }

    /// De-chunked request body bytes, possibly in many pieces.
    public func requestBody(_ bytes: ByteBuffer, at time: Int64? = nil) {
        self.bytes.clientToServer += bytes.readableBytes
        self.http.requestBody(bytes)
        self.writePieces(at: time)
    }

    /// The request is complete.
    public func requestEnd(at time: Int64? = nil) {
        let action = self.http.requestEnd()
        self.writePieces(at: time)
        if case .none = action { return }
        self.perform(action, time: time ?? self.hub.now())
    }

    /// A final response head, or a `101` that did not switch to WebSocket (no other 1xx).
    public func responseHead(_ head: HTTPHead, at time: Int64? = nil) {
        self.responseHead(head, webSocket: false, time: time)
    }

    /// The upstream's `101` to a WebSocket upgrade. Whether the connection is a WebSocket is the
    /// caller's verdict (the proxy's `ProxyConnectionStateMachine`, or `import har`'s plan); the
    /// tap decodes frames from then on when the request was Engine.IO's.
    public func webSocketAccepted(_ head: HTTPHead, at time: Int64? = nil) {
        self.responseHead(head, webSocket: true, time: time)
    }

    private func responseHead(_ head: HTTPHead, webSocket: Bool, time: Int64?) {
        if head.headers.contains(name: "Set-Cookie") { self.learnCredentials { $0.learn(response: head) } }
        let action = self.http.responseHead(head, webSocket: webSocket)
        if case .none = action { return }
        self.perform(action, time: time ?? self.hub.now())
    }

    /// De-chunked response body bytes, possibly in many pieces.
    public func responseBody(_ bytes: ByteBuffer, at time: Int64? = nil) {
        self.bytes.serverToClient += bytes.readableBytes
        self.http.responseBody(bytes)
        self.writePieces(at: time)
    }

    /// Learns credential values, taking the hub's lock only when there is something to learn.
    private func learnCredentials(_ learn: (inout SessionRegistry) -> Void) {
        guard self.hub.configuration.redactCredentials else { return }
        self.hub.withRegistry(bytes: &self.bytes) { registry, _ in learn(&registry) }
    }

    /// Writes the `body` records the exchange in flight produced (streamed pieces, a request body).
    private func writePieces(at time: Int64?) {
        let (pieces, secrets) = self.http.takePieces()
        guard !pieces.isEmpty || !secrets.isEmpty else { return }
        let time = time ?? self.hub.now()
        self.hub.withRegistry(bytes: &self.bytes) { registry, records in
            registry.learn(secrets)
            for piece in pieces { records.append(Record(time: time, event: .body(piece))) }
        }
    }

    /// The response is complete.
    public func responseEnd(at time: Int64? = nil) {
        let action = self.http.responseEnd()
        if case .none = action { return }
        self.perform(action, time: time ?? self.hub.now())
    }

    /// After a `101` has been relayed: raw bytes of the connection as they flow, per direction.
    public func webSocketBytes(_ bytes: ByteBuffer, direction: Direction, at time: Int64? = nil) {
        switch direction {
        case .clientToServer: self.bytes.clientToServer += bytes.readableBytes
        case .serverToClient: self.bytes.serverToClient += bytes.readableBytes
        }
        guard self.webSocket != nil else { return }
        let time = time ?? self.hub.now()
        // The array of the previous read, emptied: no allocation per read.
        var found = self.spareFound
        self.spareFound = WebSocketTap.Found()
        let mayLearn = self.webSocket!.receive(bytes, direction: direction, into: &found)
        defer {
            found.removeAll()
            if found.events.capacity <= 256, found.packets.capacity <= 256 { self.spareFound = found }
        }
        guard !found.events.isEmpty else { return }
        var read = WebSocketRead(
            sid: self.webSocket!.sid, connection: self.connection, version: self.webSocket!.version, time: time,
            handshake: self.pendingHandshake)
        if let writer = self.hub.lineWriter {
            // A client's CONNECT may teach secrets (redacting), which are masked in every record of
            // the read, lines already written included: such a read takes the slow path whole.
            var slot = self.sessionSlot
            defer { self.sessionSlot = slot }
            self.hub.withRegistry(bytes: &self.bytes, lines: writer) { registry, records, batch in
                guard !mayLearn, registry.knownSecrets.isEmpty else {
                    for event in found.events { read.handle(event, found.packets, registry: &registry, records: &records) }
                    return
                }
                var context = PacketContext(
                    sid: read.sid, connection: read.connection, direction: direction, transport: .websocket,
                    version: read.version, time: time)
                // By index: `for event in events` copied every event out of the array first; the
                // packet is lent in place (`inPlace:`): passed as a plain argument, it was copied, a
                // packet's worth of retains and releases.
                for index in found.events.indices {
                    if read.sid != nil, case .socket(let packet, let direction) = found.events[index] {
                        context.direction = direction
                        if registry.socketLine(inPlace: &found.packets[packet], context: context, slot: &slot, into: &batch) {
                            continue
                        }
                    }
                    read.handle(found.events[index], found.packets, registry: &registry, records: &records)
                    context.sid = read.sid
                    batch.append(encoding: &records)
                }
            }
        } else {
            self.hub.withRegistry(bytes: &self.bytes) { registry, records in
                for event in found.events { read.handle(event, found.packets, registry: &registry, records: &records) }
            }
        }
        let sid = read.sid
        self.webSocket!.sid = sid
        if sid != nil { self.pendingHandshake = nil }
    }

    /// One direction's bytes stopped being HTTP the parser understands (garbage, a head over the
    /// limit): the proxy relays the rest as opaque bytes; the record keeps the start of the bytes
    /// at hand and the reason.
    public func httpUndecodable(
        _ bytes: ByteBuffer, reason: String, offset: Int, direction: Direction, at time: Int64? = nil
    ) {
        let time = time ?? self.hub.now()
        let sample = self.redactor.httpBytes(
            bytes.getSlice(at: bytes.readerIndex, length: min(bytes.readableBytes, 1024)) ?? ByteBuffer())
        let connection = self.connection
        self.hub.withRegistry(bytes: &self.bytes) { registry, records in
            records.append(
                Record(
                    time: time,
                    event: .undecodable(
                        .init(
                            sid: nil, connection: connection, direction: direction, transport: nil, layer: .http,
                            data: RecordedData(textBytes: sample),
                            reason: "\(reason) (at byte \(offset) of the connection); the rest is relayed undecoded",
                            offset: 0))))
            registry.statistics.undecodable += 1
        }
    }

    /// The proxy could not reach the upstream and answered 502 itself.
    public func upstreamUnreachable(reason: String, at time: Int64? = nil) {
        let time = time ?? self.hub.now()
        let exchange = self.http.abandon()
        let connection = self.connection
        self.hub.withRegistry(bytes: &self.bytes) { registry, records in
            records.append(
                Record(
                    time: time,
                    event: .note(.init(level: "error", message: "upstream unreachable: \(reason)", connection: connection))))
            if let exchange {
                registry.learn(exchange.secrets)
                for piece in exchange.pieces { records.append(Record(time: time, event: .body(piece))) }
                registry.http(self.exchangeRecord(exchange, status: nil, time: time), time: time, into: &records)
            }
        }
    }

    /// The connection ended; records `conn_close` and ends the session its WebSocket carried.
    public func connectionClosed(cause: String, at time: Int64? = nil) {
        guard !self.closed else { return }
        self.closed = true
        let time = time ?? self.hub.now()
        let exchange = self.http.abandon()
        self.http.close()
        let connection = self.connection
        let sid = self.webSocket?.sid
        self.webSocket = nil
        self.hub.withRegistry(bytes: &self.bytes) { registry, records in
            if let exchange {
                registry.learn(exchange.secrets)
                for piece in exchange.pieces { records.append(Record(time: time, event: .body(piece))) }
                registry.http(self.exchangeRecord(exchange, status: exchange.status, time: time), time: time, into: &records)
            }
            registry.transportClosed(sid: sid, connection: connection, cause: cause, time: time, into: &records)
            records.append(
                Record(time: time, event: .connectionClosed(.init(connection: connection, cause: cause))))
        }
    }

    // MARK: Actions

    private func perform(_ action: HTTPExchangeMachine.Action, time: Int64) {
        switch action {
        case .none:
            break
        case .requestBodyComplete:
            // `decodePoll` leaves `http` alone while it is lent the exchange.
            self.http.decodeRequestBody { exchange in
                guard let target = exchange.target, let version = target.version else { return }
                self.decodePoll(
                    exchange.requestBody,
                    contentType: version == .v3 ? exchange.requestHeaders.first(name: "Content-Type") : nil,
                    target: target, version: version, direction: .clientToServer, exchange: exchange, time: time)
            }
        case .exchangeComplete(let exchange):
            var opened: String?
            if let target = exchange.target, let version = target.version, exchange.request.methodIs("GET"),
                exchange.status == 200
            {
                opened = self.decodePoll(
                    exchange.responseBody,
                    contentType: version == .v3 ? exchange.responseHeaders.first(name: "Content-Type") : nil,
                    target: target, version: version, direction: .serverToClient, exchange: exchange, time: time)
            }
            var record = self.exchangeRecord(exchange, status: exchange.status, time: time)
            record.sid = record.sid ?? opened
            if let writer = self.hub.lineWriter, exchange.pieces.isEmpty, exchange.secrets.isEmpty {
                // The line without a `Record` when the registry needs none (`SessionRegistry.http`).
                self.hub.withRegistry(bytes: &self.bytes, lines: writer) { registry, records, batch in
                    registry.http(record, time: time, into: &batch, records: &records)
                }
            } else {
                self.hub.withRegistry(bytes: &self.bytes) { registry, records in
                    registry.learn(exchange.secrets)
                    for piece in exchange.pieces { records.append(Record(time: time, event: .body(piece))) }
                    registry.http(record, time: time, into: &records)
                }
            }
        case .protocolSwitched(let exchange, let isWebSocket):
            let record = self.exchangeRecord(exchange, status: 101, time: time)
            guard isWebSocket, let target = exchange.target, let version = target.version else {
                self.hub.withRegistry(bytes: &self.bytes) { registry, records in
                    registry.http(record, time: time, into: &records)
                }
                return
            }
            let extensions = exchange.responseHeaders.first(name: "Sec-WebSocket-Extensions")
            self.webSocket = WebSocketTap(
                sid: target.sid, version: version, extensions: extensions,
                maxMessageBytes: self.hub.configuration.maxWebSocketMessageBytes, redactor: self.redactor,
                parser: self.hub.configuration.parser)
            if target.sid == nil { self.pendingHandshake = self.handshakeRequest(exchange, target: target) }
            let connection = self.connection
            self.hub.withRegistry(bytes: &self.bytes) { registry, records in
                registry.http(record, time: time, into: &records)
                registry.webSocketOpened(
                    sid: target.sid, connection: connection, extensions: extensions, time: time, into: &records)
            }
        }
    }
}

/// What the events of one WebSocket read share, and the slow path that makes `Record`s of them
/// (in a struct rather than a nested function: the variables such a function captures, the sid
/// above all, were boxed and every access to them checked for exclusivity at run time).
private struct WebSocketRead {
    /// The connection's session; set when a packet of the read opened it.
    var sid: String?
    let connection: UInt64
    let version: EngineIOVersion
    let time: Int64
    /// For a WebSocket-only session: the handshake request, until the server's `0{...}` frame.
    let handshake: SessionRegistry.HandshakeRequest?

    /// The registry makes `Record`s of one event; `packets` are the read's Socket.IO packets.
    mutating func handle(
        _ event: WebSocketTap.Event, _ packets: [SocketIOPacket], registry: inout SessionRegistry,
        records: inout [Record]
    ) {
        switch event {
        case .socket(let packet, let direction):
            registry.engine(.socket(packets[packet]), context: self.context(direction), into: &records)
        case .packet(let packet, let direction):
            let opened = registry.engine(
                packet, context: self.context(direction), handshake: self.sid == nil ? self.handshake : nil,
                into: &records)
            if let opened { self.sid = opened }
        case .close(let code, let reason, let direction):
            registry.webSocketClose(code: code, reason: reason, context: self.context(direction), into: &records)
        case .damage(let data, let layer, let reason, let offset, let direction):
            registry.undecodable(
                data, layer: layer, reason: reason, offset: offset, context: self.context(direction), into: &records)
        }
    }

    private func context(_ direction: Direction) -> PacketContext {
        PacketContext(
            sid: self.sid, connection: self.connection, direction: direction, transport: .websocket,
            version: self.version, time: self.time)
    }
}
