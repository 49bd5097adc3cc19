import NIOCore
import SIOWire

/// Writes recording lines: a `RecordingHeader` or a `Record` becomes one JSON line (ending in
/// `\n`) appended to a `ByteBuffer`, as specified in `docs/recording-format.md`.
///
/// Hand-written because it runs once per proxied packet: no `JSONEncoder`, no Foundation, and
/// Socket.IO payloads are copied in verbatim rather than re-serialised.
public struct RecordEncoder: Sendable {
    public init() {}

    /// Appends the header line (the first line of every recording).
    public func encode(_ header: RecordingHeader, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "{"))
        buffer.writeJSONKey(.format, first: true)
        buffer.writeJSONString(RecordingHeader.formatName)
        buffer.writeJSONKey(.version)
        buffer.writeDecimal(header.version)
        buffer.writeJSONKey(.started)
        buffer.writeJSONString(Timestamp.iso8601(micros: header.startedAtMicros))
        buffer.writeJSONKey(.wallUs)
        buffer.writeDecimal(header.startedAtMicros)
        buffer.writeJSONKey(.tool)
        buffer.writeJSONString(header.tool)
        if let upstream = header.upstream {
            buffer.writeJSONKey(.upstream)
            buffer.writeJSONString(upstream)
        }
        if let listen = header.listen {
            buffer.writeJSONKey(.listen)
            buffer.writeJSONString(listen)
        }
        buffer.writeJSONKey(.redacted)
        buffer.writeJSONBool(header.redacted)
        buffer.writeStaticString("}\n")
    }

    /// Appends the `end` trailer: written once on a clean close, so readers can tell a complete
    /// recording from one that was cut off.
    public func encodeEnd(time: Int64, records: Int, into buffer: inout ByteBuffer) {
        self.start(time: time, kind: .end, into: &buffer)
        buffer.writeJSONKey(.records)
        buffer.writeDecimal(records)
        buffer.writeStaticString("}\n")
    }

    /// Appends one record line.
    public func encode(_ record: Record, into buffer: inout ByteBuffer) {
        switch record.event {
        case .connectionOpened(let e):
            self.start(time: record.time, kind: .conn, into: &buffer)
            buffer.writeJSONKey(.conn)
            buffer.writeDecimal(unsigned: e.connection)
            buffer.writeJSONKey(.peer)
            buffer.writeJSONString(e.peer)
        case .connectionClosed(let e):
            self.start(time: record.time, kind: .connClose, into: &buffer)
            buffer.writeJSONKey(.conn)
            buffer.writeDecimal(unsigned: e.connection)
            buffer.writeJSONKey(.cause)
            buffer.writeJSONString(e.cause)
        case .http(let e):
            self.encodeHTTP(time: record.time, e, into: &buffer)
            return
        case .body(let e):
            self.start(time: record.time, kind: .body, into: &buffer)
            buffer.writeJSONKey(.conn)
            buffer.writeDecimal(unsigned: e.connection)
            switch e.direction {
            case .clientToServer: buffer.writeJSONMember(.dir, "\"c2s\"")
            case .serverToClient: buffer.writeJSONMember(.dir, "\"s2c\"")
            }
            buffer.writeJSONKey(.seq)
            buffer.writeDecimal(e.sequence)
            if let type = e.contentType {
                buffer.writeJSONKey(.type)
                buffer.writeJSONString(type)
            }
            if let coding = e.contentEncoding {
                buffer.writeJSONKey(.coding)
                buffer.writeJSONString(coding)
            }
            if e.inflated { buffer.writeJSONMember(.inflated, "true") }
            self.recordedData(e.data, into: &buffer)
            if e.last { buffer.writeJSONMember(.last, "true") }
            if let size = e.size {
                buffer.writeJSONKey(.size)
                buffer.writeDecimal(size)
            }
            if let note = e.note {
                buffer.writeJSONKey(.note)
                buffer.writeJSONString(note)
            }
        case .sessionOpened(let e):
            self.start(time: record.time, kind: .open, into: &buffer)
            buffer.writeJSONKey(.sid)
            buffer.writeJSONString(e.sid)
            buffer.writeJSONKey(.conn)
            buffer.writeDecimal(unsigned: e.connection)
            buffer.writeJSONKey(.eio)
            buffer.writeDecimal(e.engineIOVersion.rawValue)
            buffer.writeJSONKey(.tr)
            buffer.writeJSONString(e.transport.rawValue)
            buffer.writeJSONKey(.path)
            buffer.writeJSONString(e.path)
            buffer.writeJSONKey(.query)
            self.pairs(e.query, into: &buffer)
            buffer.writeJSONKey(.headers)
            self.pairs(e.headers, into: &buffer)
            var handshake = ByteBuffer(string: e.handshake)
            self.verbatimJSON(
                &handshake,
                key: .handshake,
                textKey: .handshakeText,
                b64Key: .handshakeB64,
                into: &buffer
            )
        case .webSocketOpened(let e):
            self.start(time: record.time, kind: .ws, into: &buffer)
            self.optionalSID(e.sid, into: &buffer)
            buffer.writeJSONKey(.conn)
            buffer.writeDecimal(unsigned: e.connection)
            if let ext = e.extensions {
                buffer.writeJSONKey(.ext)
                buffer.writeJSONString(ext)
            }
        case .upgraded(let e):
            self.start(time: record.time, kind: .upgrade, into: &buffer)
            buffer.writeJSONKey(.sid)
            buffer.writeJSONString(e.sid)
            buffer.writeJSONKey(.conn)
            buffer.writeDecimal(unsigned: e.connection)
        case .poll(let e):
            self.encodePoll(
                time: record.time, sid: e.sid, connection: e.connection, direction: e.direction, encoding: e.encoding,
                bytes: e.bytes, packetCount: e.packetCount, into: &buffer)
            return
        case .engine(let e):
            self.start(time: record.time, kind: .eio, into: &buffer)
            self.optionalSID(e.sid, into: &buffer)
            self.connDirTransport(e.connection, e.direction, e.transport, into: &buffer)
            buffer.writeJSONKey(.type)
            buffer.writeJSONString(e.type.name)
            if let data = e.data { self.recordedData(data, into: &buffer) }
        case .socket(let e):
            self.encodeSocket(
                time: record.time, sid: e.sid, connection: e.connection, direction: e.direction,
                transport: e.transport, packet: e.packet, ackLatencyMicros: e.ackLatencyMicros, redacted: e.redacted,
                into: &buffer)
            return
        case .undecodable(let e):
            self.start(time: record.time, kind: .raw, into: &buffer)
            self.optionalSID(e.sid, into: &buffer)
            buffer.writeJSONKey(.conn)
            buffer.writeDecimal(unsigned: e.connection)
            buffer.writeJSONKey(.dir)
            buffer.writeJSONString(e.direction.rawValue)
            if let tr = e.transport {
                buffer.writeJSONKey(.tr)
                buffer.writeJSONString(tr.rawValue)
            }
            buffer.writeJSONKey(.layer)
            buffer.writeJSONString(e.layer.rawValue)
            buffer.writeJSONKey(.reason)
            buffer.writeJSONString(e.reason)
            buffer.writeJSONKey(.off)
            buffer.writeDecimal(e.offset)
            self.recordedData(e.data, into: &buffer)
        case .webSocketClosed(let e):
            self.start(time: record.time, kind: .wsClose, into: &buffer)
            self.optionalSID(e.sid, into: &buffer)
            buffer.writeJSONKey(.conn)
            buffer.writeDecimal(unsigned: e.connection)
            buffer.writeJSONKey(.dir)
            buffer.writeJSONString(e.direction.rawValue)
            if let code = e.code {
                buffer.writeJSONKey(.code)
                buffer.writeDecimal(code)
            }
            buffer.writeJSONKey(.reason)
            buffer.writeJSONString(e.reason)
        case .sessionClosed(let e):
            self.start(time: record.time, kind: .close, into: &buffer)
            buffer.writeJSONKey(.sid)
            buffer.writeJSONString(e.sid)
            buffer.writeJSONKey(.cause)
            buffer.writeJSONString(e.cause)
        case .note(let e):
            self.start(time: record.time, kind: .note, into: &buffer)
            if let conn = e.connection {
                buffer.writeJSONKey(.conn)
                buffer.writeDecimal(unsigned: conn)
            }
            buffer.writeJSONKey(.level)
            buffer.writeJSONString(e.level)
            buffer.writeJSONKey(.msg)
            buffer.writeJSONString(e.message)
        }
        buffer.writeStaticString("}\n")
    }

    /// `{"t":<time>,"k":"<kind>"`, in one write.
    private func start(time: Int64, kind: RecordKind, into buffer: inout ByteBuffer) {
        let literal = kind.literal
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 34 + literal.utf8CodeUnitCount) { out in
            var line = RawLineWriter(out)
            line.ascii("{")
            line.key(.t, first: true)
            line.decimal(time)
            line.key(.k)
            line.ascii("\"")
            line.ascii(literal)
            line.ascii("\"")
            return line.count
        }
    }

    private func optionalSID(_ sid: String?, into buffer: inout ByteBuffer) {
        guard let sid else { return }
        buffer.writeJSONKey(.sid)
        buffer.writeJSONString(sid)
    }

    private func connDirTransport(
        _ conn: UInt64,
        _ dir: Direction,
        _ tr: EngineIOTransport,
        into buffer: inout ByteBuffer
    ) {
        buffer.writeJSONKey(.conn)
        buffer.writeDecimal(unsigned: conn)
        // Constant text, one write each (this runs for every packet).
        switch dir {
        case .clientToServer: buffer.writeJSONMember(.dir, "\"c2s\"")
        case .serverToClient: buffer.writeJSONMember(.dir, "\"s2c\"")
        }
        switch tr {
        case .websocket: buffer.writeJSONMember(.tr, "\"websocket\"")
        case .polling: buffer.writeJSONMember(.tr, "\"polling\"")
        }
    }

    func pairs(_ pairs: [Record.KeyValue], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "["))
        for (i, pair) in pairs.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeInteger(UInt8(ascii: "["))
            buffer.writeJSONString(pair.name)
            buffer.writeInteger(UInt8(ascii: ","))
            buffer.writeJSONString(pair.value)
            buffer.writeInteger(UInt8(ascii: "]"))
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }

    private func recordedData(_ data: RecordedData, into buffer: inout ByteBuffer) {
        switch data {
        case .text(let text):
            buffer.writeJSONKey(.text)
            buffer.writeJSONString(text)
        case .binary(let bytes):
            buffer.writeJSONKey(.b64)
            buffer.writeJSONBase64(bytes)
        }
    }

    /// The `sio` line of a `Record.SocketPacket` given by its fields: what `encode` writes for a
    /// `.socket` record, byte for byte. The capture's fast path calls it for the common packet
    /// without building a `Record` (one function, so the two cannot write different lines).
    ///
    /// Everything but attachments and a payload that needs scanning goes in one write (each
    /// separate `ByteBuffer` write costs an exclusivity and a capacity check): for a packet without
    /// attachments whose payload was found compact while decoding, the line of nearly every proxied
    /// packet, that is the whole line.
    @inline(__always)
    public func encodeSocket(
        time: Int64, sid: String?, connection: UInt64, direction: Direction, transport: EngineIOTransport,
        packet: SocketIOPacket, ackLatencyMicros: Int64?, redacted: Bool, into buffer: inout ByteBuffer
    ) {
        let embedsPayload =
            packet.jsonIsCompact && packet.attachments.isEmpty && packet.attachmentCount == 0 && packet.wire == nil
        // 230 bytes of constant text and numbers at most, with room to spare.
        var bound = 320 + RawLineWriter.bound(jsonString: packet.namespace)
        if embedsPayload { bound += packet.json?.readableBytes ?? 0 }
        if let sid { bound += RawLineWriter.bound(jsonString: sid) }
        if let event = packet.eventName { bound += RawLineWriter.bound(jsonString: event) }
        if let head = packet.rawHeader { bound += RawLineWriter.bound(jsonString: head) }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            var line = RawLineWriter(out)
            // The keys of `RecordLine.Field` in runs of constant text, one copy per run: a line of
            // separate keys cost a copy per key (17 per packet).
            line.ascii("{\"t\":")
            line.decimal(time)
            if let sid {
                line.ascii(",\"k\":\"sio\",\"sid\":")
                line.jsonString(sid)
                line.ascii(",\"conn\":")
            } else {
                line.ascii(",\"k\":\"sio\",\"conn\":")
            }
            line.decimal(unsigned: connection)
            switch (direction, transport) {
            case (.clientToServer, .websocket): line.ascii(",\"dir\":\"c2s\",\"tr\":\"websocket\",\"type\":")
            case (.serverToClient, .websocket): line.ascii(",\"dir\":\"s2c\",\"tr\":\"websocket\",\"type\":")
            case (.clientToServer, .polling): line.ascii(",\"dir\":\"c2s\",\"tr\":\"polling\",\"type\":")
            case (.serverToClient, .polling): line.ascii(",\"dir\":\"s2c\",\"tr\":\"polling\",\"type\":")
            }
            switch packet.type {
            case .connect: line.ascii("\"CONNECT\",\"nsp\":")
            case .disconnect: line.ascii("\"DISCONNECT\",\"nsp\":")
            case .event: line.ascii("\"EVENT\",\"nsp\":")
            case .ack: line.ascii("\"ACK\",\"nsp\":")
            case .connectError: line.ascii("\"CONNECT_ERROR\",\"nsp\":")
            case .binaryEvent: line.ascii("\"BINARY_EVENT\",\"nsp\":")
            case .binaryAck: line.ascii("\"BINARY_ACK\",\"nsp\":")
            }
            if packet.namespace == "/" {
                line.ascii("\"/\"")
            } else {
                line.jsonString(packet.namespace)
            }
            if let id = packet.ackID {
                line.ascii(",\"id\":")
                line.decimal(unsigned: id)
            }
            if let event = packet.eventName {
                line.ascii(",\"event\":")
                line.jsonString(event)
            }
            if let latency = ackLatencyMicros {
                line.ascii(",\"ack_us\":")
                line.decimal(latency)
            }
            if let head = packet.rawHeader {
                line.key(.head)
                line.jsonString(head)
            }
            if redacted {
                line.key(.redacted)
                line.ascii("true")
            }
            if packet.parser == .msgpack {
                line.key(.parser)
                line.ascii("\"msgpack\"")
            }
            if embedsPayload {
                if let json = packet.json {
                    line.ascii(",\"data\":")
                    json.withUnsafeReadableBytes { line.bytes($0) }
                }
                line.ascii("}\n")
            }
            return line.count
        }
        guard !embedsPayload else { return }
        if let wire = packet.wire {
            buffer.writeJSONKey(.wire)
            buffer.writeJSONBase64(wire)
        }
        if packet.attachmentCount != packet.attachments.count {
            buffer.writeJSONKey(.attN)
            buffer.writeDecimal(packet.attachmentCount)
        }
        if !packet.attachments.isEmpty {
            buffer.writeJSONKey(.att)
            buffer.writeInteger(UInt8(ascii: "["))
            for (i, attachment) in packet.attachments.enumerated() {
                if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                buffer.writeJSONBase64(attachment)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        }
        if var json = packet.json {
            // Validated and compact, but after attachments: embedded without a second scan too.
            if packet.jsonIsCompact {
                buffer.writeJSONKey(.data)
                buffer.writeImmutableBuffer(json)
            } else {
                self.verbatimJSON(&json, key: .data, textKey: .dataText, b64Key: .dataB64, into: &buffer)
            }
        }
        buffer.writeStaticString("}\n")
    }

    /// Embeds `json` as a JSON value, byte for byte, when that keeps the line valid JSON on one
    /// line; otherwise (invalid JSON, line breaks, surrounding whitespace) stores it as a string
    /// under `textKey` (or base64 under `b64Key` if it is not UTF-8), which reads back to the same bytes.
    private func verbatimJSON(
        _ json: inout ByteBuffer,
        key: RecordLine.Field,
        textKey: RecordLine.Field,
        b64Key: RecordLine.Field,
        into buffer: inout ByteBuffer
    ) {
        let embeddable = json.withUnsafeReadableBytes { bytes -> Bool in
            guard let first = bytes.first, let last = bytes.last, !isJSONWhitespace(first), !isJSONWhitespace(last)
            else { return false }
            // One pass for line breaks and non-ASCII bytes (the payload is scanned for every packet).
            var nonASCII = false
            for b in bytes {
                if b == 0x0A || b == 0x0D { return false }
                if b >= 0x80 { nonASCII = true }
            }
            if nonASCII && String(validating: bytes, as: UTF8.self) == nil { return false }
            return JSONCursor.isSingleValue(bytes, maxDepth: 256)
        }
        if embeddable {
            buffer.writeJSONKey(key)
            buffer.writeImmutableBuffer(json)
        } else if json.withUnsafeReadableBytes(isValidUTF8) {
            buffer.writeJSONKey(textKey)
            json.withUnsafeReadableBytes { buffer.writeJSONString(utf8: $0.assumingMemoryBound(to: UInt8.self)) }
        } else {
            // Not even UTF-8: a JSON string cannot carry it, base64 can.
            buffer.writeJSONKey(b64Key)
            buffer.writeJSONBase64(json)
        }
    }
}

@inline(__always)
func isJSONWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

/// The file must stay UTF-8 for every JSON tool; ASCII, the common case, is checked without decoding.
public func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    if !bytes.contains(where: { $0 >= 0x80 }) { return true }
    return String(validating: bytes, as: UTF8.self) != nil
}
