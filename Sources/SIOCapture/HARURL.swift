/// An entry's absolute URL, split into what a proxy would have seen: the origin and the request
/// target (path and query, no fragment).
struct HARURL {
    /// `http://127.0.0.1:5000` (a `ws`/`wss` URL gives its `http`/`https` origin).
    var origin: String
    /// `127.0.0.1:5000`, for a `Host` header the HAR left out.
    var authority: String
    /// `/socket.io/?EIO=4&transport=polling`.
    var target: String

    init?(_ url: String) {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let scheme = url[..<colon].lowercased()
        let web: String
        switch scheme {
        case "http", "ws": web = "http"
        case "https", "wss": web = "https"
        default: return nil
        }
        let rest = url[url.index(after: colon)...]
        guard rest.hasPrefix("//") else { return nil }
        let afterSlashes = rest.dropFirst(2)
        let authorityEnd = afterSlashes.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterSlashes.endIndex
        var authority = afterSlashes[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }  // user:pass@
        guard !authority.isEmpty, !authority.contains(where: { $0 == " " || $0.isNewline }) else { return nil }
        var target = String(afterSlashes[authorityEnd...])
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if target.hasPrefix("?") || target.isEmpty { target = "/" + target }
        guard !target.contains(where: { $0 == " " || $0.isNewline }) else { return nil }
        self.origin = "\(web)://\(authority)"
        self.authority = String(authority)
        self.target = target
    }
}
