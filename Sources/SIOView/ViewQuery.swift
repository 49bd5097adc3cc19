import SIOInspect
import SIOWire

/// The query string of an API request, parsed: the packet filter (the same one `inspect` takes,
/// with the same names as its options), paging and sorting. The page keeps the same parameters
/// in its URL, so a view can be shared and survives a reload.
///
/// `session`, `namespace`, `event` and `type` repeat (any value matches); `dir` is `client` or
/// `server`; `text` is `--grep`; `since` and `until` are `inspect`'s time bounds (`1.5s`, `250ms`,
/// ISO-8601); `engine=1` shows Engine.IO records too.
package struct ViewQuery: Sendable {
    package var parameters: [(String, String)] = []
    package var filter = PacketFilter()
    package var since: TimeBound?
    package var until: TimeBound?
    package var offset = 0
    package var limit = 200
    package var sort = "start"
    /// Session list: text inside the sid or the client address.
    package var search = ""
    /// Live polling: the first sequence number wanted.
    package var after: Int64 = 0
    /// A packet's sequence number (`/api/packet`).
    package var sequence: Int64?

    package static let maxLimit = 5_000

    package struct Invalid: Error, CustomStringConvertible {
        package var description: String
    }

    package init() {}

    /// Parses `a=1&b=x%20y`; throws for values that cannot mean anything (bad time bound, direction).
    package init(query: Substring) throws(Invalid) {
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = FormDecoding.percentDecoded(parts[0])
            let value = parts.count > 1 ? FormDecoding.percentDecoded(parts[1]) : ""
            self.parameters.append((name, value))
            guard !value.isEmpty || name == "text" else { continue }
            switch name {
            case "session": self.filter.sessions.append(value)
            case "namespace", "nsp": self.filter.namespaces.append(value)
            case "event": self.filter.events.append(value)
            case "type": self.filter.types.append(value)
            case "text": if !value.isEmpty { self.filter.grep = value }
            case "dir":
                switch value {
                case "client", "c2s": self.filter.direction = .clientToServer
                case "server", "s2c": self.filter.direction = .serverToClient
                default: throw Invalid(description: "dir must be client or server, not \(value)")
                }
            case "since", "until":
                let bound: TimeBound
                do { bound = try TimeBound(parsing: value) } catch { throw Invalid(description: error.description) }
                if name == "since" { self.since = bound } else { self.until = bound }
            case "engine": self.filter.engine = value == "1" || value == "true"
            case "offset": self.offset = max(0, Int(value) ?? 0)
            case "limit": self.limit = min(Self.maxLimit, max(0, Int(value) ?? 200))
            case "sort": self.sort = value
            case "q": self.search = value
            case "after": self.after = Int64(value) ?? 0
            case "seq": self.sequence = Int64(value)
            default: break
            }
        }
    }

    /// The filter with its time bounds resolved against the recording's start.
    package func resolvedFilter(start: Int64) -> PacketFilter {
        var filter = self.filter
        filter.since = self.since?.resolve(start: start)
        filter.until = self.until?.resolve(start: start)
        return filter
    }

    /// What selects packets (not paging): the key of the cached match list.
    package var filterKey: String {
        let names: Set<String> = ["session", "namespace", "nsp", "event", "type", "text", "dir", "since", "until", "engine"]
        return self.parameters.filter { names.contains($0.0) }.map { "\($0.0)=\($0.1)" }.sorted().joined(separator: "&")
    }

}
