import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension HeavySuites {
    /// `siotape replay serve` against hostile clients (`tools/peers/hostile_client.py`, raw sockets):
    /// malformed HTTP, Engine.IO, Socket.IO and WebSocket input gets the rejection a real Engine.IO
    /// server gives (HTTP 400 with engine.io's JSON error, 413, a WebSocket close code, or a report;
    /// the Engine.IO statuses are checked against python-engineio in `HostileClientReferenceTests`),
    /// a well-formed session works afterwards, memory stays bounded under floods, and the server exits
    /// cleanly on SIGINT.
    ///
    /// The server runs with `--match events --keep-running` on the org-notify recording: CONNECTs
    /// before a client's first EVENT get a plain accept, so the healthy session after the hostile ones
    /// is answered whatever the hostile ones used up.
    @Suite(
        "siotape replay serve under hostile clients",
        .serialized,
        .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
    )
    struct ReplayServeHostileTests {
        /// Peak resident memory the server may reach. The floods send 256 MiB of pings to a client that
        /// never reads, 128 MiB of attachments to one packet, 4 MiB bodies and 1 MiB heads: a server
        /// without caps or backpressure goes far beyond.
        static let memoryLimitMiB = 100

        @Test("Broken request heads get 400 and a closed connection; an endless head is cut off")
        func requestHeads() async throws {
            let run = try await HostileServeRun.run("http-head")
            run.expectClean()
        }

        @Test("A head that never ends (under the size limit) and a silent connection are closed after --head-timeout")
        func stalledHeads() async throws {
            let run = try await HostileServeRun.run("stalled-head", extraArguments: ["--head-timeout", "1"])
            run.expectClean()
        }

        @Test("Engine.IO requests it cannot serve get engine.io's status and JSON error code")
        func engineIORequests() async throws {
            let run = try await HostileServeRun.run("engineio-http")
            run.expectClean()
        }

        @Test("Bad Content-Length, oversized and chunked bodies, two GETs at once on one sid")
        func requestBodies() async throws {
            let run = try await HostileServeRun.run("http-body")
            run.expectClean()
        }

        @Test("Malformed polling payloads (v4 and v3) are answered and counted as unmatched")
        func malformedPayloads() async throws {
            let run = try await HostileServeRun.run("payloads", extraArguments: ["--on-unmatched", "fail"])
            run.expectClean(status: 1)
            #expect(run.stderr.contains("not Engine.IO"), "no report of the malformed payloads:\n\(run.stderr.suffix(3000))")
            // 5 malformed v4 bodies and 2 messages that are not Socket.IO, 12 malformed v3 bodies.
            #expect(run.unmatched == 19 && run.summary.contains("(19 malformed)"), "\(run.summary)")
        }

        @Test("Malformed Socket.IO packets and attachments are reported as unmatched, not answered")
        func malformedSocketIO() async throws {
            let run = try await HostileServeRun.run("socketio")
            run.expectClean()
            #expect(run.stderr.contains("not Socket.IO"), "\(run.stderr.suffix(3000))")
            #expect(run.stderr.contains("a binary message no packet announced"), "\(run.stderr.suffix(3000))")
            // The 10 undecodable Socket.IO packets, 2 Engine.IO ones and the 2 stray binaries are
            // malformed; the event sent to pair the session, the CONNECT to /nowhere and the two packets
            // that lack attachments are unmatched too: 18.
            #expect(run.stderr.contains("not Engine.IO"), "\(run.stderr.suffix(3000))")
            #expect(run.summary.contains("(14 malformed)") && run.unmatched == 18, "\(run.summary)")
        }

        @Test("WebSocket protocol errors close with 1002, 1007 or 1009; fragments with pings between them work")
        func webSocketProtocolErrors() async throws {
            let run = try await HostileServeRun.run("websocket")
            run.expectClean()
        }

        @Test("Floods: a client that never reads, hoarded attachments, thousands of sessions; memory stays bounded")
        func floods() async throws {
            let run = try await HostileServeRun.run(
                "flood", marks: ["pings-sent", "attachments-sent", "sessions-opened"])
            run.expectClean()
            for (mark, peak) in run.peaks {
                print("ReplayServeHostileTests flood: peak memory of replay serve at \(mark): \(peak) MiB")
            }
            let peak = run.peaks.map(\.peakMiB).max() ?? -1
            #expect(peak > 0 && peak < Self.memoryLimitMiB, "peak memory of replay serve: \(run.peaks)")
        }
    }
}

/// One scenario of `hostile_client.py` against a fresh `replay serve`, stopped with SIGINT after.
struct HostileServeRun {
    var failures: [String]
    var status: Int32?
    var summary: String
    var stderr: String
    /// `VmHWM` of the server at each mark the client reached.
    var peaks: [(mark: String, peakMiB: Int)]
    /// Whether the server was still running when the client had finished.
    var survived: Bool

    /// The unmatched count of the summary line (`N client packet(s) matched, M unmatched`).
    var unmatched: Int {
        guard let range = summary.range(of: #"\d+ unmatched"#, options: .regularExpression) else { return -1 }
        return Int(summary[range].split(separator: " ")[0]) ?? -1
    }

    static func run(
        _ scenario: String, extraArguments: [String] = [], marks: [String] = []
    ) async throws -> HostileServeRun {
        let environment = try #require(PeerEnvironment.current)
        signal(SIGPIPE, SIG_IGN)
        let server = try await ReplayServe.start(
            recording: ReplayServe.sample("org-notify", in: environment), in: environment,
            extraArguments: ["--match", "events", "--keep-running"] + extraArguments)
        defer { server.terminate() }
        let client = try Subprocess(
            name: "hostile_client.py \(scenario)", executable: environment.python5,
            arguments: [environment.script("hostile_client.py"), "--url", server.url, "--scenario", scenario],
            withStdin: true)
        var peaks: [(String, Int)] = []
        for mark in marks {
            let marker = "MARK \(mark)\n"
            let snapshot = await client.stdout.wait(timeout: .seconds(300)) { $0.text.contains(marker) || $0.closed }
            guard snapshot?.text.contains(marker) == true else {
                throw PeerError("hostile_client.py never reached \(mark)\(client.diagnostics)\(server.process.diagnostics)")
            }
            peaks.append((mark, ProcessMemory.peakMiB(of: server.process.processIdentifier)))
            try client.send(line: "GO")
        }
        let output = try await client.output(timeout: .seconds(300))
        guard let last = output.split(separator: "\n").last,
            let report = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any],
            let failures = report["failures"] as? [String]
        else { throw PeerError("hostile_client.py: no report in \(output.suffix(2000))") }
        let survived = server.process.terminationStatus == nil
        kill(server.process.processIdentifier, SIGINT)
        let exit = await server.process.exitStatusAndOutput(timeout: .seconds(30))
        let stderr = server.process.stderr.snapshot.text
        let summary = stderr.split(separator: "\n").last { $0.contains("replay summary") }.map(String.init) ?? ""
        return HostileServeRun(
            failures: failures, status: exit?.status, summary: summary, stderr: stderr, peaks: peaks, survived: survived)
    }

    /// No check of the client failed, the server survived and exited with `status` on SIGINT.
    func expectClean(status expected: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))", sourceLocation: sourceLocation)
        #expect(survived, "replay serve died during the hostile traffic:\n\(stderr.suffix(3000))", sourceLocation: sourceLocation)
        #expect(
            status == expected, "replay serve exited \(status.map(String.init) ?? "never") after SIGINT:\n\(stderr.suffix(3000))",
            sourceLocation: sourceLocation)
        #expect(!summary.isEmpty, "no summary line:\n\(stderr.suffix(3000))", sourceLocation: sourceLocation)
    }
}
