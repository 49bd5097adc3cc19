import NIOCore

/// The caps applied while decoding MessagePack, so that hostile input costs bounded time and
/// memory: a container's count is checked against the bytes left before anything is read, nesting
/// is limited, and so is the number of values in one message. (The size of a message is capped by
/// whoever hands it over: the capture's 16 MiB per message.)
public struct MsgPackLimits: Hashable, Sendable {
    /// Containers nested deeper than this are refused.
    public var maxDepth: Int
    /// Values (container elements, map keys and values, the top value) in one message.
    public var maxValues: Int

    public init(maxDepth: Int = 128, maxValues: Int = 1 << 22) {
        self.maxDepth = maxDepth
        self.maxValues = maxValues
    }
}

/// A reading position in MessagePack bytes (https://github.com/msgpack/msgpack/blob/master/spec.md):
/// one value header at a time, nothing allocated. Errors carry the offset of the header at fault,
/// relative to the first byte of `bytes`.
struct MsgPackCursor {
    /// One value's header. Strings, binaries and ext payloads are ranges of `bytes`; containers
    /// give their count and their elements follow.
    enum Head {
        case null
        case bool(Bool)
        /// A non-negative integer (from either integer family).
        case unsigned(UInt64)
        /// A negative integer.
        case negative(Int64)
        case float32(Float)
        case float64(Double)
        case string(Range<Int>)
        case binary(Range<Int>)
        case ext(Int8, Range<Int>)
        case array(Int)
        case map(Int)
    }

    let bytes: UnsafeRawBufferPointer
    var index: Int
    private var valuesLeft: Int
    let limits: MsgPackLimits
    /// Set to false as soon as a header is not the one `MsgPackWriter` would write for its value
    /// (a wider integer, a float32, a str8 for a short string, ...).
    var isCanonical = true
    /// Where the last header read started.
    private(set) var headStart = 0
    /// How many non-string map keys the value being converted sits in (`MsgPackJSON`): each level
    /// escapes the JSON text of the one inside it once more, so the levels are capped.
    var keyNesting = 0
    static let maxKeyNesting = 2

    init(_ bytes: UnsafeRawBufferPointer, limits: MsgPackLimits = MsgPackLimits(), at index: Int = 0) {
        self.bytes = bytes
        self.index = index
        self.limits = limits
        self.valuesLeft = limits.maxValues
    }

    var atEnd: Bool { self.index >= self.bytes.count }
    var remaining: Int { self.bytes.count - self.index }

    /// Reads the next value header. Container elements are not read.
    mutating func readHead() throws(WireError) -> Head {
        let start = self.index
        self.headStart = start
        guard start < self.bytes.count else { throw WireError("msgpack: unexpected end of data", at: start) }
        self.valuesLeft -= 1
        guard self.valuesLeft >= 0 else {
            throw WireError("msgpack: more than \(self.limits.maxValues) values", at: start)
        }
        let marker = self.bytes[start]
        self.index += 1
        switch marker {
        case 0x00...0x7F:
            return .unsigned(UInt64(marker))
        case 0x80...0x8F:
            return try self.container(map: true, count: Int(marker & 0x0F), canonical: true)
        case 0x90...0x9F:
            return try self.container(map: false, count: Int(marker & 0x0F), canonical: true)
        case 0xA0...0xBF:
            return .string(try self.payload(Int(marker & 0x1F), what: "string"))
        case 0xC0:
            return .null
        case 0xC1:
            throw WireError("msgpack: byte 0xc1 is never used", at: start)
        case 0xC2, 0xC3:
            return .bool(marker == 0xC3)
        case 0xC4, 0xC5, 0xC6:
            let width = 1 << Int(marker - 0xC4)
            let length = try self.length(width: width)
            if width != MsgPackWriter.lengthWidth(binary: length) { self.isCanonical = false }
            return .binary(try self.payload(length, what: "bin"))
        case 0xC7, 0xC8, 0xC9:
            let width = 1 << Int(marker - 0xC7)
            let length = try self.length(width: width)
            let type = Int8(truncatingIfNeeded: try self.uint(width: 1, what: "ext type"))
            if MsgPackWriter.extMarker(length: length) != marker { self.isCanonical = false }
            return .ext(type, try self.payload(length, what: "ext"))
        case 0xCA:
            self.isCanonical = false
            return .float32(Float(bitPattern: UInt32(try self.uint(width: 4, what: "float32"))))
        case 0xCB:
            let value = Double(bitPattern: try self.uint(width: 8, what: "float64"))
            if value.isNaN, value.bitPattern != Double.nan.bitPattern { self.isCanonical = false }
            return .float64(value)
        case 0xCC, 0xCD, 0xCE, 0xCF:
            let value = try self.uint(width: 1 << Int(marker - 0xCC), what: "uint")
            if MsgPackWriter.marker(unsigned: value) != marker { self.isCanonical = false }
            return .unsigned(value)
        case 0xD0, 0xD1, 0xD2, 0xD3:
            let width = 1 << Int(marker - 0xD0)
            let raw = try self.uint(width: width, what: "int")
            // Sign-extend from the field's width.
            let shift = UInt64(64 - width * 8)
            let value = Int64(bitPattern: raw << shift) >> Int64(shift)
            if value >= 0 {
                self.isCanonical = false
                return .unsigned(UInt64(value))
            }
            if MsgPackWriter.marker(negative: value) != marker { self.isCanonical = false }
            return .negative(value)
        case 0xD4, 0xD5, 0xD6, 0xD7, 0xD8:
            let type = Int8(truncatingIfNeeded: try self.uint(width: 1, what: "ext type"))
            return .ext(type, try self.payload(1 << Int(marker - 0xD4), what: "fixext"))
        case 0xD9, 0xDA, 0xDB:
            let width = 1 << Int(marker - 0xD9)
            let length = try self.length(width: width)
            if MsgPackWriter.stringMarker(length: length) != marker { self.isCanonical = false }
            return .string(try self.payload(length, what: "string"))
        case 0xDC, 0xDD:
            let count = try self.length(width: marker == 0xDC ? 2 : 4)
            return try self.container(map: false, count: count, canonical: MsgPackWriter.containerMarker(map: false, count: count) == marker)
        case 0xDE, 0xDF:
            let count = try self.length(width: marker == 0xDE ? 2 : 4)
            return try self.container(map: true, count: count, canonical: MsgPackWriter.containerMarker(map: true, count: count) == marker)
        default:  // 0xE0...0xFF
            return .negative(Int64(Int8(bitPattern: marker)))
        }
    }

    /// Skips one whole value (containers included), checking it as it goes.
    mutating func skipValue(depth: Int) throws(WireError) {
        switch try self.readHead() {
        case .array(let count):
            try self.checkDepth(depth + 1)
            for _ in 0..<count { try self.skipValue(depth: depth + 1) }
        case .map(let count):
            try self.checkDepth(depth + 1)
            for _ in 0..<(count * 2) { try self.skipValue(depth: depth + 1) }
        default:
            break
        }
    }

    /// Refuses nesting past the limit; `depth` is the depth of the container being entered.
    func checkDepth(_ depth: Int) throws(WireError) {
        guard depth <= self.limits.maxDepth else {
            throw WireError("msgpack: nested deeper than \(self.limits.maxDepth)", at: self.headStart)
        }
    }

    private mutating func container(map: Bool, count: Int, canonical: Bool) throws(WireError) -> Head {
        if !canonical { self.isCanonical = false }
        // Every element takes at least one byte: a count the bytes left cannot hold is a lie,
        // refused before anything is read.
        let elements = map ? count * 2 : count
        guard elements <= self.remaining else {
            throw WireError(
                "msgpack: \(map ? "map" : "array") of \(count) \(map ? "pairs" : "elements") in \(self.remaining) bytes",
                at: self.headStart)
        }
        return map ? .map(count) : .array(count)
    }

    private mutating func length(width: Int) throws(WireError) -> Int {
        Int(try self.uint(width: width, what: "length"))
    }

    private mutating func uint(width: Int, what: String) throws(WireError) -> UInt64 {
        guard width <= self.remaining else {
            throw WireError("msgpack: \(what) needs \(width) bytes, \(self.remaining) left", at: self.headStart)
        }
        var value: UInt64 = 0
        for i in 0..<width { value = value << 8 | UInt64(self.bytes[self.index + i]) }
        self.index += width
        return value
    }

    private mutating func payload(_ length: Int, what: String) throws(WireError) -> Range<Int> {
        guard length <= self.remaining else {
            throw WireError("msgpack: \(what) of \(length) bytes, \(self.remaining) left", at: self.headStart)
        }
        let range = self.index..<(self.index + length)
        self.index += length
        return range
    }
}
