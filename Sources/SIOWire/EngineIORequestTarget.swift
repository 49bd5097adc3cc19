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
        // Every request of a polling session comes here: a target of printable ASCII (every one a
        // client sends in practice) is parsed on its bytes, each byte being its own `Character`
        // there, with the same result as the `Character`-based parse below, which costs ~60,000
        // instructions per target (grapheme breaking) and stays for any other target.
        var uri = uri
        let items = uri.withUTF8 { Self.asciiParts($0) }
        if let (path, items) = items {
            self.init(path: path, queryItems: items)
        } else {
            self.init(characters: uri)
        }
    }

    private init(path: String, queryItems items: [QueryItem]) {
        self.path = path
        self.queryItems = items
        func first(_ name: String) -> String? { items.first(where: { $0.name == name })?.value }
        self.version = first("EIO").flatMap(Int.init).flatMap(EngineIOVersion.init(rawValue:))
        self.transport = first("transport").flatMap(EngineIOTransport.init(rawValue:))
        self.sid = first("sid")
        self.base64 = first("b64").map { $0 == "1" || $0 == "true" } ?? false
    }

    /// The path and the query items of a target of printable ASCII (0x20-0x7E), as `init(characters:)`
    /// finds them; `nil` for any other target.
    private static func asciiParts(_ bytes: UnsafeBufferPointer<UInt8>) -> (String, [QueryItem])? {
        for byte in bytes where byte < 0x20 || byte > 0x7E { return nil }
        var start = 0
        let end = bytes.firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
        if end == 0 || bytes[0] != UInt8(ascii: "/"),
            let colon = bytes[..<end].firstIndex(of: UInt8(ascii: ":")),
            end - colon >= 3, bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        {
            guard
                let slash = bytes[(colon + 3)..<end].firstIndex(where: {
                    $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?")
                })
            else { return ("/", []) }
            start = slash
        }
        let question = bytes[start..<end].firstIndex(of: UInt8(ascii: "?"))
        let path = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(question ?? end)]), as: UTF8.self)
        guard let question else { return (path, []) }
        var items: [QueryItem] = []
        var pairStart = question + 1
        while pairStart < end {
            let pairEnd = bytes[pairStart..<end].firstIndex(of: UInt8(ascii: "&")) ?? end
            if pairEnd > pairStart {
                if let equals = bytes[pairStart..<pairEnd].firstIndex(of: UInt8(ascii: "=")) {
                    items.append(
                        QueryItem(
                            name: FormDecoding.percentDecoded(UnsafeBufferPointer(rebasing: bytes[pairStart..<equals])),
                            value: FormDecoding.percentDecoded(
                                UnsafeBufferPointer(rebasing: bytes[(equals + 1)..<pairEnd]))))
                } else {
                    items.append(
                        QueryItem(
                            name: FormDecoding.percentDecoded(UnsafeBufferPointer(rebasing: bytes[pairStart..<pairEnd])),
                            value: ""))
                }
            }
            pairStart = pairEnd + 1
        }
        return (path, items)
    }

    /// The parse on `Character`s, for any target: `init(uri:)` uses it for targets with bytes
    /// outside printable ASCII, where a combining mark after `#`, `?`, `&` or `=` makes one
    /// `Character` of the two. (Tests compare the two parses.)
    package init(characters uri: String) {
        var target = Substring(uri)
        if let fragment = target.firstIndex(of: "#") { target = target[..<fragment] }
        if !target.hasPrefix("/"), let colon = target.firstIndex(of: ":"), target[colon...].hasPrefix("://") {
            let afterAuthority = target[target.index(colon, offsetBy: 3)...]
            target = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterAuthority[$0...] } ?? "/"
        }
        let path: Substring
        let queryText: Substring
        if let question = target.firstIndex(of: "?") {
            path = target[..<question]
            queryText = target[target.index(after: question)...]
        } else {
            path = target
            queryText = ""
        }
        let items = queryText.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return QueryItem(
                    name: FormDecoding.percentDecoded(pair[..<equals]), value: FormDecoding.percentDecoded(pair[pair.index(after: equals)...]))
            }
            return QueryItem(name: FormDecoding.percentDecoded(pair), value: "")
        }
        self.init(path: String(path), queryItems: items)
    }

    /// The first value of a query parameter.
    public func queryValue(_ name: String) -> String? {
        self.queryItems.first(where: { $0.name == name })?.value
    }
}
