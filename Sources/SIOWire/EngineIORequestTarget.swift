/// The parts of an Engine.IO request's URL that matter: `EIO`, `transport`, `sid`, `b64`.
public struct EngineIORequestTarget: Hashable, Sendable {
    /// One query parameter, percent-decoded.
    public struct QueryItem: Hashable, Sendable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The path without the query.
    public var path: String
    /// Every query parameter, percent-decoded, in order.
    public var queryItems: [QueryItem]
    /// Every query parameter as `(name, value)` tuples, in order (same content as `queryItems`).
    public var query: [(name: String, value: String)] { self.queryItems.map { ($0.name, $0.value) } }
    /// `nil` when the request is not an Engine.IO request (no `EIO` parameter, or an unknown revision).
    public var version: EngineIOVersion?
    public var transport: EngineIOTransport?
    public var sid: String?
    /// `b64=1` (v3 clients that cannot take binary payloads).
    public var base64: Bool

    /// Parses a request target such as `/socket.io/?EIO=4&transport=polling&t=N`.
    ///
    /// Absolute-form targets (`http://host/path?query`) are accepted; a fragment is ignored.
    public init(uri: String) {
        var target = Substring(uri)
        if let fragment = target.firstIndex(of: "#") { target = target[..<fragment] }
        if !target.hasPrefix("/"), let colon = target.firstIndex(of: ":"), target[colon...].hasPrefix("://") {
            let afterAuthority = target[target.index(colon, offsetBy: 3)...]
            target = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterAuthority[$0...] } ?? "/"
        }
        let queryText: Substring
        if let question = target.firstIndex(of: "?") {
            self.path = String(target[..<question])
            queryText = target[target.index(after: question)...]
        } else {
            self.path = String(target)
            queryText = ""
        }
        let items = queryText.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return QueryItem(
                    name: FormDecoding.percentDecoded(pair[..<equals]), value: FormDecoding.percentDecoded(pair[pair.index(after: equals)...]))
            }
            return QueryItem(name: FormDecoding.percentDecoded(pair), value: "")
        }
        self.queryItems = items
        func first(_ name: String) -> String? { items.first(where: { $0.name == name })?.value }
        self.version = first("EIO").flatMap(Int.init).flatMap(EngineIOVersion.init(rawValue:))
        self.transport = first("transport").flatMap(EngineIOTransport.init(rawValue:))
        self.sid = first("sid")
        self.base64 = first("b64").map { $0 == "1" || $0 == "true" } ?? false
    }

    /// The first value of a query parameter.
    public func queryValue(_ name: String) -> String? {
        self.queryItems.first(where: { $0.name == name })?.value
    }
}
