import NIOCore
import SIOWire

/// Compares a received Socket.IO packet with the recorded one: event name, type, arguments
/// JSON-aware (key order irrelevant, `--ignore` paths removed), binary attachments byte for byte.
package struct PacketComparer: Sendable {
    package var ignores: [JSONPath]

    package init(ignores: [JSONPath] = []) {
        self.ignores = ignores
    }

    /// Whether `received` is the same kind of packet as `recorded`, so the two are compared
    /// rather than reported as one missing and one extra: namespace, type, event name, and for
    /// an ack the ack id (the client's own id, sent as recorded).
    package static func sameKind(_ recorded: SocketIOPacket, _ received: SocketIOPacket) -> Bool {
        guard recorded.namespace == received.namespace, recorded.type == received.type,
            recorded.eventName == received.eventName
        else { return false }
        switch recorded.type {
        case .ack, .binaryAck: return recorded.ackID == received.ackID
        case .event, .binaryEvent: return (recorded.ackID == nil) == (received.ackID == nil)
        case .connect, .disconnect, .connectError: return true
        }
    }

    /// `sameKind` with the recorded event name's ids mapped to the live ones (`"to:<sid>"`).
    package static func sameKind(_ recorded: SocketIOPacket, _ received: SocketIOPacket, ids: IDMapping) -> Bool {
        if Self.sameKind(recorded, received) { return true }
        guard !ids.isEmpty, let name = recorded.eventName, name != received.eventName else { return false }
        var mapped = recorded
        mapped.eventName = ids.rewriting(string: name, .toLive)
        return Self.sameKind(mapped, received)
    }

    /// `nil` when equal, otherwise what differs, for people. The recorded packet's ids are
    /// mapped to the live ones by `ids` first (see `IDMapping`).
    package func difference(
        recorded: SocketIOPacket,
        received: SocketIOPacket,
        ids: IDMapping = IDMapping()
    ) -> String? {
        let recorded = ids.rewriting(recorded, .toLive)
        if !Self.sameKind(recorded, received) {
            return "different packet: recorded \(Self.render(recorded)), received \(Self.render(received))"
        }
        if let detail = self.payloadDifference(recorded: recorded, received: received) { return detail }
        if recorded.attachments.count != received.attachments.count {
            return "attachments: recorded \(recorded.attachments.count), received \(received.attachments.count)"
        }
        for (i, (a, b)) in zip(recorded.attachments, received.attachments).enumerated() where a != b {
            let x = Array(a.readableBytesView)
            let y = Array(b.readableBytesView)
            let at = (0..<min(x.count, y.count)).first { x[$0] != y[$0] } ?? min(x.count, y.count)
            return "attachment \(i) differs at byte \(at): recorded \(x.count) bytes (…\(Self.hex(x[at...]))), "
                + "received \(y.count) bytes (…\(Self.hex(y[at...])))"
        }
        return nil
    }

    /// The payload as compared: parsed, ignores applied; a server CONNECT's `sid` is always ignored
    /// (the live server issues its own).
    func normalized(_ packet: SocketIOPacket) -> JSONValue? {
        guard let json = packet.json else { return nil }
        let text = String(buffer: json)
        guard var value = JSONValue(parsing: text) else { return .string("(not JSON) " + text) }
        if packet.type == .connect, case .object(var o) = value, o["sid"] != nil {
            o["sid"] = .ignored
            value = .object(o)
        }
        for path in self.ignores { value = path.ignoring(in: value) }
        return value
    }

    func payloadDifference(recorded: SocketIOPacket, received: SocketIOPacket) -> String? {
        Self.jsonDifference(self.normalized(recorded), self.normalized(received))
    }

    /// A JSON text as compared: parsed (text that is not JSON becomes a string saying so), the
    /// `--ignore` paths applied.
    func normalized(json text: String) -> JSONValue {
        guard var value = JSONValue(parsing: text) else { return .string("(not JSON) " + text) }
        for path in self.ignores { value = path.ignoring(in: value) }
        return value
    }

    /// `nil` when the two values are the same (a recorded string holding `[redacted]` matches a
    /// received one that fits around it), otherwise the first difference, for people.
    static func jsonDifference(_ a: JSONValue?, _ b: JSONValue?) -> String? {
        var a = a
        var b = b
        if let x = a, let y = b { (a, b) = Self.maskingRedacted(x, y) }
        if a == b { return nil }
        guard let a, let b else {
            return "payload: recorded \(a?.text ?? "none"), received \(b?.text ?? "none")"
        }
        let (path, x, y) = Self.firstDifference(a, b, path: "$")
        return "\(path): recorded \(x?.text ?? "(absent)"), received \(y?.text ?? "(absent)")"
    }

    /// The recording masks credentials, also where the server echoes them (a token in a `welcome`
    /// event, a JWT in a login answer): a recorded string holding `[redacted]` cannot be compared, so
    /// where the received string has the recorded text around the mask (`Bearer [redacted]` and
    /// `Bearer eyJ…`) both become ignored.
    static func maskingRedacted(_ recorded: JSONValue, _ received: JSONValue) -> (JSONValue, JSONValue) {
        switch (recorded, received) {
        case (.string(let r), .string(let l)) where r.contains(Self.redacted):
            return Self.fits(l, around: r) ? (.ignored, .ignored) : (recorded, received)
        case (.array(let x), .array(let y)):
            var x = x
            var y = y
            for i in 0..<min(x.count, y.count) { (x[i], y[i]) = Self.maskingRedacted(x[i], y[i]) }
            return (.array(x), .array(y))
        case (.object(let x), .object(let y)):
            var x = x
            var y = y
            for key in x.keys where y[key] != nil { (x[key], y[key]) = Self.maskingRedacted(x[key]!, y[key]!) }
            return (.object(x), .object(y))
        default:
            return (recorded, received)
        }
    }

    static let redacted = "[redacted]"

    /// Whether `text` is `pattern` with each `[redacted]` standing for a non-empty run of characters.
    static func fits(_ text: String, around pattern: String) -> Bool {
        let t = Array(text.utf8)
        let mask = Array(Self.redacted.utf8)
        var parts: [[UInt8]] = [[]]
        let p = Array(pattern.utf8)
        var i = 0
        while i < p.count {
            if p[i] == mask[0], p[i...].starts(with: mask) {
                parts.append([])
                i += mask.count
            } else {
                parts[parts.count - 1].append(p[i])
                i += 1
            }
        }
        let first = parts[0]
        let last = parts[parts.count - 1]
        guard t.starts(with: first), t.reversed().starts(with: last.reversed()),
            t.count >= first.count + last.count + parts.count - 1
        else { return false }
        // Each middle part after at least one character of the run before it, leftmost first.
        var position = first.count
        let end = t.count - last.count
        for middle in parts.dropFirst().dropLast() {
            var start = position + 1
            while start + middle.count <= end - 1, !t[start...].starts(with: middle) { start += 1 }
            guard start + middle.count <= end - 1 else { return false }
            position = start + middle.count
        }
        return position < end
    }

    /// The first place where two values differ, as a path, with the two values there.
    static func firstDifference(_ a: JSONValue, _ b: JSONValue, path: String) -> (String, JSONValue?, JSONValue?) {
        switch (a, b) {
        case (.array(let x), .array(let y)):
            for i in 0..<max(x.count, y.count) {
                let u = i < x.count ? x[i] : nil
                let v = i < y.count ? y[i] : nil
                guard let u, let v else { return ("\(path)[\(i)]", u, v) }
                if u != v { return firstDifference(u, v, path: "\(path)[\(i)]") }
            }
        case (.object(let x), .object(let y)):
            for key in Set(x.keys).union(y.keys).sorted() where x[key] != y[key] {
                let sub = path + (Self.isPlainKey(key) ? ".\(key)" : "['\(key)']")
                guard let u = x[key], let v = y[key] else { return (sub, x[key], y[key]) }
                return firstDifference(u, v, path: sub)
            }
        default: break
        }
        return (path, a, b)
    }

    static func isPlainKey(_ key: String) -> Bool {
        !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }
    }

    /// One line for people: `EVENT /chat "message:new" id=3 [..] +1 attachment`.
    package static func render(_ packet: SocketIOPacket, maxJSON: Int = 300) -> String {
        var parts = [packet.type.name]
        if packet.namespace != "/" { parts.append(packet.namespace) }
        if let id = packet.ackID { parts.append("id=\(id)") }
        if let json = packet.json {
            var text = String(buffer: json)
            if text.count > maxJSON { text = String(text.prefix(maxJSON)) + "…" }
            parts.append(text)
        }
        if !packet.attachments.isEmpty {
            let sizes = packet.attachments.map { "\($0.readableBytes) bytes" }.joined(separator: ", ")
            parts.append("+\(packet.attachments.count) attachment(s) (\(sizes))")
        }
        return parts.joined(separator: " ")
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.prefix(16).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + (bytes.count > 16 ? "…" : "")
    }
}
