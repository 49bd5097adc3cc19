import NIOCore

/// Where the proxy forwards to: `http://host:port` or `https://host:port`.
public struct UpstreamURL: Hashable, Sendable, CustomStringConvertible {
    public enum Scheme: String, Hashable, Sendable {
        case http
        case https
    }

    public var scheme: Scheme
    public var host: String
    public var port: Int

    /// Parses `http://127.0.0.1:5000`, `https://example.test`, `localhost:5000` (http assumed).
    /// A path, if any, is ignored: requests keep the path the client asked for.
    public init(_ text: String) throws(ProxyError) {
        var rest = Substring(text)
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            guard let scheme = Scheme(rawValue: rest[..<colon].lowercased()) else {
                throw ProxyError.badUpstream(text, reason: "the scheme must be http or https")
            }
            self.scheme = scheme
            rest = rest[rest.index(colon, offsetBy: 3)...]
        } else {
            self.scheme = .http
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var host = rest
        var port = self.scheme == .https ? 443 : 80
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw ProxyError.badUpstream(text, reason: "unterminated IPv6 address")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()), (1...65535).contains(parsed) else {
                    throw ProxyError.badUpstream(text, reason: "bad port")
                }
                port = parsed
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let parsed = Int(rest[rest.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw ProxyError.badUpstream(text, reason: "bad port")
            }
            port = parsed
        }
        guard !host.isEmpty else { throw ProxyError.badUpstream(text, reason: "no host") }
        self.host = String(host)
        self.port = port
    }

    /// `host:port` as a `Host` header value would spell it.
    public var authority: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(host):\(self.port)"
    }

    public var description: String { "\(self.scheme.rawValue)://\(self.authority)" }
}

/// How `siotape record` listens and forwards.
public struct ProxyConfiguration: Sendable {
    public var upstream: UpstreamURL
    public var listenHost: String
    public var listenPort: Int
    /// Replace the client's `Host` header with the upstream's authority (for upstreams that route by
    /// host name). Off by default so same-origin and CORS checks see what the client sent.
    public var rewriteHost: Bool
    public var connectTimeout: TimeAmount
    /// For `https://` upstreams: skip certificate verification (self-signed development servers).
    public var insecureTLS: Bool

    public init(
        upstream: UpstreamURL, listenHost: String = "127.0.0.1", listenPort: Int = 8080, rewriteHost: Bool = false,
        connectTimeout: TimeAmount = .seconds(10), insecureTLS: Bool = false
    ) {
        self.insecureTLS = insecureTLS
        self.upstream = upstream
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.rewriteHost = rewriteHost
        self.connectTimeout = connectTimeout
    }
}

/// Errors of the proxy that a user gets to read.
public struct ProxyError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case badUpstream
        case bindFailed
        case tls
    }

    private let code: Code
    public let description: String

    public static func badUpstream(_ text: String, reason: String) -> ProxyError {
        ProxyError(code: .badUpstream, description: "invalid upstream URL '\(text)': \(reason) (expected e.g. http://127.0.0.1:5000)")
    }

    public static func tls(_ underlying: any Error) -> ProxyError {
        ProxyError(code: .tls, description: "cannot set up TLS to the upstream: \(underlying)")
    }

    public static func bindFailed(_ address: String, underlying: any Error) -> ProxyError {
        ProxyError(code: .bindFailed, description: "cannot listen on \(address): \(underlying) (is the port in use?)")
    }
}
