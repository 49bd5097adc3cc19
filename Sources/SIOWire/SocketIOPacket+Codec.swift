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
        // The header and the JSON in one borrow of the bytes; the packet made once, after it (each
        // `ByteBuffer` access costs more than the header's parse, and a packet made in the closure
        // was copied out of it).
        let (header, isCompact, eventName) = try text.withUnsafeReadableBytes {
            bytes throws(WireError) -> (Header, Bool, String?) in
            let header = try Header.parse(bytes, version: version)
            guard header.length < bytes.count else {
                try self.validate(
                    type: header.type, kind: nil, firstKind: nil, firstString: nil, version: version, at: header.length)
                return (header, false, nil)
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
            return (header, scan.isCompact, isEvent ? scan.firstElementString : nil)
        }
        let namespace =
            header.namespaceEnd > header.namespaceStart
            ? text.getString(
                at: text.readerIndex + header.namespaceStart, length: header.namespaceEnd - header.namespaceStart)! : "/"
        var json: ByteBuffer?
        if header.length < text.readableBytes {
            // The text from the JSON on, without asking the buffer's storage for a slice.
            var bytes = text
            bytes.moveReaderIndex(forwardBy: header.length)
            json = bytes
        }
        return SocketIOPacket(
            type: header.type, namespace: namespace, ackID: header.ackID, attachmentCount: header.attachmentCount,
            json: json, jsonIsCompact: isCompact, eventName: eventName,
            rawHeader: header.isCanonical(namespace: namespace)
                ? nil : text.getString(at: text.readerIndex, length: header.length))
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
    /// `namespace` being the packet's.
    func isCanonical(namespace: String) -> Bool {
        guard !self.hasQuery, self.namespaceClosedByComma, !self.explicitRootNamespace else { return false }
        // Leading zeros in counts or ack ids also make the header non-canonical. Counted, not built:
        // this runs for every packet.
        var canonicalLength = 1
        if self.type.carriesAttachments { canonicalLength += decimalDigits(UInt64(self.attachmentCount)) + 1 }
        if namespace != "/" { canonicalLength += namespace.utf8.count + 1 }
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
