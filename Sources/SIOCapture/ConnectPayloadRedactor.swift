import NIOCore
import SIOWire

/// Masks the credentials a client sends with a Socket.IO CONNECT: every value of the auth JSON
/// (keys and structure kept, so a reader still sees *what* was sent) and, for Socket.IO v4, every
/// value of the query carried in the namespace (`0/admin?token=1234,`).
///
/// Works on bytes: only CONNECT packets pass through here, so the small copy is affordable.
enum ConnectPayloadRedactor {
    /// Returns the packet with its credentials masked and whether anything was changed.
    static func redact(_ packet: SocketIOPacket) -> (SocketIOPacket, changed: Bool) {
        if packet.parser == .msgpack { return self.redactMsgPack(packet) }
        var packet = packet
        var changed = false
        if let json = packet.json, json.readableBytes > 0 {
            packet.json = Self.maskJSONValues(json)
            changed = true
        }
        if let question = packet.namespace.firstIndex(of: "?") {
            let ns = packet.namespace
            packet.namespace = String(ns[...question])
                + Redactor.rewriteQuery(ns[ns.index(after: question)...]) { _ in true }
            changed = true
        }
        if let header = packet.rawHeader, let question = header.firstIndex(of: "?") {
            // The query runs up to the `,` that ends the namespace (or the end of the header).
            let rest = header[header.index(after: question)...]
            let end = rest.firstIndex(of: ",") ?? rest.endIndex
            packet.rawHeader = String(header[...question])
                + Redactor.rewriteQuery(rest[..<end]) { _ in true } + String(rest[end...])
            changed = true
        }
        return (packet, changed)
    }

    /// A msgpack CONNECT: its `data` masked inside the msgpack, so that neither the JSON nor the
    /// wire bytes kept for it hold the credentials.
    private static func redactMsgPack(_ packet: SocketIOPacket) -> (SocketIOPacket, changed: Bool) {
        guard packet.json != nil else { return (packet, false) }
        do {
            return (try SocketIOPacket.decodeMsgPack(packet.encodeMsgPack(), maskingData: Redactor.mask), true)
        } catch {
            // Cannot happen for a packet that decoded; if it did, nothing of the payload is kept.
            var masked = packet
            masked.json = ByteBuffer(string: "\"\(Redactor.mask)\"")
            masked.jsonIsCompact = true
            masked.wire = nil
            return (masked, true)
        }
    }

    /// Replaces every scalar of a JSON text (strings that are not object keys, numbers, literals)
    /// with `"[redacted]"`. Malformed input is masked from the damage to the end rather than kept.
    static func maskJSONValues(_ json: ByteBuffer) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(json.readableBytes + 16)
        json.withUnsafeReadableBytes { bytes in
            var tokens = JSONTokens(bytes)
            while let (kind, range) = tokens.next() {
                switch kind {
                case .string(key: false), .scalar: out.writeStaticString("\"[redacted]\"")
                default: out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[range]))
                }
            }
        }
        return out
    }
}
