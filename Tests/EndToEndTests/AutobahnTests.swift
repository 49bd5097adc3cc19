import Foundation
import Testing

extension HeavySuites {
    /// WebSocket conformance of the relay: Autobahn|Testsuite's fuzzingclient against a compliant
    /// aiohttp echo server, directly and through `siotape record` (`tools/autobahn/compare.py`). The
    /// proxy must not change a single verdict. `tools/test` installs the suite (Python 2.7 from pyenv)
    /// and sets `SIOTAPE_WSTEST`; without it the test is skipped.
    @Suite(
        "WebSocket conformance through siotape record (Autobahn|Testsuite)",
        .serialized,
        .enabled(
            if: PeerEnvironment.current != nil && ProcessInfo.processInfo.environment["SIOTAPE_WSTEST"] != nil,
            "SIOTAPE_WSTEST is not set: tools/test sets it when tools/autobahn/setup can install Autobahn|Testsuite")
    )
    struct AutobahnTests {
        @Test("The fast Autobahn cases (compression included) get the same verdicts direct and proxied")
        func sameVerdictsThroughTheProxy() async throws {
            let environment = try #require(PeerEnvironment.current)
            let wstest = try #require(ProcessInfo.processInfo.environment["SIOTAPE_WSTEST"])
            let siotape = try #require(environment.siotape)
            let script = URL(fileURLWithPath: environment.peers).deletingLastPathComponent()
                .appendingPathComponent("autobahn/compare.py").path
            let run = try Subprocess(
                name: "autobahn/compare.py", executable: environment.python5,
                arguments: [script, "--wstest", wstest, "--siotape", siotape, "--cases", "fast"])
            let finished = await run.exitStatusAndOutput(timeout: .seconds(900))
            let result = try #require(finished, "the Autobahn run did not finish\(run.diagnostics)")
            let line = try #require(result.stdout.split(separator: "\n").last, "no report\(run.diagnostics)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "bad report: \(line)")
            let cases = report["cases"] as? Int ?? 0
            let differences = report["differences"] as? [[String: Any]] ?? []
            print("AutobahnTests: \(cases) cases, verdicts \(report["direct"] ?? "?"), \(differences.count) differ")
            #expect(cases > 200, "only \(cases) cases ran\(run.diagnostics)")
            #expect(differences.isEmpty, "verdicts that differ through the proxy: \(differences)")
            #expect(result.status == 0, "compare.py exited \(result.status)\(run.diagnostics)")
        }
    }
}
