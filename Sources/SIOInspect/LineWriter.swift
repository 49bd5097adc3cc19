import NIOCore
import SIORecording
import SIOWire

/// Builds one live-view line in a `ByteBuffer`: fixed columns, ANSI styles when enabled, and
/// clipped, escaped renderings of untrusted text (payloads can hold anything, including
/// terminal escape sequences, which must never reach the terminal raw).
struct LineWriter {
    enum Style: String {
        case dim = "2"
        case bold = "1"
        case red = "31"
        case green = "32"
        case yellow = "33"
        case blue = "34"
        case magenta = "35"
        case cyan = "36"
    }

    private var buffer: ByteBuffer
    private let colors: Bool
    /// A style for the whole line (dim heartbeats), restored after each nested style.
    private var lineStyle: Style?
    /// When set, times are shown as wall-clock UTC (`17:51:30.702`): the µs since the epoch of time 0.
    var wallAnchor: Int64?

    init(buffer: ByteBuffer, colors: Bool) {
        self.buffer = buffer
        self.colors = colors
    }

    mutating func finish() -> ByteBuffer {
        self.buffer.writeInteger(UInt8(ascii: "\n"))
        return self.buffer
    }

    mutating func startLineStyle(_ style: Style) {
        self.lineStyle = style
        self.startStyle(style)
    }

    mutating func endLineStyle() {
        self.lineStyle = nil
        self.endStyle()
    }

    mutating func startStyle(_ style: Style) {
        guard self.colors else { return }
        self.buffer.writeStaticString("\u{1B}[")
        self.buffer.writeString(style.rawValue)
        self.buffer.writeInteger(UInt8(ascii: "m"))
    }

    mutating func endStyle() {
        guard self.colors else { return }
        self.buffer.writeStaticString("\u{1B}[0m")
        if let lineStyle = self.lineStyle { self.startStyle(lineStyle) }
    }

    mutating func styled(_ style: Style, _ text: String) {
        self.startStyle(style)
        self.escaped(text, width: .max)
        self.endStyle()
    }

    /// Trusted ASCII (names we produce ourselves) or text to escape without clipping.
    mutating func plain(_ text: String) {
        self.escaped(text, width: .max)
    }

    mutating func space() { self.buffer.writeInteger(UInt8(ascii: " ")) }

    /// Decimal digits, without a `String`.
    mutating func decimal(_ value: Int64) {
        self.buffer.writeDecimal(value)
    }

    /// How many characters `decimal(value)` writes.
    private static func decimalWidth(_ value: Int64) -> Int {
        var width = value < 0 ? 2 : 1
        var v = value.magnitude
        while v >= 10 {
            v /= 10
            width += 1
        }
        return width
    }

    /// `time sid→ tr  `: ` 12.345 Xy3k9Qab → ws   `.
    mutating func prefix(time: Int64, sid: String?, direction: Direction?, transport: EngineIOTransport?) {
        if var sid {
            sid.withUTF8 { self.prefix(time: time, sidUTF8: UnsafeRawBufferPointer($0), direction: direction, transport: transport) }
        } else {
            self.prefix(time: time, sidUTF8: nil, direction: direction, transport: transport)
        }
    }

    /// `prefix` with the session id as UTF-8 bytes (unescaped).
    mutating func prefix(time: Int64, sidUTF8 sid: UnsafeRawBufferPointer?, direction: Direction?, transport: EngineIOTransport?) {
        if let anchor = self.wallAnchor {
            self.wallClock(anchor + time)
        } else {
            self.relative(time)
        }
        self.space()
        var sidWidth = 0
        if let sid {
            // The first 8 scalars, each shown as itself when printable ASCII, else `?`.
            for byte in sid where byte & 0xC0 != 0x80 {
                guard sidWidth < 8 else { break }
                self.buffer.writeInteger(byte >= 0x20 && byte < 0x7F ? byte : UInt8(ascii: "?"))
                sidWidth += 1
            }
        } else {
            self.buffer.writeInteger(UInt8(ascii: "-"))
            sidWidth = 1
        }
        for _ in sidWidth..<8 { self.space() }
        self.space()
        switch direction {
        case .clientToServer?:
            self.startStyle(.cyan)
            self.buffer.writeStaticString("→")
            self.endStyle()
        case .serverToClient?:
            self.startStyle(.magenta)
            self.buffer.writeStaticString("←")
            self.endStyle()
        case nil:
            self.buffer.writeStaticString("·")
        }
        switch transport {
        case .websocket?: self.buffer.writeStaticString(" ws   ")
        case .polling?: self.buffer.writeStaticString(" poll ")
        case nil: self.buffer.writeStaticString("      ")
        }
    }

    /// Seconds since the start, right-aligned: `  3.141`.
    private mutating func relative(_ time: Int64) {
        let (seconds, micros) = time.quotientAndRemainder(dividingBy: 1_000_000)
        let width = Self.decimalWidth(seconds)
        if width < 3 {
            for _ in width..<3 { self.space() }
        }
        self.decimal(seconds)
        self.buffer.writeInteger(UInt8(ascii: "."))
        let millis = abs(micros) / 1000
        if millis < 100 { self.buffer.writeInteger(UInt8(ascii: "0")) }
        if millis < 10 { self.buffer.writeInteger(UInt8(ascii: "0")) }
        self.decimal(millis)
    }

    /// `HH:MM:SS.mmm` UTC.
    private mutating func wallClock(_ micros: Int64) {
        let ms = (micros % 86_400_000_000 + 86_400_000_000) % 86_400_000_000 / 1000
        for (i, value) in [ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60].enumerated() {
            if i > 0 { self.buffer.writeInteger(UInt8(ascii: ":")) }
            if value < 10 { self.buffer.writeInteger(UInt8(ascii: "0")) }
            self.decimal(value)
        }
        self.buffer.writeInteger(UInt8(ascii: "."))
        let millis = ms % 1000
        if millis < 100 { self.buffer.writeInteger(UInt8(ascii: "0")) }
        if millis < 10 { self.buffer.writeInteger(UInt8(ascii: "0")) }
        self.decimal(millis)
    }

    /// `850µs`, `12.3ms`, `1.234s`.
    mutating func duration(_ micros: Int64) {
        if micros < 1000 {
            self.decimal(micros)
            self.buffer.writeStaticString("µs")
        } else if micros < 1_000_000 {
            self.decimal(micros / 1000)
            self.buffer.writeInteger(UInt8(ascii: "."))
            self.decimal(micros % 1000 / 100)
            self.buffer.writeStaticString("ms")
        } else {
            self.decimal(micros / 1_000_000)
            self.buffer.writeInteger(UInt8(ascii: "."))
            let millis = micros % 1_000_000 / 1000
            if millis < 100 { self.buffer.writeInteger(UInt8(ascii: "0")) }
            if millis < 10 { self.buffer.writeInteger(UInt8(ascii: "0")) }
            self.decimal(millis)
            self.buffer.writeInteger(UInt8(ascii: "s"))
        }
    }

    mutating func escaped(_ text: String, width: Int) {
        var text = text
        text.withUTF8 { self.clipped(UnsafeRawBufferPointer($0), width: width) }
    }

    mutating func json(_ json: ByteBuffer, width: Int) {
        json.withUnsafeReadableBytes { self.clipped($0, width: width) }
    }

    mutating func data(_ data: RecordedData, width: Int) {
        switch data {
        case .text(let text):
            self.escaped(text, width: width)
        case .binary(let bytes):
            bytes.withUnsafeReadableBytes { self.binary($0, width: width) }
        }
    }

    /// Binary data: `bin(5) 68656c6c6f`, as many bytes in hex as fit in `width`, then `…`.
    mutating func binary(_ bytes: UnsafeRawBufferPointer, width: Int) {
        self.buffer.writeStaticString("bin(")
        self.decimal(Int64(bytes.count))
        self.buffer.writeStaticString(")")
        let shown = min(bytes.count, max((width - 8) / 2, 0))
        if shown > 0 { self.space() }
        for byte in bytes.prefix(shown) {
            self.buffer.writeInteger(hex(byte >> 4))
            self.buffer.writeInteger(hex(byte & 0xF))
        }
        if shown < bytes.count { self.buffer.writeStaticString("…") }
    }

    /// Writes `bytes` (UTF-8) on one line: control characters escaped, at most `width` characters
    /// (counting UTF-8 lead bytes), cut with `…`.
    mutating func clipped(_ bytes: UnsafeRawBufferPointer, width: Int) {
        var shown = 0
        var i = 0
        // Bytes shown as they are, written in runs: a write per byte would cost more than the scan.
        var run = 0
        while i < bytes.count {
            // Eight bytes at a time while none needs escaping and the width cannot be reached in them.
            while i &+ 8 <= bytes.count, shown &+ 9 < width {
                let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                guard !Self.hasControlByte(word) else { break }
                // Characters: bytes that are not UTF-8 continuation bytes (`10xxxxxx`).
                shown &+= 8 &- (word & ~(word << 1) & 0x8080_8080_8080_8080).nonzeroBitCount
                i &+= 8
            }
            guard i < bytes.count else { break }
            let b = bytes[i]
            let isLead = b & 0xC0 != 0x80
            if isLead {
                if shown >= width - 1 && self.remainingCharacters(bytes, from: i) > 1 {
                    self.buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[run..<i]))
                    self.buffer.writeStaticString("…")
                    return
                }
                shown += 1
            }
            if b < 0x20 || b == 0x7F {
                self.buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[run..<i]))
                run = i + 1
                switch b {
                case 0x0A: self.buffer.writeStaticString("\\n")
                case 0x0D: self.buffer.writeStaticString("\\r")
                case 0x09: self.buffer.writeStaticString("\\t")
                default:
                    self.buffer.writeStaticString("\\x")
                    self.buffer.writeInteger(hex(b >> 4))
                    self.buffer.writeInteger(hex(b & 0xF))
                }
            }
            i += 1
        }
        self.buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[run..<bytes.count]))
    }

    /// Whether `word` may hold a byte below 0x20 or 0x7F (never `false` when it does).
    @inline(__always)
    private static func hasControlByte(_ word: UInt64) -> Bool {
        let high: UInt64 = 0x8080_8080_8080_8080
        let below = (word &- 0x2020_2020_2020_2020) & ~word & high
        let delete = word ^ 0x7F7F_7F7F_7F7F_7F7F
        return (below | ((delete &- 0x0101_0101_0101_0101) & ~delete & high)) != 0
    }

    private func remainingCharacters(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        var count = 0
        for j in from..<bytes.count where bytes[j] & 0xC0 != 0x80 {
            count += 1
            if count > 1 { break }
        }
        return count
    }
}

private func hex(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
}
