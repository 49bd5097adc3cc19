import NIOCore
import NIOHTTP1
import SIOWire

/// What `replay run --http` puts where the recording redacted a plain HTTP request's credentials,
/// and how it rebuilds such a request from the recording.
///
/// - `secrets`: values for redacted JSON members, form fields and query parameters, by name
///   (matched as the recorder's redactor matches: case, `_` and `-` ignored, so `api_key` fills
///   `apiKey`), for every request or for request N only (`N:name`, N counting the recording's plain
///   HTTP requests from 0); from `--secret [N:]NAME=VALUE` (a JSON string), `--secret [N:]NAME:=JSON`
///   (raw JSON, as httpie has it) and `SIOTAPE_SECRET_<NAME>` in the environment.
/// - `headers`: request headers set on every replayed request or on request N, replacing the
///   recorded value (redacted or not) or added; from `--header '[N:]Name: value'`. A recorded header
///   whose value was redacted and that no `--header` sets is left out.
package struct HTTPCredentials: Sendable, Equatable {
    package enum Value: Sendable, Equatable {
        /// Sent as a JSON string in JSON bodies, percent-encoded in forms and queries.
        case string(String)
        /// Sent as this JSON text in JSON bodies (its string value, or the text, in forms).
        case json(String)
    }

    /// Keyed by the normalised name, or `N:` + the normalised name.
    package private(set) var secrets: [String: Value] = [:]
    /// Keyed by the lowercased header name, or `N:` + it; the value keeps the name as given.
    package private(set) var headers: [String: (name: String, value: String)] = [:]

    static let mask = "[redacted]"

    package init() {}

    package static func == (a: HTTPCredentials, b: HTTPCredentials) -> Bool {
        a.secrets == b.secrets && a.headers.mapValues { "\($0.name):\($0.value)" } == b.headers.mapValues { "\($0.name):\($0.value)" }
    }

    /// The redactor's rule: names match without regard to case, `_` and `-`.
    static func normalise(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "_" && $0 != "-" })
    }

    /// Splits `N:rest` into the request number and the rest (no number: `nil`).
    static func scoped(_ text: Substring) -> (Int?, Substring) {
        guard let colon = text.firstIndex(of: ":"), let n = Int(text[..<colon]), n >= 0 else { return (nil, text) }
        return (n, text[text.index(after: colon)...])
    }

    /// Parses `[N:]NAME=VALUE` or `[N:]NAME:=JSON`; `false` when it has neither form.
    @discardableResult
    package mutating func addSecret(_ argument: String) -> Bool {
        let (n, rest) = Self.scoped(Substring(argument))
        guard let eq = rest.firstIndex(of: "=") else { return false }
        var name = rest[..<eq]
        let text = String(rest[rest.index(after: eq)...])
        let value: Value
        if name.hasSuffix(":") {
            name = name.dropLast()
            guard JSONValue(parsing: text) != nil else { return false }
            value = .json(text)
        } else {
            value = .string(text)
        }
        guard !name.isEmpty else { return false }
        self.secrets[(n.map { "\($0):" } ?? "") + Self.normalise(String(name))] = value
        return true
    }

    /// A secret from the environment: `SIOTAPE_SECRET_API_KEY=v` is `--secret api_key=v`.
    package mutating func addEnvironment(_ environment: [String: String]) {
        for (key, value) in environment where key.hasPrefix("SIOTAPE_SECRET_") {
            let name = Self.normalise(String(key.dropFirst("SIOTAPE_SECRET_".count)))
            if !name.isEmpty, self.secrets[name] == nil { self.secrets[name] = .string(value) }
        }
    }

    /// Parses `[N:]Name: value`; `false` when there is no `:` after a name.
    @discardableResult
    package mutating func addHeader(_ argument: String) -> Bool {
        var (n, rest) = Self.scoped(Substring(argument))
        if n != nil, !rest.contains(":") {
            // `Name: value` whose name is a number: not a request number after all.
            (n, rest) = (nil, Substring(argument))
        }
        guard let colon = rest.firstIndex(of: ":") else { return false }
        let name = rest[..<colon].trimmingCharacters(in: " \t")
        guard !name.isEmpty, !name.contains(" ") else { return false }
        let value = rest[rest.index(after: colon)...].trimmingCharacters(in: " \t")
        self.headers[(n.map { "\($0):" } ?? "") + name.lowercased()] = (name, value)
        return true
    }

    func secret(_ name: String, request: Int) -> Value? {
        let key = Self.normalise(name)
        return self.secrets["\(request):\(key)"] ?? self.secrets[key]
    }

    // MARK: - Rebuilding a request

    /// Hop-by-hop and framing headers: the replaying connection has its own.
    static let skippedHeaders: Set<String> = [
        "host", "connection", "keep-alive", "content-length", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-connection", "proxy-authorization",
    ]

    /// The request to send for recorded exchange `index`, its recorded ids rewritten to the live
    /// ones and its redacted values filled; `missing` lists the redacted names nothing fills.
    func request(
        for exchange: RecordedHTTPExchange, index: Int, host: String, port: Int, ids: IDMapping
    ) -> (head: HTTPRequestHead, body: ByteBuffer?, missing: [String]) {
        var missing: [String] = []
        var target = exchange.path
        if let question = target.firstIndex(of: "?") {
            let query = self.fillForm(Substring(target[target.index(after: question)...]), index, &missing)
            target = String(target[...question]) + query
        }
        // The `--header`s for this request: unscoped ones, overridden by those of request N.
        var given: [String: (name: String, value: String)] = [:]
        for (key, header) in self.headers {
            let (n, name) = Self.scoped(Substring(key))
            if n == nil, given[String(name)] == nil { given[String(name)] = header }
            if n == index { given[String(name)] = header }
        }
        var headers = HTTPHeaders()
        for header in exchange.requestHeaders ?? [] {
            let lower = header.name.lowercased()
            guard !Self.skippedHeaders.contains(lower), given[lower] == nil, !header.value.contains(Self.mask) else {
                continue
            }
            headers.add(name: header.name, value: header.value)
        }
        for header in given.values.sorted(by: { $0.name < $1.name }) { headers.add(name: header.name, value: header.value) }
        headers.replaceOrAdd(name: "Host", value: "\(host):\(port)")
        var body = exchange.requestBody
        if let recorded = body {
            let type = exchange.requestHeader("Content-Type")?.lowercased() ?? ""
            let text = String(buffer: recorded)
            if type.contains("x-www-form-urlencoded") {
                body = ByteBuffer(string: self.fillForm(Substring(text), index, &missing))
            } else if type.contains("json") || text.first(where: { !" \r\n\t".contains($0) }).map({ "{[".contains($0) }) == true {
                // Ids the recorded client sent (a socket id to drop) are the live server's now.
                body = ids.rewriting(json: ByteBuffer(string: self.fillJSON(text, index, &missing)), .toLive)
            }
        }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: exchange.method), uri: target, headers: headers)
        return (head, body, missing)
    }

    /// `a=1&password=[redacted]` with the redacted values filled.
    func fillForm(_ form: Substring, _ index: Int, _ missing: inout [String]) -> String {
        var out: [String] = []
        for pair in form.split(separator: "&", omittingEmptySubsequences: false) {
            guard let eq = pair.firstIndex(of: "="),
                FormDecoding.percentDecoded(pair[pair.index(after: eq)...]) == Self.mask
            else {
                out.append(String(pair))
                continue
            }
            let name = FormDecoding.percentDecoded(pair[..<eq])
            guard let value = self.secret(name, request: index) else {
                missing.append(name)
                out.append(String(pair))
                continue
            }
            let text: String
            switch value {
            case .string(let s): text = s
            case .json(let j):
                if case .string(let s) = JSONValue(parsing: j) { text = s } else { text = j }
            }
            out.append(String(pair[...eq]) + Self.percentEncoded(text))
        }
        return out.joined(separator: "&")
    }

    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    /// A JSON text whose `"[redacted]"` values are replaced by the secret named by their member
    /// (the nearest key before them: an array's elements take the array's member name). Every
    /// other byte is kept as recorded.
    func fillJSON(_ text: String, _ index: Int, _ missing: inout [String]) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var lastKey: String?
        bytes.withUnsafeBytes { raw in
            var tokens = JSONTokens(raw)
            while let (kind, range) = tokens.next() {
                let literal = Array(raw[range])
                guard case .string(let isKey) = kind else {
                    out += literal
                    continue
                }
                let decoded = JSONValue(parsing: String(decoding: literal, as: UTF8.self))?.stringValue
                if isKey {
                    lastKey = decoded
                    out += literal
                } else if decoded == Self.mask, let name = lastKey {
                    if let value = self.secret(name, request: index) {
                        switch value {
                        case .string(let s): out += Array(JSONValue.string(s).text.utf8)
                        case .json(let j): out += Array(j.utf8)
                        }
                    } else {
                        missing.append(name)
                        out += literal
                    }
                } else {
                    out += literal
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The redacted values of `exchanges` (all of them, numbered from 0) that nothing fills:
    /// `(request number, exchange, names)`.
    package func missing(in exchanges: [RecordedHTTPExchange]) -> [(index: Int, exchange: RecordedHTTPExchange, names: [String])] {
        exchanges.enumerated().compactMap { index, exchange in
            let names = self.request(for: exchange, index: index, host: "", port: 0, ids: IDMapping()).missing
            return names.isEmpty ? nil : (index, exchange, names)
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(self.drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
