import SIOWire

/// The kind of a recording line (`k`), as a small enum: with `RecordLine.Field`, the one place the
/// format's names are spelled (`RecordEncoder` writes `literal`, `RecordDecoder` and `inspect`
/// read through `init(_:)`).
public enum RecordKind: UInt8, CaseIterable, Sendable {
    case conn, connClose, http, open, ws, upgrade, poll, eio, sio, raw, wsClose, close, note, body
    /// The trailer a clean close writes.
    case end
    /// A kind this build does not know.
    case unknown

    /// Hidden from the text and jsonl views unless `--engine`: transport-level records.
    public var isEngineLevel: Bool {
        switch self {
        case .conn, .connClose, .http, .body, .ws, .poll, .eio, .wsClose: return true
        default: return false
        }
    }

    public var name: String { self.literal.description }

    /// The kind as written in a line.
    public var literal: StaticString {
        switch self {
        case .conn: return "conn"
        case .connClose: return "conn_close"
        case .http: return "http"
        case .open: return "open"
        case .ws: return "ws"
        case .upgrade: return "upgrade"
        case .poll: return "poll"
        case .eio: return "eio"
        case .sio: return "sio"
        case .raw: return "raw"
        case .wsClose: return "ws_close"
        case .close: return "close"
        case .note: return "note"
        case .body: return "body"
        case .end: return "end"
        case .unknown: return "unknown"
        }
    }

    /// The kind named `name`; `.unknown` for any other name.
    public init(name: String) {
        var name = name
        self = name.withUTF8 { RecordKind(UnsafeRawBufferPointer($0)) }
    }

    /// The kind written as `bytes` (the value of `k` without its quotes).
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else {
            self = .unknown
            return
        }
        func match(_ kind: RecordKind) -> RecordKind {
            let literal = kind.literal
            return bytes.count == literal.utf8CodeUnitCount
                && bytes.elementsEqual(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
                ? kind : .unknown
        }
        switch (bytes.count, first) {
        case (3, UInt8(ascii: "s")): self = match(.sio)
        case (3, UInt8(ascii: "e")): self = bytes[1] == UInt8(ascii: "i") ? match(.eio) : match(.end)
        case (3, UInt8(ascii: "r")): self = match(.raw)
        case (4, UInt8(ascii: "p")): self = match(.poll)
        case (4, UInt8(ascii: "h")): self = match(.http)
        case (4, UInt8(ascii: "c")): self = match(.conn)
        case (4, UInt8(ascii: "o")): self = match(.open)
        case (4, UInt8(ascii: "n")): self = match(.note)
        case (4, UInt8(ascii: "b")): self = match(.body)
        case (2, UInt8(ascii: "w")): self = match(.ws)
        case (5, UInt8(ascii: "c")): self = match(.close)
        case (7, UInt8(ascii: "u")): self = match(.upgrade)
        case (8, UInt8(ascii: "w")): self = match(.wsClose)
        case (10, UInt8(ascii: "c")): self = match(.connClose)
        default: self = .unknown
        }
    }
}
