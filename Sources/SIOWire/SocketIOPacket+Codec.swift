import NIOCore

extension SocketIOPacket {
    /// Event names the reference implementation keeps for itself: an EVENT using one is invalid.
    public static let reservedEventNames: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// `reservedEventNames.contains(name)` without hashing the name: most names are ruled out by
    /// their length (this runs for every event).
    static func isReservedEventName(_ name: String) -> Bool {
        switch name.utf8.count {
        case 7: return name == "connect"
        case 10: return name == "disconnect"
        case 11: return name == "newListener"
        case 13: return name == "connect_error" || name == "disconnecting"
        case 14: return name == "removeListener"
        default: return false
        }
    }

    /// Decodes the text of an Engine.IO `message` packet (without the leading `4`).
    /// Validates like the reference parser; attachments are not part of the text.
    ///
    /// Layout: `<type>[<attachments>-][<nsp>,][<ack id>][<JSON>]`. Offsets in errors are relative
    /// to the first byte of `text`.
    public static func decode(_ text: ByteBuffer, version: SocketIOVersion) throws(WireError) -> SocketIOPacket {
        self.packet(text, from: 0, try self.decodeHeader(text, from: 0, version: version))
    }

    /// A whole Engine.IO text packet (a WebSocket text message) that is a `message`, `4...`, decoded
    /// as the Socket.IO packet it carries and appended to `packets`: `EngineIOPacket.decode(webSocketText:)`
    /// then `decode(_:version:)` in one borrow of the bytes (each borrow of a `ByteBuffer`'s storage
    /// costs a run-time exclusivity check, and this runs for every message). Returns `false`, having
    /// appended nothing, when the text is not a `message` packet (another type, or not an Engine.IO
    /// packet at all): decode it as an Engine.IO packet then. Errors are the Socket.IO packet's, with
    /// offsets relative to its first byte (after the `4`), as `decode(_:version:)` reports them.
    /// (Appended rather than returned: an optional packet was copied once more on its way out.)
    public static func decode(
        engineIOMessage text: ByteBuffer, version: SocketIOVersion, appendingTo packets: inout [SocketIOPacket]
    ) throws(WireError) -> Bool {
        let decoded = try self.decodeHeader(text, from: 1, version: version)
        guard decoded.isMessage else { return false }
        packets.append(self.packet(text, from: 1, decoded))
        return true
    }

    /// What one borrow of the bytes of `text` from `start` on finds. With `start` 1, the byte before
    /// must be an Engine.IO `message`'s `4`, or the result is not a message (`isMessage` false).
    private static func decodeHeader(_ text: ByteBuffer, from start: Int, version: SocketIOVersion) throws(WireError)
        -> DecodedHeader
    {
        // The header and the JSON in one borrow of the bytes; the packet made once, after it (each
        // `ByteBuffer` access costs more than the header's parse, and a packet made in the closure
        // was copied out of it).
        try text.withUnsafeReadableBytes {
            whole throws(WireError) -> DecodedHeader in
            if start == 1 {
                guard whole.first == UInt8(ascii: "0") &+ EngineIOPacketType.message.rawValue else {
                    return DecodedHeader(
                        header: Header(type: .connect), isCompact: false, eventName: nil, isMessage: false)
                }
            }
            let bytes = UnsafeRawBufferPointer(rebasing: whole[start...])
            let header = try Header.parse(bytes, version: version)
            guard header.length < bytes.count else {
                try self.validate(
                    type: header.type, kind: nil, firstKind: nil, firstString: nil, version: version, at: header.length)
                return DecodedHeader(header: header, isCompact: false, eventName: nil)
            }
            let isEvent = header.type == .event || header.type == .binaryEvent
            var cursor = JSONCursor(UnsafeRawBufferPointer(rebasing: bytes[header.length...]))
            let scan: JSONScanner.Result
            do throws(WireError) {
                // Only an event's first string is wanted: its name.
                scan = try cursor.scanDocument(decodingFirstString: isEvent)
            } catch {
                throw WireError("invalid JSON: \(error.reason)", at: header.length + error.offset)
            }
            try self.validate(
                type: header.type, kind: scan.kind, firstKind: scan.firstElementKind,
                firstString: scan.firstElementString, version: version, at: header.length)
            return DecodedHeader(
                header: header, isCompact: scan.isCompact, eventName: isEvent ? scan.firstElementString : nil)
        }
    }

    /// The packet `decodeHeader` found in `text` from `start` on (`decoded` consumed: its event
    /// name moves into the packet instead of being copied, ~35 instructions per packet).
    @inline(__always)
    private static func packet(
        _ text: ByteBuffer, from start: Int, _ decoded: consuming DecodedHeader
    ) -> SocketIOPacket {
        let header = decoded.header
        let textStart = text.readerIndex + start
        // `nil`: no namespace in the header, `/`.
        let nameLength = header.namespaceEnd - header.namespaceStart
        let named = nameLength > 0 ? text.getString(at: textStart + header.namespaceStart, length: nameLength)! : nil
        var json: ByteBuffer?
        if start + header.length < text.readableBytes {
            // The text from the JSON on, without asking the buffer's storage for a slice.
            var bytes = text
            bytes.moveReaderIndex(forwardBy: start + header.length)
            json = bytes
        }
        let rawHeader = header.isCanonical(named: named) ? nil : text.getString(at: textStart, length: header.length)
        return SocketIOPacket(
            type: header.type, namespace: named ?? "/", ackID: header.ackID, attachmentCount: header.attachmentCount,
            json: json, jsonIsCompact: decoded.isCompact, eventName: decoded.eventName, rawHeader: rawHeader)
    }

    /// The wire text (header + verbatim JSON), `rawHeader` used when present.
    public func encodeText(version: SocketIOVersion) -> ByteBuffer {
        var text = ByteBuffer()
        text.reserveCapacity(16 + (self.json?.readableBytes ?? 0))
        if let rawHeader = self.rawHeader {
            text.writeString(rawHeader)
        } else {
            text.writeString(self.canonicalHeader)
        }
        if let json = self.json { text.writeImmutableBuffer(json) }
        return text
    }

    /// The header `encodeText` writes when there is no `rawHeader`.
    public var canonicalHeader: String {
        var header = String(self.type.rawValue)
        if self.type.carriesAttachments { header += "\(self.attachmentCount)-" }
        if self.namespace != "/" { header += self.namespace + "," }
        if let ackID = self.ackID { header += String(ackID) }
        return header
    }

    /// Checks the payload against what the reference parser accepts for each type.
    /// `kind` is the payload's kind (`nil`: no payload), `firstKind` and `firstString` those of an
    /// array's first element.
    private static func validate(
        type: SocketIOPacketType, kind: JSONScanner.Kind?, firstKind: JSONScanner.Kind?, firstString: String?,
        version: SocketIOVersion, at offset: Int
    ) throws(WireError) {
        switch type {
        case .connect:
            guard kind == nil || kind == .object else {
                throw WireError("CONNECT payload must be an object or absent", at: offset)
            }
        case .disconnect:
            guard kind == nil else { throw WireError("DISCONNECT carries no payload", at: offset) }
        case .event, .binaryEvent:
            guard kind == .array, let first = firstKind else {
                throw WireError("\(type.name) payload must be a non-empty array", at: offset)
            }
            switch first {
            case .number:
                break
            case .string:
                if let name = firstString, isReservedEventName(name) {
                    throw WireError("\(type.name) uses the reserved event name \"\(name)\"", at: offset)
                }
            default:
                throw WireError("\(type.name) name must be a string or a number", at: offset)
            }
        case .ack, .binaryAck:
            guard kind == .array else { throw WireError("\(type.name) payload must be an array", at: offset) }
        case .connectError:
            guard kind == .string || kind == .object else {
                throw WireError(
                    version == .v4 ? "ERROR payload must be a string or an object" : "CONNECT_ERROR payload must be a string or an object",
                    at: offset)
            }
        }
    }
}

/// What `decodeHeader` finds in one borrow of a packet's bytes. Not optional: an optional of it
/// was copied on its way out of the borrow (~500 instructions per packet).
private struct DecodedHeader {
    var header: Header
    /// The JSON is compact (`SocketIOPacket.jsonIsCompact`).
    var isCompact: Bool
    var eventName: String?
    /// False when an Engine.IO text turned out not to be a `message` (nothing else is then set).
    var isMessage = true
}

/// The parsed header of a Socket.IO packet.
private struct Header {
    var type: SocketIOPacketType
    var attachmentCount = 0
    /// Where the namespace's name is in the text (empty when there is none: `/`), its `?query` left out.
    var namespaceStart = 0
    var namespaceEnd = 0
    /// A v4 CONNECT's `?query` after the namespace, kept only to tell the header is not canonical.
    var hasQuery = false
    var ackID: UInt64?
    /// Bytes from the start of the text to the first byte of the JSON.
    var length = 0
    /// Whether a namespace other than `/` was closed by a comma (canonical) or by the end of the text.
    var namespaceClosedByComma = true
    var explicitRootNamespace = false

    /// Whether `encode` would write this header back (what the packet's `rawHeader` is `nil` for),
    /// `named` being the packet's namespace when the header names one (`nil`: `/`, no comparison of
    /// strings for the common packet).
    func isCanonical(named: String?) -> Bool {
        guard !self.hasQuery, self.namespaceClosedByComma, !self.explicitRootNamespace else { return false }
        // Leading zeros in counts or ack ids also make the header non-canonical. Counted, not built:
        // this runs for every packet.
        var canonicalLength = 1
        if self.type.carriesAttachments { canonicalLength += decimalDigits(UInt64(self.attachmentCount)) + 1 }
        // A header naming `/` itself is not canonical (above), so a named namespace is never `/`.
        if let named { canonicalLength += named.utf8.count + 1 }
        if let ackID = self.ackID { canonicalLength += decimalDigits(ackID) }
        return canonicalLength == self.length
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, version: SocketIOVersion) throws(WireError) -> Header {
        guard let first = bytes.first else { throw WireError("empty Socket.IO packet", at: 0) }
        guard first >= UInt8(ascii: "0"), let type = SocketIOPacketType(rawValue: first &- UInt8(ascii: "0")) else {
            throw WireError("unknown Socket.IO packet type \(describeByte(first))", at: 0)
        }
        var header = Header(type: type)
        var index = 1
        if type.carriesAttachments {
            let start = index
            var count = 0
            while index < bytes.count, isDigit(bytes[index]) {
                guard index - start < 9 else { throw WireError("attachment count too large", at: start) }
                count = count * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard index > start, index < bytes.count, bytes[index] == UInt8(ascii: "-") else {
                throw WireError("\(type.name) needs an attachment count followed by '-'", at: start)
            }
            header.attachmentCount = count
            index += 1
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "/") {
            let start = index
            var queryStart: Int?
            while index < bytes.count, bytes[index] != UInt8(ascii: ",") {
                if queryStart == nil, bytes[index] == UInt8(ascii: "?") { queryStart = index }
                index += 1
            }
            let nameEnd = queryStart ?? index
            header.namespaceStart = start
            header.namespaceEnd = nameEnd
            header.hasQuery = queryStart != nil
            if index < bytes.count {
                index += 1  // the comma
            } else {
                header.namespaceClosedByComma = false
            }
            header.explicitRootNamespace = nameEnd - start == 1
        }
        if index < bytes.count, isDigit(bytes[index]) {
            let start = index
            var ackID: UInt64 = 0
            while index < bytes.count, isDigit(bytes[index]) {
                let (times10, overflow1) = ackID.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw WireError("ack id does not fit in 64 bits", at: start) }
                ackID = sum
                index += 1
            }
            header.ackID = ackID
        }
        header.length = index
        return header
    }
}

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

@inline(__always)
private func decimalDigits(_ value: UInt64) -> Int {
    var digits = 1
    var rest = value
    while rest >= 10 {
        rest /= 10
        digits += 1
    }
    return digits
}
