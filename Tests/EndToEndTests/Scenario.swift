import Foundation
import Testing

/// A JSON value, for comparing what `client.py` reports with what the scenario expects.
enum JSONValue: Equatable, Sendable, Decodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    init(parsing text: String) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let value): value == value.rounded() ? "\(Int(value))" : "\(value)"
        case .string(let value): value.debugDescription
        case .array(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .object(let members):
            "{" + members.sorted { $0.key < $1.key }.map { "\($0.key.debugDescription): \($0.value)" }
                .joined(separator: ", ") + "}"
        }
    }
}

/// What `tools/peers/client.py` reports: per client (A, B, C), the scenario steps in order, each
/// with its observations `[namespace, kind, name, args]` sorted.
struct ScenarioReport {
    let json: JSONValue

    init(_ text: String) throws {
        json = try JSONValue(parsing: text)
    }

    func steps(of client: String) -> [String] {
        (json["clients"]?[client]?.arrayValue ?? []).compactMap {
            if case .string(let step)? = $0["step"] { step } else { nil }
        }
    }

    func observed(_ client: String, step: String) -> [JSONValue] {
        let block = json["clients"]?[client]?.arrayValue?.first { $0["step"] == .string(step) }
        return block?["observed"]?.arrayValue ?? []
    }
}

/// What every client must observe, whatever the server and transport.
enum Scenario {
    static let bytes1 = #"{"bytes": "000102ff"}"#
    static let bytes2 = #"{"bytes": "\#(String(repeating: "000102030405060708090a0b0c0d0e0f", count: 4))"}"#

    /// `(client, step, observation)` that must be in a report; the CONNECT_ERROR payload differs
    /// between Socket.IO v5 (an object) and v4 (a string). `echoAuth`: the server's `welcome`
    /// carries the CONNECT auth (not with `server_*.py --no-echo-auth`).
    static func expectations(for kind: ServerKind, echoAuth: Bool = true) -> [(String, String, String)] {
        let refusal = kind.isEngineIO3 ? #"["Not authorized"]"# : #"[{"message": "Not authorized"}]"#
        var expected: [(String, String, String)] = []
        for client in ["A", "B"] {
            for namespace in ["/", "/admin"] {
                expected += [
                    (client, "connect", #"["\#(namespace)", "connect", null, []]"#),
                    echoAuth
                        ? (client, "connect", #"["\#(namespace)", "event", "welcome", [{"namespace": "\#(namespace)", "auth": {"token": "secret"}}]]"#)
                        : (client, "connect", #"["\#(namespace)", "event", "welcome", [{"namespace": "\#(namespace)"}]]"#),
                ]
            }
            expected += [
                (client, "room", #"["/", "ack", "join", ["joined", "lobby"]]"#),
                (client, "room", #"["/", "event", "shouted", [{"room": "lobby", "msg": "hi all"}]]"#),
            ]
        }
        expected += [
            ("C", "connect", #"["/admin", "connect_error", null, \#(refusal)]"#),
            ("A", "echo", #"["/", "ack", "echo", ["hello", {"k": "€", "n": [1, 2.5, null, true]}, 7]]"#),
            ("A", "echo", #"["/admin", "ack", "echo", [7]]"#),
            ("A", "notify", #"["/", "event", "notified", [{"n": 1}]]"#),
            ("A", "binary", #"["/", "event", "binary-back", [\#(bytes1), \#(bytes2)]]"#),
            ("A", "binary", #"["/", "ack", "binary", [[\#(bytes1), \#(bytes2)], 2]]"#),
            ("A", "server-ack", #"["/", "event", "need-ack", [{"q": "answer me"}]]"#),
            ("A", "server-ack", #"["/", "event", "got-client-ack", [["answer", {"to": {"q": "answer me"}}]]]"#),
            ("A", "bye", #"["/admin", "disconnect", null, []]"#),
        ]
        return expected
    }

    /// Records an issue for every expected observation missing from `report`.
    static func expectObservations(
        in report: ScenarioReport,
        server kind: ServerKind,
        echoAuth: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(report.steps(of: "A") == ["connect", "echo", "notify", "binary", "server-ack", "room", "bye"],
                sourceLocation: sourceLocation)
        #expect(report.steps(of: "B") == ["connect", "room"], sourceLocation: sourceLocation)
        #expect(report.steps(of: "C") == ["connect"], sourceLocation: sourceLocation)
        for (client, step, text) in expectations(for: kind, echoAuth: echoAuth) {
            let expected = try JSONValue(parsing: text)
            let observed = report.observed(client, step: step)
            #expect(observed.contains(expected),
                    "client \(client), step \(step): missing \(expected); observed \(observed)",
                    sourceLocation: sourceLocation)
        }
    }
}
