import NIOCore
import SIORecording
import SIOWire

/// Every credential value seen during the run (credential header values, CONNECT `auth` values,
/// credential-like query values, redacted body members), masked wherever it appears later in the
/// recording: a server that echoes the auth token in a `welcome` event, a login answer whose JWT
/// is later sent in a CONNECT.
///
/// Cost: nothing while no secret is known; then one pass over each record's text with a table of
/// the secrets' first bytes (a byte that starts no secret costs a lookup).
struct KnownSecrets {
    /// Values shorter than this are not learned: masking `1` or `admin` everywhere would hide the
    /// traffic, not a secret.
    static let minimumLength = 8

    private var known: Set<[UInt8]> = []
    /// For each first byte, the secrets starting with it, longest first.
    private var buckets: [[[UInt8]]] = Array(repeating: [], count: 256)

    var isEmpty: Bool { self.known.isEmpty }

    /// Learns a value; values that are too short, numeric only, or could not appear as they are in
    /// a JSON string (quotes, backslashes, control bytes) are ignored, so masking never breaks a line.
    mutating func learn(_ value: String) {
        let bytes = Array(value.utf8)
        guard bytes.count >= Self.minimumLength, !self.known.contains(bytes), value != Redactor.mask,
            !value.contains(Redactor.mask),
            bytes.contains(where: { !($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }),
            !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        else { return }
        self.known.insert(bytes)
        self.buckets[Int(bytes[0])].append(bytes)
        self.buckets[Int(bytes[0])].sort { $0.count > $1.count }
    }

    /// A credential header value: the whole value, and the parts worth learning alone (the
    /// credential after `Bearer `, each cookie's value).
    mutating func learnHeader(name: String, value: String) {
        self.learn(value)
        switch name.lowercased() {
        case "authorization", "proxy-authorization":
            if let space = value.firstIndex(of: " ") {
                self.learn(String(value[value.index(after: space)...].drop { $0 == " " }))
            }
        case "cookie":
            for pair in value.split(separator: ";") {
                if let eq = pair.firstIndex(of: "=") { self.learn(String(pair[pair.index(after: eq)...])) } else {
                    self.learn(String(pair.drop { $0 == " " }))
                }
            }
        case "set-cookie":
            let first = value.split(separator: ";", maxSplits: 1).first ?? ""
            if let eq = first.firstIndex(of: "=") { self.learn(String(first[first.index(after: eq)...])) }
        default:
            break
        }
    }

    // MARK: Masking

    /// The bytes with every known secret replaced by `[redacted]`, or `nil` when none occurs.
    func mask(_ buffer: ByteBuffer) -> ByteBuffer? {
        buffer.withUnsafeReadableBytes { bytes -> ByteBuffer? in
            var out: ByteBuffer?
            var copied = 0
            var index = 0
            let count = bytes.count
            while index < count {
                let candidates = self.buckets[Int(bytes[index])]
                if !candidates.isEmpty, let length = Self.match(candidates, bytes, at: index) {
                    if out == nil {
                        out = ByteBuffer()
                        out!.reserveCapacity(count)
                    }
                    out!.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[copied..<index]))
                    out!.writeStaticString("[redacted]")
                    index += length
                    copied = index
                } else {
                    index += 1
                }
            }
            guard var result = out else { return nil }
            result.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[copied..<count]))
            return result
        }
    }

    func mask(_ text: String) -> String {
        var buffer = ByteBuffer(string: text)
        guard let masked = self.mask(buffer) else { return text }
        buffer = masked
        return String(buffer: buffer)
    }

    private static func match(_ candidates: [[UInt8]], _ bytes: UnsafeRawBufferPointer, at index: Int) -> Int? {
        for secret in candidates where index + secret.count <= bytes.count {
            var equal = true
            for offset in 1..<secret.count where bytes[index + offset] != secret[offset] {
                equal = false
                break
            }
            if equal { return secret.count }
        }
        return nil
    }

    func mask(_ data: RecordedData) -> RecordedData? {
        switch data {
        case .text(let text):
            let masked = self.mask(text)
            return masked == text ? nil : .text(masked)
        case .binary(let bytes):
            return self.mask(bytes).map { .binary($0) }
        }
    }

    private func mask(_ pairs: [Record.KeyValue]) -> [Record.KeyValue] {
        pairs.map { Record.KeyValue($0.name, self.mask($0.value)) }
    }

    /// Masks every known secret in a record's text.
    func mask(_ record: inout Record) {
        switch record.event {
        case .socket(var e):
            var changed = false
            if let json = e.packet.json, let masked = self.mask(json) {
                e.packet.json = masked
                e.packet.eventName = e.packet.eventName.map { self.mask($0) }
                changed = true
            }
            // An attachment is bytes the app chose to send (a file, a buffer built from its state):
            // a secret in it is masked like in a binary body, which changes its length in the
            // recording only.
            for index in e.packet.attachments.indices {
                if let masked = self.mask(e.packet.attachments[index]) {
                    e.packet.attachments[index] = masked
                    changed = true
                }
            }
            // A msgpack packet's `wire` holds the secret as a length-prefixed string: it cannot be
            // masked in place, so the record keeps the (masked) fields only.
            if let wire = e.packet.wire, self.mask(wire) != nil {
                e.packet.wire = nil
                changed = true
            }
            if changed { record.event = .socket(e) }
        case .engine(var e):
            if let data = e.data, let masked = self.mask(data) {
                e.data = masked
                record.event = .engine(e)
            }
        case .undecodable(var e):
            if let masked = self.mask(e.data) {
                e.data = masked
                record.event = .undecodable(e)
            }
        case .body(var e):
            if let masked = self.mask(e.data) {
                e.data = masked
                record.event = .body(e)
            }
        case .http(var e):
            e.path = self.mask(e.path)
            e.errorBody = e.errorBody.map { self.mask($0) }
            e.requestHeaders = e.requestHeaders.map { self.mask($0) }
            e.responseHeaders = e.responseHeaders.map { self.mask($0) }
            record.event = .http(e)
        case .sessionOpened(var e):
            e.query = self.mask(e.query)
            e.headers = self.mask(e.headers)
            e.handshake = self.mask(e.handshake)
            record.event = .sessionOpened(e)
        case .webSocketClosed(var e):
            e.reason = self.mask(e.reason)
            record.event = .webSocketClosed(e)
        case .note(var e):
            e.message = self.mask(e.message)
            record.event = .note(e)
        case .connectionOpened, .connectionClosed, .webSocketOpened, .upgraded, .poll, .sessionClosed:
            break
        }
    }
}

extension SessionRegistry {
    /// Masks every known secret in `records` (nothing to do while none is known).
    func maskKnownSecrets(_ records: inout [Record]) {
        guard !self.knownSecrets.isEmpty else { return }
        for index in records.indices { self.knownSecrets.mask(&records[index]) }
    }

    /// Values masked in bodies (or otherwise known to be credentials) become known secrets.
    mutating func learn(_ secrets: [String]) {
        guard self.configuration.redactCredentials else { return }
        for secret in secrets { self.knownSecrets.learn(secret) }
    }

    /// The credential header values and credential-like query values of a request.
    mutating func learn(request head: HTTPHead) {
        guard self.configuration.redactCredentials else { return }
        self.learnCredentialHeaders(head.headers)
        if head.uriContains("?") { self.learnQuery(head.uri) }
    }

    /// `Set-Cookie` values of a response.
    mutating func learn(response head: HTTPHead) {
        guard self.configuration.redactCredentials else { return }
        self.learnCredentialHeaders(head.headers)
    }

    /// Names compared on the bytes; strings are made for credential headers only.
    private mutating func learnCredentialHeaders(_ headers: HTTPHead.Headers) {
        for index in headers.indices where Redactor.isCredentialHeader(headers, at: index) {
            self.knownSecrets.learnHeader(name: headers.name(at: index), value: headers.value(at: index))
        }
    }

    private mutating func learnQuery(_ uri: String) {
        guard let question = uri.firstIndex(of: "?") else { return }
        for pair in uri[uri.index(after: question)...].split(separator: "&") {
            guard let eq = pair.firstIndex(of: "="), Redactor.isCredentialQueryName(String(pair[..<eq])) else { continue }
            let value = String(pair[pair.index(after: eq)...])
            self.knownSecrets.learn(value)
            self.knownSecrets.learn(FormDecoding.percentDecoded(value))
        }
    }
}

extension KnownSecrets {
    /// The string values (not keys) of a JSON text, unescaped only when they hold no escape.
    static func jsonStringValues(_ json: ByteBuffer) -> [String] {
        json.withUnsafeReadableBytes { bytes in
            var values: [String] = []
            var tokens = JSONTokens(bytes)
            while let (kind, range) = tokens.next() {
                guard case .string(key: false) = kind else { continue }
                values.append(String(decoding: bytes[tokens.content(ofString: range)], as: UTF8.self))
            }
            return values
        }
    }
}
