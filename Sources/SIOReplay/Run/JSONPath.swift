import SIOWire

/// A JSON path naming values that a comparison ignores: `$.timestamp`, `$..id`, `$[1].messageId`,
/// `$[*].ts`, `$['odd key']`.
///
/// The root `$` is a packet's JSON payload as on the wire: for an EVENT the array
/// `["name", arg1, ...]` (so `$[1]` is the first argument), for an ACK the array of the ack's
/// arguments, for a CONNECT or CONNECT_ERROR the object.
package struct JSONPath: Hashable, Sendable, CustomStringConvertible {
    enum Segment: Hashable, Sendable {
        case key(String)
        case index(Int)
        case wildcard
        /// `..name`: `name` at any depth below (or at) this point.
        case descendant(String)
    }

    let segments: [Segment]
    package let description: String

    package struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        package var path: String
        package var reason: String
        package var description: String { "invalid JSON path '\(self.path)': \(self.reason)" }
    }

    package init(_ text: String) throws(ParseError) {
        self.description = text
        var chars = Substring(text)
        guard chars.first == "$" else { throw ParseError(path: text, reason: "it must start with $") }
        chars = chars.dropFirst()
        var segments: [Segment] = []
        func name(_ s: inout Substring) -> String {
            let n = s.prefix { $0 != "." && $0 != "[" }
            s = s.dropFirst(n.count)
            return String(n)
        }
        while let c = chars.first {
            if chars.hasPrefix("..") {
                chars = chars.dropFirst(2)
                let n = name(&chars)
                guard !n.isEmpty else { throw ParseError(path: text, reason: "a name must follow '..'") }
                segments.append(n == "*" ? .wildcard : .descendant(n))
            } else if c == "." {
                chars = chars.dropFirst()
                let n = name(&chars)
                guard !n.isEmpty else { throw ParseError(path: text, reason: "a name must follow '.'") }
                segments.append(n == "*" ? .wildcard : .key(n))
            } else if c == "[" {
                guard let close = chars.firstIndex(of: "]") else {
                    throw ParseError(path: text, reason: "'[' without ']'")
                }
                let inner = chars[chars.index(after: chars.startIndex)..<close]
                chars = chars[chars.index(after: close)...]
                if inner == "*" {
                    segments.append(.wildcard)
                } else if let i = Int(inner), i >= 0 {
                    segments.append(.index(i))
                } else if inner.count >= 2, let q = inner.first, q == "'" || q == "\"", inner.last == q {
                    segments.append(.key(String(inner.dropFirst().dropLast())))
                } else {
                    throw ParseError(path: text, reason: "'[\(inner)]' is neither an index, * nor a quoted name")
                }
            } else {
                throw ParseError(path: text, reason: "unexpected '\(c)'")
            }
        }
        self.segments = segments
    }

    /// `value` with every node this path selects replaced by `.ignored`.
    package func ignoring(in value: JSONValue) -> JSONValue {
        Self.apply(self.segments[...], to: value)
    }

    private static func apply(_ segments: ArraySlice<Segment>, to value: JSONValue) -> JSONValue {
        guard let first = segments.first else { return .ignored }
        let rest = segments.dropFirst()
        switch (first, value) {
        case (.key(let k), .object(var o)):
            // An ignored member is removed, so that it may also be absent on one side.
            if let child = o[k] { o[k] = rest.isEmpty ? nil : apply(rest, to: child) }
            return .object(o)
        case (.index(let i), .array(var a)):
            if i < a.count { a[i] = apply(rest, to: a[i]) }
            return .array(a)
        case (.wildcard, .array(let a)):
            return .array(a.map { apply(rest, to: $0) })
        case (.wildcard, .object(let o)):
            return .object(o.mapValues { apply(rest, to: $0) })
        case (.descendant(let k), .object(var o)):
            for (key, child) in o {
                var updated = apply(segments, to: child)
                if key == k { updated = apply(rest, to: updated) }
                o[key] = key == k && rest.isEmpty ? nil : updated
            }
            return .object(o)
        case (.descendant, .array(let a)):
            return .array(a.map { apply(segments, to: $0) })
        default:
            return value
        }
    }
}
