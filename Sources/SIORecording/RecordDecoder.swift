import NIOCore
import SIOWire

/// One decoded line of a recording (after the header).
public enum DecodedLine: Hashable, Sendable {
    case record(Record)
    /// The `end` trailer: the recording was closed cleanly after `records` records.
    case end(time: Int64, records: Int)
    /// A kind this build does not know (written by a newer siotape); readers skip it.
    case unknown(kind: String)
}

/// A line that is not valid recording JSON: what is wrong and where in the line.
public struct RecordFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Byte offset within the line.
    public var offset: Int
    public var message: String

    public var description: String { "\(self.message) (at byte \(self.offset) of the line)" }
}

/// Reads recording lines back: the inverse of `RecordEncoder`.
///
/// Finds the fields with `RecordLine` (checking every value strictly) and keeps the raw slice of
/// `data`, so Socket.IO payloads come back as exactly the bytes that were on the wire. Unknown
/// fields are skipped.
public struct RecordDecoder {
    private typealias Field = RecordLine.Field

    /// The fields of the line being decoded: `own`, or those a caller found (`decode(_:fields:)`).
    private var line: RecordLine
    private let own: RecordLine

    public init() {
        self.own = RecordLine()
        self.line = self.own
    }

    /// Decodes the first line of a recording. Throws `RecordingReadError` for a line that is not
    /// a siotape header or declares a version newer than this build reads.
    public mutating func decodeHeader(_ line: ByteBuffer) throws -> RecordingHeader {
        try line.withUnsafeReadableBytes { bytes in
            do {
                try self.scanFields(bytes)
            } catch {
                throw RecordingReadError.notARecording("the first line is not a JSON object (\(error))")
            }
            guard let format = try? self.string(.format, bytes), format == RecordingHeader.formatName else {
                throw RecordingReadError.notARecording("the first line has no \"format\":\"siotape\"")
            }
            do {
                let version = Int(try self.requiredInt(.version, bytes))
                guard version <= RecordingHeader.currentVersion else {
                    throw RecordingReadError.newerVersion(version)
                }
                return RecordingHeader(
                    version: version,
                    startedAtMicros: try self.requiredInt(.wallUs, bytes),
                    tool: try self.string(.tool, bytes) ?? "",
                    upstream: try self.string(.upstream, bytes),
                    listen: try self.string(.listen, bytes),
                    redacted: try self.bool(.redacted, bytes) ?? false
                )
            } catch let error as RecordFormatError {
                throw RecordingReadError.notARecording("bad header: \(error)")
            }
        }
    }

    /// Decodes one record line (without its `\n`).
    public mutating func decode(_ line: ByteBuffer) throws(RecordFormatError) -> DecodedLine {
        do {
            return try line.withUnsafeReadableBytes { try self.decode(bytes: $0) }
        } catch let error as RecordFormatError {
            throw error
        } catch let error as RecordLine.Malformed {
            throw RecordFormatError(offset: error.offset, message: error.message)
        } catch {
            throw RecordFormatError(offset: 0, message: "\(error)")
        }
    }

    /// Decodes one record line (without its `\n`) whose fields `fields` found with
    /// `parse(_:validating: true)`, without parsing it again: as `decode(_:)` for the same line.
    public mutating func decode(_ line: ByteBuffer, fields: RecordLine) throws(RecordFormatError) -> DecodedLine {
        self.line = fields
        // Back to its own storage: a later `decode(_:)` must not overwrite the caller's fields.
        defer { self.line = self.own }
        do {
            return try line.withUnsafeReadableBytes { try self.decode(bytes: $0, parsed: true) }
        } catch let error as RecordFormatError {
            throw error
        } catch {
            throw RecordFormatError(offset: 0, message: "\(error)")
        }
    }

    mutating func decode(bytes: UnsafeRawBufferPointer, parsed: Bool = false) throws -> DecodedLine {
        if !parsed { try self.scanFields(bytes) }
        let time = try self.requiredInt(.t, bytes)
        let kind = try self.requiredString(.k, bytes)
        let event: Record.Event
        switch RecordKind(name: kind) {
        case .conn:
            event = .connectionOpened(
                .init(connection: try self.conn(bytes), peer: try self.requiredString(.peer, bytes))
            )
        case .connClose:
            event = .connectionClosed(
                .init(connection: try self.conn(bytes), cause: try self.requiredString(.cause, bytes))
            )
        case .http:
            let requestHeaders: [Record.KeyValue]? =
                self.line.has(.reqHeaders) ? try self.pairs(.reqHeaders, bytes) : nil
            let responseHeaders: [Record.KeyValue]? =
                self.line.has(.respHeaders) ? try self.pairs(.respHeaders, bytes) : nil
            event = .http(
                .init(
                    connection: try self.conn(bytes),
                    method: try self.requiredString(.method, bytes),
                    path: try self.requiredString(.path, bytes),
                    status: try self.int(.status, bytes).map { Int($0) },
                    requestBytes: Int(try self.requiredInt(.reqBytes, bytes)),
                    responseBytes: Int(try self.requiredInt(.respBytes, bytes)),
                    durationMicros: try self.requiredInt(.durUs, bytes),
                    sid: try self.string(.sid, bytes),
                    errorBody: try self.string(.errorBody, bytes),
                    requestHeaders: requestHeaders,
                    responseHeaders: responseHeaders
                )
            )
        case .body:
            event = .body(
                .init(
                    connection: try self.conn(bytes),
                    direction: try self.direction(bytes),
                    sequence: Int(try self.int(.seq, bytes) ?? 0),
                    data: try self.recordedData(bytes) ?? .text(""),
                    contentType: try self.string(.type, bytes),
                    contentEncoding: try self.string(.coding, bytes),
                    inflated: try self.bool(.inflated, bytes) ?? false,
                    last: try self.bool(.last, bytes) ?? false,
                    size: try self.int(.size, bytes).map { Int($0) },
                    note: try self.string(.note, bytes)
                )
            )
        case .open:
            let eio = try self.requiredInt(.eio, bytes)
            guard let version = EngineIOVersion(rawValue: Int(eio)) else { throw self.bad(.eio, "unknown EIO version") }
            let handshake = try self.verbatim(.handshake, .handshakeText, .handshakeB64, bytes) ?? ByteBuffer()
            event = .sessionOpened(
                .init(
                    sid: try self.requiredString(.sid, bytes),
                    engineIOVersion: version,
                    transport: try self.transport(bytes),
                    connection: try self.conn(bytes),
                    path: try self.requiredString(.path, bytes),
                    query: try self.pairs(.query, bytes),
                    headers: try self.pairs(.headers, bytes),
                    handshake: String(buffer: handshake)
                )
            )
        case .ws:
            event = .webSocketOpened(
                .init(
                    sid: try self.string(.sid, bytes),
                    connection: try self.conn(bytes),
                    extensions: try self.string(.ext, bytes)
                )
            )
        case .upgrade:
            event = .upgraded(.init(sid: try self.requiredString(.sid, bytes), connection: try self.conn(bytes)))
        case .poll:
            guard let encoding = EngineIOPayloadEncoding(rawValue: try self.requiredString(.enc, bytes)) else {
                throw self.bad(.enc, "unknown payload encoding")
            }
            event = .poll(
                .init(
                    sid: try self.requiredString(.sid, bytes),
                    connection: try self.conn(bytes),
                    direction: try self.direction(bytes),
                    encoding: encoding,
                    bytes: Int(try self.requiredInt(.bytes, bytes)),
                    packetCount: Int(try self.requiredInt(.n, bytes))
                )
            )
        case .eio:
            guard let type = EngineIOPacketType(name: try self.requiredString(.type, bytes)) else {
                throw self.bad(.type, "unknown Engine.IO packet type")
            }
            event = .engine(
                .init(
                    sid: try self.string(.sid, bytes),
                    connection: try self.conn(bytes),
                    direction: try self.direction(bytes),
                    transport: try self.transport(bytes),
                    type: type,
                    data: try self.recordedData(bytes)
                )
            )
        case .sio:
            event = .socket(try self.socketPacket(bytes))
        case .raw:
            guard let layer = Record.Undecodable.Layer(rawValue: try self.requiredString(.layer, bytes)) else {
                throw self.bad(.layer, "unknown layer")
            }
            let transport = try self.string(.tr, bytes).map { name throws -> EngineIOTransport in
                guard let tr = EngineIOTransport(rawValue: name) else { throw self.bad(.tr, "unknown transport") }
                return tr
            }
            event = .undecodable(
                .init(
                    sid: try self.string(.sid, bytes),
                    connection: try self.conn(bytes),
                    direction: try self.direction(bytes),
                    transport: transport,
                    layer: layer,
                    data: try self.recordedData(bytes) ?? .text(""),
                    reason: try self.string(.reason, bytes) ?? "",
                    offset: Int(try self.int(.off, bytes) ?? 0)
                )
            )
        case .wsClose:
            event = .webSocketClosed(
                .init(
                    sid: try self.string(.sid, bytes),
                    connection: try self.conn(bytes),
                    direction: try self.direction(bytes),
                    code: try self.int(.code, bytes).map { Int($0) },
                    reason: try self.string(.reason, bytes) ?? ""
                )
            )
        case .close:
            event = .sessionClosed(
                .init(sid: try self.requiredString(.sid, bytes), cause: try self.string(.cause, bytes) ?? "")
            )
        case .note:
            event = .note(
                .init(
                    level: try self.string(.level, bytes) ?? "info",
                    message: try self.string(.msg, bytes) ?? "",
                    connection: try self.int(.conn, bytes).map { UInt64($0) }
                )
            )
        case .end:
            return .end(time: time, records: Int(try self.requiredInt(.records, bytes)))
        case .unknown:
            return .unknown(kind: kind)
        }
        return .record(Record(time: time, event: event))
    }

    // MARK: - Fields

    private func scanFields(_ bytes: UnsafeRawBufferPointer) throws(RecordLine.Malformed) {
        try self.line.parse(bytes, validating: true)
    }

    /// Nesting deeper than this in a value is damage (as `RecordLine` allows).
    private static let maxDepth = 256

    private func bad(_ field: Field, _ message: String) -> RecordFormatError {
        RecordFormatError(
            offset: self.line.valueRange(field)?.lowerBound ?? 0,
            message: "\(message) in \"\(field.key)\""
        )
    }

    private func missing(_ field: Field) -> RecordFormatError {
        RecordFormatError(offset: 0, message: "missing field \"\(field.key)\"")
    }

    private func scan<T>(
        _ field: Field,
        _ bytes: UnsafeRawBufferPointer,
        _ body: (inout JSONCursor) throws(WireError) -> T
    ) throws(RecordFormatError) -> T? {
        guard let range = self.line.valueRange(field) else { return nil }
        var cursor = JSONCursor(bytes, at: range.lowerBound, maxDepth: Self.maxDepth)
        do {
            return try body(&cursor)
        } catch {
            throw RecordFormatError(offset: error.offset, message: "\(error.reason) in \"\(field.key)\"")
        }
    }

    private func string(_ field: Field, _ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> String? {
        try self.scan(field, bytes) { (s: inout JSONCursor) throws(WireError) in try s.readString() }
    }

    private func requiredString(_ field: Field, _ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> String {
        guard let value = try self.string(field, bytes) else { throw self.missing(field) }
        return value
    }

    private func int(_ field: Field, _ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> Int64? {
        try self.scan(field, bytes) { (s: inout JSONCursor) throws(WireError) in try s.readInt64() }
    }

    private func requiredInt(_ field: Field, _ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> Int64 {
        guard let value = try self.int(field, bytes) else { throw self.missing(field) }
        return value
    }

    private func bool(_ field: Field, _ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> Bool? {
        try self.scan(field, bytes) { (s: inout JSONCursor) throws(WireError) in try s.readBool() }
    }

    private func conn(_ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> UInt64 {
        let value = try self.requiredInt(.conn, bytes)
        guard value >= 0 else { throw self.bad(.conn, "negative connection id") }
        return UInt64(value)
    }

    private func direction(_ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> Direction {
        guard let dir = Direction(rawValue: try self.requiredString(.dir, bytes)) else {
            throw self.bad(.dir, "unknown direction")
        }
        return dir
    }

    private func transport(_ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> EngineIOTransport {
        guard let tr = EngineIOTransport(rawValue: try self.requiredString(.tr, bytes)) else {
            throw self.bad(.tr, "unknown transport")
        }
        return tr
    }

    private func base64(_ field: Field, _ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> ByteBuffer? {
        let decoded = try self.scan(field, bytes) { (s: inout JSONCursor) throws(WireError) in
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: "\"") else { throw WireError("expected a base64 string", at: s.index) }
            let (content, _) = try s.skipString()
            return try? Base64.decode(UnsafeRawBufferPointer(rebasing: bytes[content]))
        }
        guard let decoded else { return nil }
        guard let buffer = decoded else { throw self.bad(field, "bad base64") }
        return buffer
    }

    private func recordedData(_ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> RecordedData? {
        if let text = try self.string(.text, bytes) { return .text(text) }
        if let binary = try self.base64(.b64, bytes) { return .binary(binary) }
        return nil
    }

    /// The payload as the exact bytes of the line (verbatim JSON), or decoded from its fallbacks.
    private func verbatim(
        _ field: Field,
        _ textField: Field,
        _ b64Field: Field,
        _ bytes: UnsafeRawBufferPointer
    ) throws(RecordFormatError) -> ByteBuffer? {
        if let range = self.line.valueRange(field) {
            return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[range]))
        }
        if let text = try self.string(textField, bytes) { return ByteBuffer(string: text) }
        return try self.base64(b64Field, bytes)
    }

    private func pairs(_ field: Field, _ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> [Record.KeyValue] {
        try self.scan(field, bytes) { (s: inout JSONCursor) throws(WireError) -> [Record.KeyValue] in
            var result: [Record.KeyValue] = []
            try s.expect(UInt8(ascii: "["))
            if s.consume(UInt8(ascii: "]")) { return result }
            repeat {
                try s.expect(UInt8(ascii: "["))
                let name = try s.readString()
                try s.expect(UInt8(ascii: ","))
                let value = try s.readString()
                try s.expect(UInt8(ascii: "]"))
                result.append(Record.KeyValue(name, value))
            } while try s.continueContainer(closing: UInt8(ascii: "]"))
            return result
        } ?? []
    }

    private func socketPacket(_ bytes: UnsafeRawBufferPointer) throws(RecordFormatError) -> Record.SocketPacket {
        guard let type = SocketIOPacketType(name: try self.requiredString(.type, bytes)) else {
            throw self.bad(.type, "unknown Socket.IO packet type")
        }
        let attachments =
            try self.scan(.att, bytes) { (s: inout JSONCursor) throws(WireError) -> [ByteBuffer] in
                var result: [ByteBuffer] = []
                try s.expect(UInt8(ascii: "["))
                if s.consume(UInt8(ascii: "]")) { return result }
                repeat {
                    s.skipWhitespace()
                    guard s.peek() == UInt8(ascii: "\"") else { throw WireError("expected a base64 string", at: s.index) }
                    let (content, _) = try s.skipString()
                    guard let decoded = try? Base64.decode(UnsafeRawBufferPointer(rebasing: bytes[content])) else {
                        throw WireError("bad base64", at: content.lowerBound)
                    }
                    result.append(decoded)
                } while try s.continueContainer(closing: UInt8(ascii: "]"))
                return result
            } ?? []
        let ackID = try self.int(.id, bytes)
        if let ackID, ackID < 0 { throw self.bad(.id, "negative ack id") }
        let packet = SocketIOPacket(
            type: type,
            namespace: try self.string(.nsp, bytes) ?? "/",
            ackID: ackID.map { UInt64($0) },
            attachmentCount: Int(try self.int(.attN, bytes) ?? Int64(attachments.count)),
            json: try self.verbatim(.data, .dataText, .dataB64, bytes),
            attachments: attachments,
            eventName: try self.string(.event, bytes),
            rawHeader: try self.string(.head, bytes)
        )
        var decoded = packet
        if let parser = try self.string(.parser, bytes) {
            // A parser this build does not know is read as the default one (its fields still are).
            decoded.parser = SocketIOParser(rawValue: parser) ?? .default
        }
        if let wire = try self.string(.wire, bytes) {
            var text = ByteBuffer(string: wire)
            do throws(WireError) {
                decoded.wire = try text.withUnsafeReadableBytes { raw throws(WireError) in try Base64.decode(raw) }
            } catch {
                throw self.bad(.wire, "bad base64")
            }
            text.clear()
        }
        return Record.SocketPacket(
            sid: try self.string(.sid, bytes),
            connection: try self.conn(bytes),
            direction: try self.direction(bytes),
            transport: try self.transport(bytes),
            packet: decoded,
            ackLatencyMicros: try self.int(.ackUs, bytes),
            redacted: try self.bool(.redacted, bytes) ?? false
        )
    }
}
