import NIOCore
import SIOWire

/// Compares a live answer to a replayed plain HTTP request with the recorded one: the status, and
/// the body JSON-aware (as packets are: key order, whitespace and number spelling do not matter,
/// `--ignore` paths are left out with `$` the body's root, recorded ids mapped to the live ones, a
/// redacted value matches any) when the recorded body is JSON, byte for byte otherwise. A
/// recording made before bodies were kept compares the status only.
struct HTTPResponseComparer: Sendable {
    var comparer: PacketComparer

    /// `nil` when the answer is the recorded one, otherwise what differs, for people. `body` is the
    /// live body as received (a gzip or deflate body is inflated first, as the recording keeps it).
    func difference(
        recorded: RecordedHTTPExchange, status: Int, contentEncoding: String?, body: ByteBuffer, ids: IDMapping
    ) -> String? {
        if let want = recorded.status, want != status { return "status: recorded \(want), received \(status)" }
        // A recording made before bodies were kept has no headers either: only the status compares.
        guard recorded.status != nil, recorded.responseHeaders != nil else { return nil }
        var live = body
        do {
            if let inflated = try HTTPContentCoding.decode(body, contentEncoding: contentEncoding, limit: 64 << 20) {
                live = inflated
            }
        } catch {
            return "body: \(error)"
        }
        var kept = recorded.responseBody ?? ByteBuffer()
        if recorded.responseBodyCut {
            // Only the head was kept (over the body limit): compare that much.
            live = live.getSlice(at: live.readerIndex, length: min(live.readableBytes, kept.readableBytes)) ?? live
        }
        if kept == live { return nil }
        let text = String(buffer: kept)
        let type = recorded.responseHeader("Content-Type")?.lowercased() ?? ""
        if !recorded.responseBodyCut, type.contains("json") || Self.looksLikeJSON(text) {
            kept = ids.rewriting(json: kept, .toLive)
            let a = self.comparer.normalized(json: String(buffer: kept))
            let b = self.comparer.normalized(json: String(buffer: live))
            guard let detail = PacketComparer.jsonDifference(a, b) else { return nil }
            return "body " + detail
        }
        if text.contains(PacketComparer.redacted), PacketComparer.fits(String(buffer: live), around: text) { return nil }
        let x = Array(kept.readableBytesView)
        let y = Array(live.readableBytesView)
        let at = (0..<min(x.count, y.count)).first { x[$0] != y[$0] } ?? min(x.count, y.count)
        return "body differs at byte \(at): recorded \(x.count) bytes (…\(Self.excerpt(x[at...]))), "
            + "received \(y.count) bytes (…\(Self.excerpt(y[at...])))"
    }

    static func looksLikeJSON(_ text: String) -> Bool {
        guard let first = text.first(where: { !" \r\n\t".contains($0) }), "{[".contains(first) else { return false }
        return JSONValue(parsing: text) != nil
    }

    /// Up to 40 bytes for people: as text when they are UTF-8, in hex otherwise.
    static func excerpt(_ bytes: ArraySlice<UInt8>) -> String {
        let head = bytes.prefix(40)
        let more = bytes.count > 40 ? "…" : ""
        if let text = String(validating: head, as: UTF8.self), !text.contains(where: { $0.isNewline }) {
            return JSONValue.string(text).text + more
        }
        return PacketComparer.hex(head) + more
    }
}
