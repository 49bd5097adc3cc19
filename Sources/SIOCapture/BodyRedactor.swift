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
        var out: [UInt8] = []
        out.reserveCapacity(body.readableBytes)
        var secrets: [String] = []
        var hideNext = false
        var keyIsCredential = false
        var changed = false
        body.withUnsafeReadableBytes { bytes in
            var tokens = JSONTokens(bytes)
            while tokens.index < bytes.count {
                let byte = bytes[tokens.index]
                if hideNext, byte != 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D {
                    // The value of a credential member, whatever it is.
                    let value = tokens.skipValue()
                    if byte == UInt8(ascii: "\""), value.count >= 2 {
                        secrets.append(String(decoding: bytes[(value.lowerBound + 1)..<(value.upperBound - 1)], as: UTF8.self))
                    } else if byte != UInt8(ascii: "{"), byte != UInt8(ascii: "["), byte != UInt8(ascii: "n") {
                        secrets.append(String(decoding: bytes[value], as: UTF8.self))
                    }
                    out.append(contentsOf: "\"\(Self.mask)\"".utf8)
                    hideNext = false
                    changed = true
                    continue
                }
                guard let (kind, range) = tokens.next() else { break }
                switch kind {
                case .colon:
                    hideNext = keyIsCredential
                    keyIsCredential = false
                case .string(key: true) where range.count >= 2:
                    keyIsCredential = self.isCredential(
                        String(decoding: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)], as: UTF8.self))
                default:
                    break
                }
                out.append(contentsOf: bytes[range])
            }
        }
        guard changed else { return nil }
        return (ByteBuffer(bytes: out), secrets)
    }
}
