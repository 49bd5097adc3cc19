import Testing

/// A server of `tools/peers` and a transport of `client.py`.
struct ScenarioCombination: Sendable, CustomTestStringConvertible {
    let server: ServerKind
    let transport: ClientTransport

    static let all = ServerKind.allCases.flatMap { server in
        ClientTransport.allCases.map { ScenarioCombination(server: server, transport: $0) }
    }

    var testDescription: String { "\(server.rawValue) over \(transport.rawValue)" }
}

/// The peers themselves, without the proxy: the baseline every proxied run is compared with.
@Suite(
    "Scenario between real peers, connected directly",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct DirectScenarioTests {
    @Test("Two runs observe the same, and what the scenario expects", arguments: ScenarioCombination.all)
    func directRunsAreDeterministic(_ combination: ScenarioCombination) async throws {
        let environment = try #require(PeerEnvironment.current)
        let server = try await Peers.startServer(combination.server, in: environment)
        defer { server.terminate() }

        let first = try await Peers.runClient(
            for: combination.server, url: server.url, transport: combination.transport, in: environment)
        let second = try await Peers.runClient(
            for: combination.server, url: server.url, transport: combination.transport, in: environment)

        #expect(first == second, "two runs against the same server observed different things")
        try Scenario.expectObservations(in: ScenarioReport(first), server: combination.server)
    }

    @Test("permessage-deflate is negotiated with the aiohttp server")
    func deflateClientNegotiates() async throws {
        let environment = try #require(PeerEnvironment.current)
        let server = try await Peers.startServer(.sio5, in: environment)
        defer { server.terminate() }

        let report = try JSONValue(parsing: try await Peers.runDeflateClient(url: server.url, in: environment))
        #expect(report["extensions"] == .string("permessage-deflate"))
        #expect(report["echo_ok"] == .bool(true))
    }
}
