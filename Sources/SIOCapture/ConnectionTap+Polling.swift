import NIOCore
import SIORecording
import SIOWire

extension ConnectionTap {
    /// Decodes a polling body (outside the hub's lock) and hands its packets to the session.
    /// Returns the sid when the body was a handshake answer.
    @discardableResult
    func decodePoll(
        _ body: HTTPExchangeMachine.Body, contentType: String?, target: EngineIORequestTarget,
        version: EngineIOVersion, direction: Direction, exchange: HTTPExchangeMachine.Exchange, time: Int64
    ) -> String? {
        let context = PacketContext(
            sid: target.sid, connection: self.connection, direction: direction, transport: .polling, version: version,
            time: time)
        if body.overflowed {
            let total = direction == .clientToServer ? exchange.requestBytes : exchange.responseBytes
            let limit = self.hub.configuration.maxBodyBytes
            let connection = self.connection
            self.hub.withRegistry(bytes: &self.bytes) { registry, records in
                records.append(
                    Record(
                        time: time,
                        event: .note(
                            .init(
                                level: "warning",
                                message: "polling body of \(total) bytes exceeds maxBodyBytes (\(limit)); not decoded",
                                connection: connection))))
                registry.undecodable(
                    .binary(body.bytes), layer: .payload,
                    reason: "body of \(total) bytes exceeds the \(limit) byte limit; only its head is kept", offset: 0,
                    context: context, into: &records)
            }
            return nil
        }
        var bytes = body.bytes
        let headers = direction == .clientToServer ? exchange.requestHeaders : exchange.responseHeaders
        do throws(WireError) {
            if let inflated = try HTTPContentCoding.decode(
                body.bytes, contentEncoding: headers.first(name: "Content-Encoding"),
                limit: self.hub.configuration.maxBodyBytes)
            {
                bytes = inflated
            }
        } catch {
            self.hub.withRegistry(bytes: &self.bytes) { registry, records in
                registry.undecodable(
                    .binary(body.bytes.getSlice(at: body.bytes.readerIndex, length: min(1024, body.bytes.readableBytes))!),
                    layer: .payload, reason: error.reason, offset: error.offset, context: context, into: &records)
            }
            return nil
        }
        let handshake =
            target.sid == nil && direction == .serverToClient ? self.handshakeRequest(exchange, target: target) : nil
        let encoding = EngineIOPayload.encoding(version: version, contentType: contentType, body: bytes)
        let redactor = self.redactor
        let parser = self.hub.configuration.parser
        // The arrays of the previous body, emptied: no allocation per body.
        var polled = self.sparePolled
        self.sparePolled = PolledPackets()
        defer {
            polled.removeAll()
            if polled.isWorthKeeping { self.sparePolled = polled }
        }
        let error = EngineIOPayload.decode(bytes, encoding: encoding) {
            polled.append($0, version: version, direction: direction, redactor: redactor, parser: parser)
        }
        if let writer = self.hub.lineWriter, context.sid != nil, error == nil, polled.areFastPathCandidates {
            self.pollLines(&polled, encoding: encoding, body: bytes, context: context, writer: writer)
            return nil
        }
        let packets = polled.decoded
        return self.hub.withRegistry(bytes: &self.bytes) { registry, records in
            registry.poll(
                packets, error: error, encoding: encoding, body: bytes, context: context, handshake: handshake,
                into: &records)
        }
    }

    /// `SessionRegistry.poll` for a sink that takes lines (`RecordSink.lineWriter`), with the fast
    /// path of WebSocket reads: a common Socket.IO packet's `sio` line is written by
    /// `SessionRegistry.socketLine` without a `Record`. The `poll` line comes first and counts the
    /// packet records that follow, so the packets' lines are written to a buffer of the tap's
    /// first and copied after it. Only for a body of a known session that decoded whole and holds
    /// text Socket.IO packets (no client CONNECT: nothing to learn) and Engine.IO packets; with a
    /// known secret to mask, the registry's `poll` makes the records as always.
    private func pollLines(
        _ polled: inout PolledPackets, encoding: EngineIOPayloadEncoding, body: ByteBuffer, context: PacketContext,
        writer: RecordingWriter
    ) {
        var slot = self.sessionSlot
        defer { self.sessionSlot = slot }
        var lines = LineBatch(lines: self.spareLines)
        self.spareLines = ByteBuffer()
        defer {
            lines.lines.clear()
            if lines.lines.capacity <= 1 << 16 { self.spareLines = lines.lines }
        }
        self.hub.withRegistry(bytes: &self.bytes, lines: writer) { registry, records, batch in
            guard registry.knownSecrets.isEmpty else {
                registry.poll(
                    polled.decoded, error: nil, encoding: encoding, body: body, context: context, into: &records)
                return
            }
            var count = 0
            // By index, the packet lent in place (`inPlace:`): see `PolledPackets`.
            for index in polled.items.indices {
                switch polled.items[index] {
                case .socket(let packet):
                    if registry.socketLine(
                        inPlace: &polled.packets[packet], context: context, slot: &slot, into: &lines)
                    {
                        count += 1
                        continue
                    }
                    registry.engine(.socket(polled.packets[packet]), context: context, into: &records)
                case .other(let packet):
                    registry.engine(packet, context: context, into: &records)
                }
                count += SessionRegistry.packetRecordCount(records)
                lines.append(encoding: &records)
            }
            // The packets' records are encoded into `lines` as they come: none is left to go first.
            batch.pollLine(
                SessionRegistry.pollBody(context: context, encoding: encoding, body: body, packetCount: count),
                time: context.time)
            batch.append(moving: &lines)
        }
    }

    /// The `http` record of an exchange.
    func exchangeRecord(_ exchange: HTTPExchangeMachine.Exchange, status: Int?, time: Int64) -> Record.HTTPExchange {
        var errorBody: String?
        if exchange.isEngineIO, let status, status >= 400 {
            let view = exchange.responseBody.bytes.readableBytesView
            errorBody = String(decoding: view.prefix(HTTPExchangeMachine.Body.headBytes), as: UTF8.self)
        }
        var record = Record.HTTPExchange(
            connection: self.connection, method: exchange.request.methodString,
            path: exchange.queryMayNameCredentials ? self.redactor.path(exchange.uri) : exchange.uri,
            status: status, requestBytes: exchange.requestBytes, responseBytes: exchange.responseBytes,
            durationMicros: time - exchange.start, sid: exchange.target?.sid, errorBody: errorBody)
        if !exchange.isEngineIO, self.hub.configuration.bodyLimit > 0 {
            // The whole exchange is kept for HAR and replay: its headers, credentials masked.
            let redactor = self.redactor
            record.requestHeaders = exchange.requestHeaders.map {
                Record.KeyValue($0.name, redactor.headerValue(name: $0.name, value: $0.value))
            }
            if status != nil {
                record.responseHeaders = exchange.responseHeaders.map {
                    Record.KeyValue($0.name, redactor.headerValue(name: $0.name, value: $0.value))
                }
            }
        }
        return record
    }

    /// What the `open` record keeps of the request that started a session.
    func handshakeRequest(
        _ exchange: HTTPExchangeMachine.Exchange, target: EngineIORequestTarget
    ) -> SessionRegistry.HandshakeRequest {
        let redactor = self.redactor
        return SessionRegistry.HandshakeRequest(
            path: target.path,
            query: target.query.map { Record.KeyValue($0.name, redactor.queryValue(name: $0.name, value: $0.value)) },
            headers: redactor.handshakeHeaders(exchange.requestHeaders))
    }
}
