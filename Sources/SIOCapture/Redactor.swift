import NIOCore
import SIOWire
import SIORecording

/// Hides credentials before they reach a recording. Every function is the identity when redaction
/// is off, so a user who asked to keep everything gets the wire as it was.
struct Redactor: Sendable {
    static let mask = "[redacted]"

    var enabled: Bool

    /// Headers whose whole value is a credential (lowercase).
    static let credentialHeaderNames = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

    /// Whether the field at `index` is a credential header: compared on the head's bytes.
    static func isCredentialHeader(_ headers: HTTPHead.Headers, at index: Int) -> Bool {
        Self.credentialHeaderNames.contains { headers.nameIs($0, at: index) }
    }

    /// Headers whose whole value is a credential.
    static func isCredentialHeader(_ name: String) -> Bool {
        switch name.lowercased() {
        case "authorization", "proxy-authorization", "cookie", "set-cookie": return true
        default: return false
        }
    }

    /// Query parameters that look like credentials. Engine.IO's own parameters are never hidden:
    /// replay and inspection need them, and `sid` must stay to follow sessions.
    static func isCredentialQueryName(_ name: String) -> Bool {
        let lower = name.lowercased()
        switch lower {
        case "sid", "eio", "transport", "t", "b64", "j": return false
        default: break
        }
        for pattern in Self.credentialQueryPatterns where lower.contains(pattern) {
            return true
        }
        return false
    }

    /// Whether a request's query may name a credential-like parameter (`isCredentialQueryName`, for
    /// the known secrets), told on the head's bytes: an Engine.IO request's `EIO`, `transport`, `t`
    /// and `sid` are not, so most requests need no `String` and no lock for it.
    static func queryMayNameCredentials(_ head: HTTPHead) -> Bool {
        guard head.uriContains("?") else { return false }
        return Self.queryMayNameCredentials(target: head.uriBytes.readableBytesView)
    }

    /// `queryMayNameCredentials` on a request target's bytes. A query with a byte that is not ASCII
    /// is left to the `String` checks (Unicode lowercasing, `Character`s that join a mark to `&` or `=`).
    static func queryMayNameCredentials<Target: Collection<UInt8>>(target: Target) -> Bool {
        // Every request of a polling session asks (twice): on contiguous bytes, no allocation.
        if let answer = target.withContiguousStorageIfAvailable({ Self.queryMayNameCredentials(bytes: $0) }) {
            return answer
        }
        return Array(target).withUnsafeBufferPointer { Self.queryMayNameCredentials(bytes: $0) }
    }

    private static func queryMayNameCredentials(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let question = bytes.firstIndex(of: UInt8(ascii: "?")) else { return false }
        let end = bytes.count
        for index in (question + 1)..<end where bytes[index] >= 0x80 { return true }
        // Each `name=value` pair of the query (`&`-separated, empty ones skipped, pairs without `=` too).
        var pairStart = question + 1
        while pairStart < end {
            var pairEnd = pairStart
            while pairEnd < end, bytes[pairEnd] != UInt8(ascii: "&") { pairEnd += 1 }
            defer { pairStart = pairEnd + 1 }
            var equals = pairStart
            while equals < pairEnd, bytes[equals] != UInt8(ascii: "=") { equals += 1 }
            guard equals < pairEnd else { continue }
            let name = UnsafeBufferPointer(rebasing: bytes[pairStart..<equals])
            if Self.engineIOQueryNames.contains(where: { Self.equalsLowercased(name, $0) }) { continue }
            for pattern in Self.credentialQueryPatternBytes where name.count >= pattern.count {
                for start in 0...(name.count - pattern.count)
                where Self.equalsLowercased(UnsafeBufferPointer(rebasing: name[start..<start + pattern.count]), pattern) {
                    return true
                }
            }
        }
        return false
    }

    /// Whether `bytes`, ASCII-lowercased, are `lower`.
    private static func equalsLowercased(_ bytes: UnsafeBufferPointer<UInt8>, _ lower: [UInt8]) -> Bool {
        guard bytes.count == lower.count else { return false }
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) != lower[index] { return false }
        }
        return true
    }

    private static let engineIOQueryNames = ["sid", "eio", "transport", "t", "b64", "j"].map { Array($0.utf8) }
    private static let credentialQueryPatternBytes = Self.credentialQueryPatterns.map { Array($0.utf8) }
    private static let credentialQueryPatterns = [
        "token", "auth", "key", "secret", "pass", "pwd", "session", "sess", "jwt", "credential", "signature", "bearer",
        "cookie",
    ]

    func headerValue(name: String, value: String) -> String {
        self.enabled && Self.isCredentialHeader(name) ? Self.mask : value
    }

    func queryValue(name: String, value: String) -> String {
        self.enabled && Self.isCredentialQueryName(name) ? Self.mask : value
    }

    /// The request target with credential-like query values replaced, other bytes untouched.
    func path(_ uri: String) -> String {
        // An Engine.IO request's query (EIO, transport, t, sid) has nothing to mask: no rewriting.
        guard self.enabled, Self.queryMayNameCredentials(target: uri.utf8), let question = uri.firstIndex(of: "?")
        else { return uri }
        return String(uri[...question]) + Self.rewriteQuery(uri[uri.index(after: question)...]) {
            Self.isCredentialQueryName($0)
        }
    }

    /// Rewrites `a=1&b=2`, masking the values of the parameters `hide` selects.
    static func rewriteQuery(_ query: Substring, hide: (String) -> Bool) -> String {
        var out = ""
        out.reserveCapacity(query.utf8.count)
        var first = true
        for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
            if !first { out.append("&") }
            first = false
            if let eq = pair.firstIndex(of: "="), hide(String(pair[..<eq])) {
                out.append(contentsOf: pair[...eq])
                out.append(Self.mask)
            } else {
                out.append(contentsOf: pair)
            }
        }
        return out
    }

    /// Bytes of an HTTP stream that did not parse, as kept in a `raw` record: the values of
    /// credential header lines and credential-like query values of the first line are masked.
    func httpBytes(_ bytes: ByteBuffer) -> ByteBuffer {
        guard self.enabled else { return bytes }
        var out = ByteBuffer()
        out.reserveCapacity(bytes.readableBytes)
        let lines = bytes.readableBytesView.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            if index > 0 { out.writeInteger(UInt8(ascii: "\n")) }
            let text = String(decoding: line, as: UTF8.self)
            if index == 0, text.contains("?") {
                // `GET /path?token=... HTTP/1.1`: each space-separated word may carry a query.
                out.writeString(text.split(separator: " ", omittingEmptySubsequences: false).map { self.path(String($0)) }
                    .joined(separator: " "))
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")),
                Self.isCredentialHeader(String(decoding: line[..<colon], as: UTF8.self).filter { $0 != " " && $0 != "\t" })
            {
                out.writeBytes(line[...colon])
                out.writeString(" " + Self.mask)
                if line.last == UInt8(ascii: "\r") { out.writeInteger(UInt8(ascii: "\r")) }
            } else {
                out.writeBytes(line)
            }
        }
        return out
    }

    /// The handshake-less text of a CONNECT that did not decode (`0{"token":"...` cut short):
    /// everything from its first `{` is masked like a CONNECT payload.
    func undecodableConnect(_ data: ByteBuffer) -> ByteBuffer {
        let view = data.readableBytesView
        guard self.enabled, view.first == UInt8(ascii: "0"), let brace = view.firstIndex(of: UInt8(ascii: "{"))
        else { return data }
        var out = data.getSlice(at: data.readerIndex, length: brace - data.readerIndex)!
        out.writeImmutableBuffer(
            ConnectPayloadRedactor.maskJSONValues(data.getSlice(at: brace, length: data.writerIndex - brace)!))
        return out
    }

    /// A polling body that did not decode, as kept in a `raw` record: every CONNECT in it (a `40`
    /// at the start of the body or after a separator, `0x1e` or a v3 `len:` prefix) has its payload
    /// masked up to the next `0x1e`.
    func undecodableBody(_ body: ByteBuffer) -> ByteBuffer {
        guard self.enabled else { return body }
        let bytes = Array(body.readableBytesView)
        var out = ByteBuffer()
        out.reserveCapacity(bytes.count)
        var index = 0
        var packetStart = true
        while index < bytes.count {
            let byte = bytes[index]
            if packetStart, byte == UInt8(ascii: "4"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "0") {
                var end = index
                while end < bytes.count, bytes[end] != 0x1E { end += 1 }
                var packet = self.undecodableConnect(ByteBuffer(bytes: bytes[(index + 1)..<end]))
                out.writeInteger(byte)
                out.writeBuffer(&packet)
                index = end
                packetStart = false
                continue
            }
            out.writeInteger(byte)
            packetStart = byte == 0x1E || byte == UInt8(ascii: ":")
            index += 1
        }
        return out
    }

    /// The headers worth keeping with a session's handshake.
    static let handshakeHeaderNames = ["User-Agent", "Origin", "Referer", "Authorization", "Cookie"]

    func handshakeHeaders(_ headers: HTTPHead.Headers) -> [Record.KeyValue] {
        var result: [Record.KeyValue] = []
        for name in Self.handshakeHeaderNames {
            for value in headers[name] {
                result.append(Record.KeyValue(name, self.headerValue(name: name, value: value)))
            }
        }
        return result
    }
}
