import Foundation
import Testing

/// What `tools/peers/hostile_client.py` expects of "an Engine.IO server" (the answers replay serve
/// must give in `ReplayServeHostileTests`), checked against a real one: python-engineio
/// (`tools/peers/engineio_reference.py`, python-socketio's AsyncServer on aiohttp) with the client's
/// `--reference` mode, so that the expectations are not our own invention. Where python-engineio and
/// engine.io (Node, which siotape follows) differ, the client's checks name python-engineio's
/// answer; engine.io's JSON bodies come from its source and the Node captures.
@Suite(
    "hostile_client.py's Engine.IO expectations hold against python-engineio",
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct HostileClientReferenceTests {
    @Test("Unknown versions, transports and sids, stale sessions, polling across the upgrade: python-engineio answers as expected")
    func engineIORequests() async throws {
        let environment = try #require(PeerEnvironment.current)
        let server = try Subprocess(
            name: "engineio_reference.py", executable: environment.python5,
            arguments: [environment.script("engineio_reference.py")])
        defer { server.terminate() }
        let line = try await server.firstLine(timeout: Peers.readyTimeout)
        let port = try #require(line.hasPrefix("READY ") ? Int(line.dropFirst("READY ".count)) : nil, "\(line)")
        let client = try Subprocess(
            name: "hostile_client.py --reference engineio-http", executable: environment.python5,
            arguments: [
                environment.script("hostile_client.py"), "--reference", "--url", "http://127.0.0.1:\(port)",
                "--scenario", "engineio-http",
            ])
        let output = try await client.output(timeout: .seconds(120))
        let last = try #require(output.split(separator: "\n").last, "no report from hostile_client.py")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "\(last)")
        let failures = try #require(report["failures"] as? [String], "\(last)")
        #expect(report["scenario"] as? String == "engineio-http")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
