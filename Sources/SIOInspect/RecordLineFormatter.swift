import NIOCore
import SIORecording
import SIOWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns recording lines into `LiveFormatter`'s text, for the live view of `siotape record` and
/// `inspect`'s text output.
///
/// `sio` and `eio` lines, nearly all lines of a busy recording, are formatted straight from the
/// line's bytes and its `RecordLine` ranges: no `Record`, no `String` per field, no JSON tree.
/// Other kinds, and a `sio` or `eio` line this path does not take (a value of an unexpected
/// shape), are decoded into a `Record` for `LiveFormatter`. Either way the text is the same, byte
/// for byte: the fast path checks the line as `RecordDecoder` does (the same strict parse, the
/// same fields read) and gives the line to the decoder at the first doubt. A caller that parsed
/// the line already, with that strict parse, hands its fields over and the line is parsed once
/// (`inspect`).
public struct RecordLineFormatter {
    /// What became of a line.
    public enum Outcome: Hashable, Sendable {
        /// Its text was appended.
        case shown
        /// Not a record to show: the `end` trailer, or a kind this build does not know.
        case skipped
        /// Not a valid record line; nothing was appended.
        case undecodable
    }

    /// How lines are shown (its mode is `text`).
    public var formatter: LiveFormatter
    private var decoder = RecordDecoder()
    /// The fields of a line `format(_:time:into:)` parses itself.
    private let own = RecordLine()
    /// Unescaped strings and decoded base64 of the current line.
    private var scratch: [UInt8] = []

    public init(_ formatter: LiveFormatter) {
        self.formatter = formatter
    }

    /// Appends the text of one recording line (without its `\n`), including a final `\n`.
    /// `time`: the time to show (µs since time 0) instead of the line's `t`.
    public mutating func format(_ line: ByteBuffer, time: Int64? = nil, into out: inout ByteBuffer) -> Outcome {
        let direct = line.withUnsafeReadableBytes { self.formatDirectly($0, time: time, into: &out) }
        if direct { return .shown }
        return self.formatDecoded(try? self.decoder.decode(line), time: time, into: &out)
    }

    /// `format(_:time:into:)` for a line whose fields `fields` found with
    /// `RecordLine.parse(_:validating: true)`: the line is not parsed again.
    public mutating func format(
        _ line: ByteBuffer, fields: RecordLine, time: Int64? = nil, into out: inout ByteBuffer
    ) -> Outcome {
        let direct = line.withUnsafeReadableBytes { bytes in
            self.formatDirectly(Line(fields: fields, bytes: bytes), time: time, into: &out)
        }
        if direct { return .shown }
        return self.formatDecoded(try? self.decoder.decode(line, fields: fields), time: time, into: &out)
    }

    private func formatDecoded(_ decoded: DecodedLine?, time: Int64?, into out: inout ByteBuffer) -> Outcome {
        switch decoded {
        case .record(var record):
            if let time { record.time = time }
            self.formatter.format(record, into: &out)
            return .shown
        case .end, .unknown:
            return .skipped
        case nil:
            return .undecodable
        }
    }

    // MARK: - The fast path

    /// Where a shown string is: in the line itself, or (unescaped, or decoded from base64) in `scratch`.
    private struct Piece {
        var range: Range<Int>
        var inScratch: Bool

        func bytes(_ line: UnsafeRawBufferPointer, _ scratch: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: (self.inScratch ? scratch : line)[self.range])
        }
    }

    /// A line's bytes and the fields the strict parse found in them.
    struct Line {
        var fields: RecordLine
        var bytes: UnsafeRawBufferPointer
    }

    /// The fields both kinds share, as `RecordDecoder` requires them.
    private struct Common {
        var time: Int64
        var sid: Piece?
        var direction: Direction
        var transport: EngineIOTransport
    }

    /// Formats a `sio` or `eio` line and returns `true`, or returns `false` (nothing appended)
    /// for any other line, or one whose fields the decoder might read otherwise.
    mutating func formatDirectly(_ bytes: UnsafeRawBufferPointer, time: Int64?, into out: inout ByteBuffer) -> Bool {
        guard (try? self.own.parse(bytes, validating: true)) != nil else { return false }
        return self.formatDirectly(Line(fields: self.own, bytes: bytes), time: time, into: &out)
    }

    /// `formatDirectly` of a line already parsed strictly.
    mutating func formatDirectly(_ line: Line, time: Int64?, into out: inout ByteBuffer) -> Bool {
        let (fields, bytes) = (line.fields, line.bytes)
        let isSocket = fields.equals(.k, "sio", bytes)
        guard isSocket || fields.equals(.k, "eio", bytes), fields.isString(.k) else { return false }
        self.scratch.removeAll(keepingCapacity: true)
        guard let t = fields.int(.t, bytes), let conn = fields.int(.conn, bytes), conn >= 0,
            let direction = Self.direction(line), let transport = Self.transport(line),
            let sid = self.string(.sid, line)
        else { return false }
        let common = Common(time: time ?? t, sid: sid.piece, direction: direction, transport: transport)
        return isSocket ? self.socket(line, common, into: &out) : self.engine(line, common, into: &out)
    }

    private mutating func socket(_ line: Line, _ common: Common, into out: inout ByteBuffer) -> Bool {
        let (fields, bytes) = (line.fields, line.bytes)
        guard let type = Self.socketType(fields, bytes) else { return false }
        // Recorded attachments are checked as the decoder checks them, base64 and all.
        var carried = 0
        if let range = fields.valueRange(.att) {
            guard let count = Self.attachmentCount(bytes, range) else { return false }
            carried = count
        }
        var ackID: UInt64?
        if fields.has(.id) {
            guard let id = fields.int(.id, bytes), id >= 0 else { return false }
            ackID = UInt64(id)
        }
        // Announced (`att_n`, else as many as carried) or carried, whichever is more.
        var attachments = carried
        if fields.has(.attN) {
            guard let n = fields.int(.attN, bytes) else { return false }
            attachments = max(carried, Int(n))
        }
        var latency: Int64?
        if fields.has(.ackUs) {
            guard let us = fields.int(.ackUs, bytes) else { return false }
            latency = us
        }
        var redacted = false
        if fields.has(.redacted) {
            if fields.equals(.redacted, "true", bytes) {
                redacted = true
            } else {
                guard fields.equals(.redacted, "false", bytes) else { return false }
            }
            guard !fields.isString(.redacted) else { return false }
        }
        var msgpack = false
        if fields.has(.parser) {
            // Any other name is read as the default parser; an escaped one goes to the decoder.
            guard fields.isString(.parser), !Self.hasEscape(fields.slice(.parser, bytes)!) else { return false }
            msgpack = fields.equals(.parser, "msgpack", bytes)
        }
        if fields.has(.head) {
            guard fields.isString(.head) else { return false }
        }
        if fields.has(.wire) {
            guard fields.isString(.wire), let wire = fields.slice(.wire, bytes), !Self.hasEscape(wire),
                Base64.isValid(wire)
            else { return false }
        }
        guard let namespace = self.string(.nsp, line), let event = self.string(.event, line) else { return false }
        // The payload: verbatim JSON, else its text, else its base64.
        var json: Piece?
        if let range = fields.valueRange(.data) {
            json = Piece(range: range, inScratch: false)
        } else if fields.has(.dataText) {
            guard let text = self.string(.dataText, line) else { return false }
            json = text.piece
        } else if fields.has(.dataB64) {
            guard let decoded = self.base64(.dataB64, line) else { return false }
            json = decoded
        }
        let formatter = self.formatter
        var writer = LineWriter(buffer: out, colors: formatter.colors)
        writer.wallAnchor = formatter.wallClockAnchor
        out = ByteBuffer()  // `writer` owns the bytes until the end, avoiding a copy-on-write.
        self.scratch.withUnsafeBytes { scratch in
            writer.prefix(
                time: common.time, sidUTF8: common.sid?.bytes(bytes, scratch), direction: common.direction,
                transport: common.transport)
            formatter.socket(
                LiveFormatter.SocketFields(
                    namespace: namespace.piece?.bytes(bytes, scratch) ?? UnsafeRawBufferPointer(start: Self.root.utf8Start, count: 1),
                    type: type, eventName: event.piece?.bytes(bytes, scratch), ackID: ackID,
                    ackLatencyMicros: latency, msgpack: msgpack, redacted: redacted,
                    json: json?.bytes(bytes, scratch), attachments: attachments),
                &writer)
        }
        out = writer.finish()
        return true
    }

    private mutating func engine(_ line: Line, _ common: Common, into out: inout ByteBuffer) -> Bool {
        let (fields, bytes) = (line.fields, line.bytes)
        guard let type = Self.engineType(fields, bytes) else { return false }
        // The data: text, else base64.
        var data: Piece?
        var binary = false
        if fields.has(.text) {
            guard let text = self.string(.text, line) else { return false }
            data = text.piece
        } else if fields.has(.b64) {
            guard let decoded = self.base64(.b64, line) else { return false }
            data = decoded
            binary = true
        }
        let formatter = self.formatter
        var writer = LineWriter(buffer: out, colors: formatter.colors)
        writer.wallAnchor = formatter.wallClockAnchor
        out = ByteBuffer()
        self.scratch.withUnsafeBytes { scratch in
            formatter.engine(
                time: common.time, sid: common.sid?.bytes(bytes, scratch), direction: common.direction,
                transport: common.transport, type: type, data: data?.bytes(bytes, scratch), binary: binary, &writer)
        }
        out = writer.finish()
        return true
    }

    // MARK: - Fields

    private static let root: StaticString = "/"

    /// A string field, present or not.
    private enum StringField {
        case absent
        case present(Piece)

        var piece: Piece? {
            if case .present(let piece) = self { return piece }
            return nil
        }
    }

    /// A string field as the decoder reads it; `nil` when present but not a string. An escaped
    /// string is unescaped into `scratch`.
    private mutating func string(_ field: RecordLine.Field, _ line: Line) -> StringField? {
        let bytes = line.bytes
        guard let range = line.fields.range(field) else { return .absent }
        guard line.fields.isString(field) else { return nil }
        guard Self.hasEscape(UnsafeRawBufferPointer(rebasing: bytes[range])) else {
            return .present(Piece(range: range, inScratch: false))
        }
        let start = self.scratch.count
        JSONCursor.unescape(bytes, range, into: &self.scratch)
        return .present(Piece(range: start..<self.scratch.count, inScratch: true))
    }

    /// A base64 string field, decoded into `scratch`; `nil` when it is not a string or not base64.
    private mutating func base64(_ field: RecordLine.Field, _ line: Line) -> Piece? {
        guard line.fields.isString(field), let text = line.fields.slice(field, line.bytes),
            let decoded = try? Base64.decode(text)
        else { return nil }
        let start = self.scratch.count
        self.scratch.append(contentsOf: decoded.readableBytesView)
        return Piece(range: start..<self.scratch.count, inScratch: true)
    }

    private static func direction(_ line: Line) -> Direction? {
        guard line.fields.isString(.dir) else { return nil }
        if line.fields.equals(.dir, "c2s", line.bytes) { return .clientToServer }
        if line.fields.equals(.dir, "s2c", line.bytes) { return .serverToClient }
        return nil
    }

    private static func transport(_ line: Line) -> EngineIOTransport? {
        guard line.fields.isString(.tr) else { return nil }
        if line.fields.equals(.tr, "websocket", line.bytes) { return .websocket }
        if line.fields.equals(.tr, "polling", line.bytes) { return .polling }
        return nil
    }

    /// How many attachments `att` (the value at `range`) carries, as the decoder reads it: an
    /// array of base64 strings (escapes not decoded); `nil` when it is anything else.
    private static func attachmentCount(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        var cursor = JSONCursor(bytes, at: range.lowerBound)
        var count = 0
        do throws(WireError) {
            try cursor.expect(UInt8(ascii: "["))
            if cursor.consume(UInt8(ascii: "]")) { return 0 }
            repeat {
                cursor.skipWhitespace()
                guard cursor.peek() == UInt8(ascii: "\"") else { return nil }
                let (content, _) = try cursor.skipString()
                guard Base64.isValid(UnsafeRawBufferPointer(rebasing: bytes[content])) else { return nil }
                count += 1
            } while try cursor.continueContainer(closing: UInt8(ascii: "]"))
        } catch {
            return nil
        }
        return count
    }

    /// The names are SIOWire's (`SocketIOPacketType.name`), compared with the line's bytes.
    private static func socketType(_ fields: RecordLine, _ bytes: UnsafeRawBufferPointer) -> SocketIOPacketType? {
        guard fields.isString(.type), let value = fields.slice(.type, bytes) else { return nil }
        return SocketIOPacketType.allCases.first { $0.name.utf8.elementsEqual(value) }
    }

    /// The names are SIOWire's (`EngineIOPacketType.name`), compared with the line's bytes.
    private static func engineType(_ fields: RecordLine, _ bytes: UnsafeRawBufferPointer) -> EngineIOPacketType? {
        guard fields.isString(.type), let value = fields.slice(.type, bytes) else { return nil }
        return EngineIOPacketType.allCases.first { $0.name.utf8.elementsEqual(value) }
    }

    private static func hasEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        return memchr(base, Int32(UInt8(ascii: "\\")), bytes.count) != nil
    }
}
