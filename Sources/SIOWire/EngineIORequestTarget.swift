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
        // Parsed on the UTF-8 bytes, as servers parse request targets: every delimiter is ASCII, and
        // no byte of a multi-byte UTF-8 sequence is, so each part cut at a delimiter is whole UTF-8.
        // (Every request of a polling session comes here; a parse on `Character`s cost ~60,000
        // instructions per target in grapheme breaking, and glued a combining mark to the `?` before it.)
        var uri = uri
        let (path, items) = uri.withUTF8 { Self.parts($0) }
        self.path = path
        self.queryItems = items
        func first(_ name: String) -> String? { items.first(where: { $0.name == name })?.value }
        self.version = first("EIO").flatMap(Int.init).flatMap(EngineIOVersion.init(rawValue:))
        self.transport = first("transport").flatMap(EngineIOTransport.init(rawValue:))
        self.sid = first("sid")
        self.base64 = first("b64").map { $0 == "1" || $0 == "true" } ?? false
    }

    /// The path and the query items of a target, percent-decoded; a fragment is dropped and an
    /// absolute form's scheme and authority are skipped.
    private static func parts(_ bytes: UnsafeBufferPointer<UInt8>) -> (String, [QueryItem]) {
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
        // One allocation: at most one item per `&`-separated part.
        items.reserveCapacity(bytes[question..<end].reduce(1) { $1 == UInt8(ascii: "&") ? $0 + 1 : $0 })
        var pairStart = question + 1
        while pairStart < end {
            let pairEnd = bytes[pairStart..<end].firstIndex(of: UInt8(ascii: "&")) ?? end
            if pairEnd > pairStart {
                let equals = bytes[pairStart..<pairEnd].firstIndex(of: UInt8(ascii: "="))
                let name = UnsafeBufferPointer(rebasing: bytes[pairStart..<(equals ?? pairEnd)])
                let value = equals.map { UnsafeBufferPointer(rebasing: bytes[($0 + 1)..<pairEnd]) }
                items.append(
                    QueryItem(
                        name: FormDecoding.percentDecoded(name),
                        value: value.map(FormDecoding.percentDecoded) ?? ""))
            }
            pairStart = pairEnd + 1
        }
        return (path, items)
    }

    /// The first value of a query parameter.
    public func queryValue(_ name: String) -> String? {
        self.queryItems.first(where: { $0.name == name })?.value
    }
}
