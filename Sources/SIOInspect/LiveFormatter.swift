import NIOCore
import SIORecording
import SIOWire

/// Turns records into text lines for people (optionally coloured): the live view of `siotape
/// record` and `inspect`'s text output. (Lines for machines are the recording's own lines, copied as
/// written: `RecordLineFollower`, `inspect --format jsonl`.)
///
/// ```
///   0.153 Xy3k9Qab → ws   /chat EVENT message #3 ["hi",{"n":1}]
///   0.161 Xy3k9Qab ← ws   /chat ACK #3 8.0ms ["ok"]
/// ```
///
/// Appends bytes to a `ByteBuffer` rather than building strings, since it runs once per packet.
public struct LiveFormatter: Sendable {
    /// ANSI colours (only for a terminal).
    public var colors: Bool
    /// Maximum width, in characters, of the rendered arguments or data; longer is cut with `…`.
    public var argumentWidth: Int
    /// When set, the time column is wall-clock UTC (`17:51:30.702`) with this anchor (µs since
    /// the epoch of time 0) instead of seconds since the start.
    public var wallClockAnchor: Int64?

    public init(colors: Bool = false, argumentWidth: Int = 80) {
        self.colors = colors
        self.argumentWidth = argumentWidth
    }

    /// Appends the line for `record`, including its final `\n`.
    public func format(_ record: Record, into buffer: inout ByteBuffer) {
        var line = LineWriter(buffer: buffer, colors: self.colors)
        line.wallAnchor = self.wallClockAnchor
        buffer = ByteBuffer()  // `line` owns the bytes until the end, avoiding a copy-on-write.
        self.text(record, &line)
        buffer = line.finish()
    }

    /// The line for `record` as a `String` (without the final `\n`); convenient for tests and logs.
    public func format(_ record: Record) -> String {
        var buffer = ByteBuffer()
        self.format(record, into: &buffer)
        if buffer.readableBytesView.last == 0x0A { buffer.moveWriterIndex(to: buffer.writerIndex - 1) }
        return String(buffer: buffer)
    }

    private func text(_ record: Record, _ line: inout LineWriter) {
        switch record.event {
        case .socket(let e):
            line.prefix(time: record.time, sid: e.sid, direction: e.direction, transport: e.transport)
            self.socket(e, &line)
        case .engine(let e):
            var sid = e.sid
            let render = { (sid: UnsafeRawBufferPointer?, data: UnsafeRawBufferPointer?, line: inout LineWriter) in
                let binary: Bool
                if case .binary? = e.data { binary = true } else { binary = false }
                self.engine(
                    time: record.time, sid: sid, direction: e.direction, transport: e.transport, type: e.type,
                    data: data, binary: binary, &line)
            }
            sid.withOptionalUTF8 { sid in
                switch e.data {
                case .text(var text)?: text.withUTF8 { render(sid, UnsafeRawBufferPointer($0), &line) }
                case .binary(let bytes)?: bytes.withUnsafeReadableBytes { render(sid, $0, &line) }
                case nil: render(sid, nil, &line)
                }
            }
        case .undecodable(let e):
            line.prefix(time: record.time, sid: e.sid, direction: e.direction, transport: e.transport)
            line.styled(.red, "RAW ")
            line.styled(.red, e.layer.rawValue)
            line.plain(" ")
            line.styled(.red, e.reason)
            line.plain(" @")
            line.decimal(Int64(e.offset))
            line.space()
            line.data(e.data, width: self.argumentWidth)
        case .sessionOpened(let e):
            line.prefix(time: record.time, sid: e.sid, direction: .serverToClient, transport: e.transport)
            line.styled(.bold, "OPEN")
            line.plain(" EIO=")
            line.decimal(Int64(e.engineIOVersion.rawValue))
            line.space()
            line.plain(e.path)
            line.space()
            line.escaped(e.handshake, width: self.argumentWidth)
        case .sessionClosed(let e):
            line.prefix(time: record.time, sid: e.sid, direction: nil, transport: nil)
            line.styled(.bold, "CLOSE ")
            line.plain(e.cause)
        case .poll(let e):
            line.startLineStyle(.dim)
            line.prefix(time: record.time, sid: e.sid, direction: e.direction, transport: .polling)
            line.plain("body ")
            line.decimal(Int64(e.bytes))
            line.plain(" bytes, ")
            line.decimal(Int64(e.packetCount))
            line.plain(e.packetCount == 1 ? " packet" : " packets")
            line.endLineStyle()
        case .webSocketOpened(let e):
            line.prefix(time: record.time, sid: e.sid, direction: nil, transport: .websocket)
            line.plain("websocket open conn ")
            line.decimal(Int64(e.connection))
            if let ext = e.extensions {
                line.plain(" ext ")
                line.escaped(ext, width: self.argumentWidth)
            }
        case .upgraded(let e):
            line.prefix(time: record.time, sid: e.sid, direction: .clientToServer, transport: .websocket)
            line.plain("upgraded to websocket")
        case .webSocketClosed(let e):
            line.prefix(time: record.time, sid: e.sid, direction: e.direction, transport: .websocket)
            let error = e.code.map { $0 != 1000 && $0 != 1001 } ?? false
            line.styled(error ? .red : .bold, "WS CLOSE")
            if let code = e.code {
                line.space()
                line.decimal(Int64(code))
            }
            if !e.reason.isEmpty {
                line.space()
                line.escaped(e.reason, width: self.argumentWidth)
            }
        case .http(let e):
            line.prefix(time: record.time, sid: e.sid, direction: nil, transport: nil)
            line.plain("http ")
            line.plain(e.method)
            line.space()
            line.escaped(e.path, width: self.argumentWidth)
            line.space()
            if let status = e.status {
                if status >= 400 { line.styled(.red, String(status)) } else { line.decimal(Int64(status)) }
            } else {
                line.styled(.red, "no response")
            }
            line.space()
            line.duration(e.durationMicros)
            if let body = e.errorBody {
                line.space()
                line.escaped(body, width: self.argumentWidth)
            }
        case .body(let e):
            line.startLineStyle(.dim)
            line.prefix(time: record.time, sid: nil, direction: e.direction, transport: nil)
            line.plain(e.direction == .clientToServer ? "request body conn " : "response body conn ")
            line.decimal(Int64(e.connection))
            line.plain(" #")
            line.decimal(Int64(e.sequence))
            if let type = e.contentType {
                line.space()
                line.escaped(type, width: self.argumentWidth)
            }
            if let size = e.size {
                line.plain(", ")
                line.decimal(Int64(size))
                line.plain(" bytes")
            }
            line.space()
            line.data(e.data, width: self.argumentWidth)
            if let note = e.note {
                line.plain(" (")
                line.escaped(note, width: self.argumentWidth)
                line.plain(")")
            }
            line.endLineStyle()
        case .connectionOpened(let e):
            line.startLineStyle(.dim)
            line.prefix(time: record.time, sid: nil, direction: nil, transport: nil)
            line.plain("conn ")
            line.decimal(Int64(e.connection))
            line.plain(" from ")
            line.plain(e.peer)
            line.endLineStyle()
        case .connectionClosed(let e):
            line.startLineStyle(.dim)
            line.prefix(time: record.time, sid: nil, direction: nil, transport: nil)
            line.plain("conn ")
            line.decimal(Int64(e.connection))
            line.plain(" closed: ")
            line.plain(e.cause)
            line.endLineStyle()
        case .note(let e):
            line.prefix(time: record.time, sid: nil, direction: nil, transport: nil)
            let serious = e.level == "error" || e.level == "warning"
            line.styled(serious ? .red : .bold, e.level)
            line.plain(": ")
            // Notes get twice the width of arguments; no limit (`Int.max`, inspect's default) stays none.
            let (width, overflow) = self.argumentWidth.multipliedReportingOverflow(by: 2)
            line.escaped(e.message, width: overflow ? .max : width)
        }
    }

    private func socket(_ e: Record.SocketPacket, _ line: inout LineWriter) {
        let packet = e.packet
        var namespace = packet.namespace
        var eventName = packet.eventName
        let render = {
            (namespace: UnsafeRawBufferPointer, event: UnsafeRawBufferPointer?, json: UnsafeRawBufferPointer?, line: inout LineWriter) in
            self.socket(
                SocketFields(
                    namespace: namespace, type: packet.type, eventName: event, ackID: packet.ackID,
                    ackLatencyMicros: e.ackLatencyMicros, msgpack: packet.parser == .msgpack, redacted: e.redacted,
                    json: json, attachments: max(packet.attachments.count, packet.attachmentCount)),
                &line)
        }
        namespace.withUTF8 { namespace in
            eventName.withOptionalUTF8 { event in
                if let json = packet.json {
                    json.withUnsafeReadableBytes { render(UnsafeRawBufferPointer(namespace), event, $0, &line) }
                } else {
                    render(UnsafeRawBufferPointer(namespace), event, nil, &line)
                }
            }
        }
    }

    /// What the text of a Socket.IO packet shows, as UTF-8 bytes (from a `Record` or straight
    /// from a recording line).
    struct SocketFields {
        var namespace: UnsafeRawBufferPointer
        var type: SocketIOPacketType
        var eventName: UnsafeRawBufferPointer?
        var ackID: UInt64?
        var ackLatencyMicros: Int64?
        var msgpack: Bool
        var redacted: Bool
        /// The payload's JSON text.
        var json: UnsafeRawBufferPointer?
        /// Binary attachments (announced or carried).
        var attachments: Int
    }

    /// `/chat EVENT message #3 ["hi"]` after the prefix.
    func socket(_ packet: SocketFields, _ line: inout LineWriter) {
        line.clipped(packet.namespace, width: .max)
        line.space()
        let style: LineWriter.Style
        switch packet.type {
        case .event, .binaryEvent: style = .green
        case .ack, .binaryAck: style = .blue
        case .connectError: style = .red
        case .connect, .disconnect: style = .yellow
        }
        line.styled(style, packet.type.name)
        if let event = packet.eventName {
            line.space()
            line.clipped(event, width: 40)
        }
        if let id = packet.ackID {
            line.plain(" #")
            line.decimal(Int64(id))
        }
        if let latency = packet.ackLatencyMicros {
            line.space()
            line.duration(latency)
        }
        if packet.msgpack { line.plain(" (msgpack)") }
        if packet.redacted { line.plain(" (redacted)") }
        if let json = packet.json {
            line.space()
            if packet.eventName != nil, let arguments = LiveFormatter.argumentsAfterName(json) {
                // The name is shown already: `["name",1,2]` renders as `[1,2]`.
                line.plain("[")
                line.clipped(UnsafeRawBufferPointer(rebasing: json[arguments]), width: self.argumentWidth - 1)
            } else {
                line.clipped(json, width: self.argumentWidth)
            }
        }
        if packet.attachments > 0 {
            line.plain(" +")
            line.decimal(Int64(packet.attachments))
            line.plain(" bin")
        }
    }

    /// A whole Engine.IO packet line: heartbeats dimmed, `eio message hello`.
    func engine(
        time: Int64, sid: UnsafeRawBufferPointer?, direction: Direction, transport: EngineIOTransport,
        type: EngineIOPacketType, data: UnsafeRawBufferPointer?, binary: Bool, _ line: inout LineWriter
    ) {
        let quiet = type == .ping || type == .pong || type == .noop
        if quiet { line.startLineStyle(.dim) }
        line.prefix(time: time, sidUTF8: sid, direction: direction, transport: transport)
        line.plain("eio ")
        line.plain(type.name)
        if let data {
            line.space()
            if binary { line.binary(data, width: self.argumentWidth) } else { line.clipped(data, width: self.argumentWidth) }
        }
        if quiet { line.endLineStyle() }
    }

    /// For `["name",1,2]`, the bytes `1,2]` (a slice, no copy); `nil` if the payload has another shape.
    static func argumentsAfterName(_ json: ByteBuffer) -> ByteBuffer? {
        guard let range = json.withUnsafeReadableBytes({ Self.argumentsAfterName($0) }) else { return nil }
        return json.getSlice(at: json.readerIndex + range.lowerBound, length: range.count)
    }

    /// For `["name",1,2]`, the range of `1,2]`; `nil` if the payload has another shape.
    static func argumentsAfterName(_ json: UnsafeRawBufferPointer) -> Range<Int>? {
        guard json.first == UInt8(ascii: "[") else { return nil }
        var i = 1
        while i < json.count, json[i] == 0x20 { i += 1 }
        guard i < json.count, json[i] == UInt8(ascii: "\"") else { return nil }
        i = JSONTokens.stringEnd(json, i)
        while i < json.count, json[i] == 0x20 { i += 1 }
        guard i < json.count else { return nil }
        if json[i] == UInt8(ascii: "]") { return i..<(i + 1) }
        guard json[i] == UInt8(ascii: ",") else { return nil }
        return (i + 1)..<json.count
    }
}

extension Optional where Wrapped == String {
    /// `body` with the string's UTF-8 bytes, or `nil`.
    mutating func withOptionalUTF8<R>(_ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        guard var string = self else { return try body(nil) }
        defer { self = string }
        return try string.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
