import SIOWire

/// The API's routes, `/api/<name>`.
package enum ViewRoute: String, CaseIterable, Sendable {
    case meta, stats, sessions, packets, packet, plots, live
}

/// One request, as far as the decision needs it.
package struct ViewRequest: Sendable {
    package var method: String
    /// Path and query, as sent.
    package var uri: String
    /// The `Host` header, `nil` when absent.
    package var host: String?
    /// The `Cookie` header(s), joined.
    package var cookie: String?

    package init(method: String, uri: String, host: String?, cookie: String? = nil) {
        self.method = method
        self.uri = uri
        self.host = host
        self.cookie = cookie
    }
}

/// What the server does with a request. No sockets: decided by `ViewRequestHandler`, executed by
/// the channel handler.
package enum ViewDecision: Sendable {
    /// An error answer (403 for a foreign Host or a missing token, 404, 405, 400).
    case reject(status: Int, reason: String)
    /// One of the compiled-in files. `setCookie`: the token, when it came in the URL.
    case asset(ViewAsset, setCookie: String?)
    case api(ViewRoute, ViewQuery, setCookie: String?)
    /// A live long poll: answer as soon as a line at or after `query.after` exists, or at the timeout.
    case poll(ViewQuery)
}

/// Decides what to do with each request: the DNS-rebinding guard (the `Host` must name the bound
/// address), the token of a non-loopback server, then the route. A plain struct, tested without
/// sockets.
package struct ViewRequestHandler: Sendable {
    /// The `Host` values accepted, lowercased (`127.0.0.1:8090`, `localhost:8090`, ...); `nil` accepts
    /// any (a wildcard bind, where the token is the guard).
    package let allowedHosts: Set<String>?
    /// Required on every request when set: `?token=` in the URL (then kept in a cookie) or the cookie.
    package let token: String?

    package static let cookieName = "siotape_token"

    package init(allowedHosts: Set<String>?, token: String?) {
        self.allowedHosts = allowedHosts
        self.token = token
    }

    /// The rules for a server bound to `host:port`: loopback needs no token, anything else does.
    package init(boundHost host: String, port: Int, token: String?) {
        let lower = host.lowercased()
        if Self.isLoopback(lower) {
            self.allowedHosts = ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)"]
        } else if lower == "0.0.0.0" || lower == "::" || lower == "*" {
            self.allowedHosts = nil
        } else {
            self.allowedHosts = [lower.contains(":") ? "[\(lower)]:\(port)" : "\(lower):\(port)"]
        }
        self.token = token
    }

    package static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    package func decide(_ request: ViewRequest) -> ViewDecision {
        if let allowed = self.allowedHosts {
            guard let host = request.host?.lowercased(), allowed.contains(host) else {
                return .reject(status: 403, reason: "Host \(request.host ?? "(none)") is not this server's address")
            }
        }
        let (path, query) = Self.split(request.uri)
        var setCookie: String?
        if let token = self.token {
            let parameters = query.split(separator: "&").compactMap { pair -> String? in
                pair.hasPrefix("token=") ? FormDecoding.percentDecoded(pair.dropFirst(6)) : nil
            }
            if let given = parameters.first, Self.constantTimeEquals(given, token) {
                setCookie = "\(Self.cookieName)=\(token); HttpOnly; SameSite=Strict; Path=/"
            } else if !Self.cookies(request.cookie).contains(where: {
                $0.name == Self.cookieName && Self.constantTimeEquals($0.value, token)
            }) {
                return .reject(status: 403, reason: "this server needs the token printed when it started (?token=...)")
            }
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return .reject(status: 405, reason: "only GET")
        }
        if path.hasPrefix("/api/") {
            guard let route = ViewRoute(rawValue: String(path.dropFirst(5))) else {
                return .reject(status: 404, reason: "no API \(path)")
            }
            let parsed: ViewQuery
            do { parsed = try ViewQuery(query: query) } catch { return .reject(status: 400, reason: error.description) }
            return route == .live ? .poll(parsed) : .api(route, parsed, setCookie: setCookie)
        }
        guard let asset = ViewAsset(path: String(path)) else { return .reject(status: 404, reason: "not found") }
        return .asset(asset, setCookie: setCookie)
    }

    static func split(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    static func cookies(_ header: String?) -> [(name: String, value: String)] {
        guard let header else { return [] }
        return header.split(separator: ";").compactMap { part in
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2 else { return nil }
            return (pieces[0].trimmingSpaces, pieces[1].trimmingSpaces)
        }
    }

    /// Compares without stopping at the first difference (the token must not leak by timing).
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    /// A new random token: 32 hex digits (128 bits).
    package static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let word = String(generator.next() as UInt32, radix: 16)
            return String(repeating: "0", count: 8 - word.count) + word
        }.joined()
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
