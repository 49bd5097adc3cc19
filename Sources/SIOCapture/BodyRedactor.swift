import NIOCore
import SIOWire

/// Masks the credentials inside HTTP bodies: the values of JSON members and form fields whose
/// names are credentials (`password`, `token`, `access_token`, ...; see `defaultNames`, extended by
/// `record --redact NAME`). Names match without regard to case, `_` and `-` (`apiKey`, `api_key`
/// and `API-KEY` are one name). Works on bytes: a body is scanned once, only when it is text.
public struct BodyRedactor: Sendable {
    /// The credential names redacted by default (documented in docs/recording.md).
    public static let defaultNames = [
        "password", "passwd", "pwd", "pass", "passphrase", "secret", "client_secret", "token", "access_token",
        "refresh_token", "id_token", "auth_token", "session_token", "csrf_token", "xsrf_token", "api_key",
        "apikey", "authorization", "auth", "jwt", "bearer", "credential", "credentials", "private_key",
        "session", "session_id", "sessionid", "cookie", "otp", "pin",
    ]

    static let mask = "[redacted]"

    /// Normalised names (lowercased, without `_` and `-`); empty when redaction is off.
    let names: Set<String>

    /// - Parameters:
    ///   - enabled: `false` (`--keep-credentials`) keeps every body as it was.
    ///   - extraNames: names added with `--redact`.
    public init(enabled: Bool, extraNames: [String] = []) {
        self.names = enabled ? Set((Self.defaultNames + extraNames).map(Self.normalise)) : []
    }

    static func normalise(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "_" && $0 != "-" })
    }

    func isCredential(_ name: String) -> Bool { self.names.contains(Self.normalise(name)) }

    /// Whether bodies of this type are scanned for credential members (and so kept whole).
    func needsWholeBody(contentType: String?) -> Bool {
        guard !self.names.isEmpty, let type = contentType?.lowercased() else { return false }
        return type.contains("json") || type.contains("x-www-form-urlencoded")
    }

    /// The masked body and the values that were masked, or `nil` when nothing was masked.
    func mask(_ body: ByteBuffer, contentType: String?) -> (bytes: ByteBuffer, secrets: [String])? {
        guard !self.names.isEmpty else { return nil }
        let type = contentType?.lowercased() ?? ""
        if type.contains("x-www-form-urlencoded") { return self.maskForm(body) }
        let first = body.readableBytesView.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if type.contains("json") || first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            return self.maskJSON(body)
        }
        return nil
    }

    /// `a=1&password=2`: the values of credential fields masked.
    func maskForm(_ body: ByteBuffer) -> (bytes: ByteBuffer, secrets: [String])? {
        let text = String(buffer: body)
        var secrets: [String] = []
        var changed = false
        let masked = Redactor.rewriteQuery(Substring(text)) { name in
            let hide = self.isCredential(FormDecoding.percentDecoded(name))
            changed = changed || hide
            return hide
        }
        guard changed else { return nil }
        for pair in text.split(separator: "&") {
            guard let eq = pair.firstIndex(of: "="), self.isCredential(FormDecoding.percentDecoded(String(pair[..<eq])))
            else { continue }
            let value = String(pair[pair.index(after: eq)...])
            secrets.append(value)
            let decoded = FormDecoding.percentDecoded(value)
            if decoded != value { secrets.append(decoded) }
        }
        return (ByteBuffer(string: masked), secrets)
    }


    /// A JSON text with the values of credential members (at any depth) replaced by `"[redacted]"`.
    /// Bytes that are not JSON are copied as they are.
    func maskJSON(_ body: ByteBuffer) -> (bytes: ByteBuffer, secrets: [String])? {
        let bytes = Array(body.readableBytesView)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var secrets: [String] = []
        var containers: [Bool] = []  // true = object
        var expectKey = false
        var hideNext = false
        var keyIsCredential = false
        var changed = false
        var index = 0
        func stringEnd(_ start: Int) -> Int {
            var end = start + 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
            return min(end + 1, bytes.count)
        }
        func valueEnd(_ start: Int) -> Int {
            switch bytes[start] {
            case UInt8(ascii: "\""):
                return stringEnd(start)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                var i = start
                while i < bytes.count {
                    switch bytes[i] {
                    case UInt8(ascii: "\""): i = stringEnd(i); continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 { return i + 1 }
                    default: break
                    }
                    i += 1
                }
                return bytes.count
            default:
                var i = start
                while i < bytes.count, !",}] \t\r\n".utf8.contains(bytes[i]) { i += 1 }
                return max(i, start + 1)
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                out.append(byte)
                index += 1
                continue
            default: break
            }
            if hideNext {
                // The value of a credential member, whatever it is.
                let end = valueEnd(index)
                if byte == UInt8(ascii: "\""), end - index >= 2 {
                    secrets.append(String(decoding: bytes[(index + 1)..<(end - 1)], as: UTF8.self))
                } else if byte != UInt8(ascii: "{"), byte != UInt8(ascii: "["), byte != UInt8(ascii: "n") {
                    secrets.append(String(decoding: bytes[index..<end], as: UTF8.self))
                }
                out.append(contentsOf: "\"\(Self.mask)\"".utf8)
                index = end
                hideNext = false
                changed = true
                continue
            }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                containers.append(byte == UInt8(ascii: "{"))
                expectKey = byte == UInt8(ascii: "{")
                out.append(byte)
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = containers.popLast()
                expectKey = false
                out.append(byte)
                index += 1
            case UInt8(ascii: ","):
                expectKey = containers.last ?? false
                out.append(byte)
                index += 1
            case UInt8(ascii: ":"):
                expectKey = false
                hideNext = keyIsCredential
                keyIsCredential = false
                out.append(byte)
                index += 1
            case UInt8(ascii: "\""):
                let end = stringEnd(index)
                out.append(contentsOf: bytes[index..<end])
                if expectKey, end - index >= 2 {
                    keyIsCredential = self.isCredential(String(decoding: bytes[(index + 1)..<(end - 1)], as: UTF8.self))
                }
                index = end
            default:
                out.append(byte)
                index += 1
            }
        }
        guard changed else { return nil }
        return (ByteBuffer(bytes: out), secrets)
    }
}
