import Foundation
import SIORecording
import SIOWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension HeavySuites {
    /// Network faults around `siotape record` (`tools/peers/hostile.py` plays both sides): peers that
    /// die, reset, half-close, stall or flood with connections. The proxy relays what reaches it,
    /// passes each end on, stays up, and the recording says how every connection and session ended.
    @Suite(
        "Network faults around siotape record",
        .serialized,
        .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
    )
    struct NetworkFaultTests {
        @Test("The upstream closes mid-session: the client sees the end; the recording says who ended it")
        func upstreamDies() async throws {
            let records = try await Self.run("upstream-dies")
            #expect(records.events(.serverToClient).contains("last words"))
            #expect(records.sessionCloses.contains { $0.sid == "upstream-dies" && $0.cause.contains("upstream") },
                    "\(records.sessionCloses)")
            #expect(records.connectionCloses.contains { $0.cause == "upstream" }, "\(records.connectionCloses)")
        }

        @Test("The upstream resets mid-session: the client gets what was sent, then a reset; recorded as a reset")
        func upstreamResets() async throws {
            let records = try await Self.run("upstream-resets")
            #expect(records.connectionCloses.contains { $0.cause == "upstream reset" }, "\(records.connectionCloses)")
            #expect(records.sessionCloses.contains { $0.sid == "upstream-resets" && $0.cause.contains("upstream reset") },
                    "\(records.sessionCloses)")
        }

        @Test("The client resets mid-frame: the upstream gets what was sent, then a reset; recorded as a reset")
        func clientResets() async throws {
            let records = try await Self.run("client-resets")
            #expect(records.connectionCloses.contains { $0.cause == "client reset" }, "\(records.connectionCloses)")
            #expect(records.sessionCloses.contains { $0.sid == "client-resets" && $0.cause.contains("client reset") },
                    "\(records.sessionCloses)")
        }

        /// NIO learns of these resets from a send that fails, not from a read: it then closes the
        /// channel without `errorCaught`, and only the failed write's promise says it was a reset.
        /// The proxy is stopped (SIGSTOP) while the frame and then the RST reach it, so that its event
        /// loop finds the frame first and relays it into the reset socket.
        @Test(
            "A peer resets while it is being written to: the writer gets a reset, not an end",
            arguments: [("client-resets-while-written", "client"), ("upstream-resets-while-written", "upstream")])
        func resetFoundByAWrite(_ scenario: String, _ resetting: String) async throws {
            let environment = try #require(PeerEnvironment.current)
            let run = try await HostileRun.start(scenario, in: environment)
            let pid = run.proxy.process.processIdentifier
            defer {
                kill(pid, SIGCONT)
                run.proxy.terminate()
            }
            try await run.waitFor(mark: "stop-proxy")
            #expect(kill(pid, SIGSTOP) == 0)
            try run.go()
            try await run.waitFor(mark: "continue-proxy")
            #expect(kill(pid, SIGCONT) == 0)
            try run.go()
            let failures = try await run.failures()
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            let records = try run.stopAndRead()
            #expect(
                records.connectionCloses.contains { $0.cause == "\(resetting) reset" }, "\(records.connectionCloses)")
            #expect(records.eventArguments("after", .clientToServer).contains(#"["after","\#(scenario)"]"#),
                    "the session after the faults was not recorded")
        }

        @Test("Half-closed connections, both directions: the open direction keeps flowing", arguments: [
            "half-close-client", "half-close-upstream",
        ])
        func halfClose(_ scenario: String) async throws {
            let records = try await Self.run(scenario)
            let exchanges = records.compactMap { record -> Record.HTTPExchange? in
                if case .http(let exchange) = record.event, exchange.status == 200 { return exchange }
                return nil
            }
            #expect(!exchanges.isEmpty, "no complete exchange recorded")
            if scenario == "half-close-client" {
                #expect(records.events(.serverToClient).contains("half"), "the answer after the half-close was not decoded")
            }
        }

        /// Decision: `record` has no header timeout. A slow head costs the proxy at most its 64 KiB
        /// head buffer and two sockets; the upstream's connection is open from the start, so the
        /// upstream's own idle and header timeouts apply as they would without the proxy.
        @Test("Slowloris heads neither block other clients nor get cut off by the proxy")
        func slowloris() async throws {
            let records = try await Self.run("slowloris")
            #expect(records.events(.clientToServer).contains("after"))
            let answered = records.compactMap { record -> Record.HTTPExchange? in
                if case .http(let exchange) = record.event, exchange.status == 204 { return exchange }
                return nil
            }
            #expect(answered.count == 200)
            // The session during the slow heads came before any of them completed.
            let firstSlowAnswer = records.firstIndex { record in
                if case .http(let exchange) = record.event { return exchange.status == 204 }
                return false
            }
            let during = records.firstIndex { $0.socketPacket?.packet.eventName == "after" }
            #expect(during != nil && firstSlowAnswer != nil && during! < firstSlowAnswer!)
        }

        @Test("A client that never reads: the upstream is held back (backpressure), the proxy does not buffer")
        func clientNeverReads() async throws {
            let environment = try #require(PeerEnvironment.current)
            let run = try await HostileRun.start("never-reads", in: environment)
            defer { run.proxy.terminate() }
            try await run.waitFor(mark: "stalled")
            let stalledAt = run.peer.stdout.snapshot.text.split(separator: "\n")
                .compactMap { $0.hasPrefix("SENT ") ? Int($0.dropFirst(5)) : nil }.first ?? -1
            let rss = ProcessMemory.peakMiB(of: run.proxy.process.processIdentifier, field: "VmRSS")
            print("NetworkFaultTests never-reads: the upstream stalled after \(stalledAt) bytes; proxy RSS \(rss) MiB")
            try run.go()
            let failures = try await run.failures()
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            // 256 MiB were offered; socket buffers hold a few MiB, the proxy must hold little more.
            #expect(stalledAt < 64 << 20, "the upstream could push \(stalledAt) bytes to a client that does not read")
            #expect(rss > 0 && rss < 100, "the proxy's memory while the client did not read: \(rss) MiB")
            #expect(run.proxyPeakMiB < 100, "peak memory of the proxy: \(run.proxyPeakMiB) MiB")
            _ = try run.stopAndRead()
        }

        @Test("10,000 connections opened and dropped abruptly: the proxy stays up and records each end")
        func manyDroppedConnections() async throws {
            // Batches of 500: two sockets per connection in the proxy, whose descriptor limit is raised
            // by its launcher (the peer raises its own).
            let records = try await Self.run(
                "many-connections", proxyLauncher: ["/bin/sh", "-c", "ulimit -n 8192 2>/dev/null; exec \"$@\"", "sh"])
            let closes = records.connectionCloses
            #expect(closes.count >= 10_001, "conn_close records: \(closes.count)")
            let opened = Set(records.compactMap { record -> UInt64? in
                if case .connectionOpened(let open) = record.event { return open.connection }
                return nil
            })
            #expect(Set(closes.map(\.connection)) == opened, "a connection has no conn_close record")
            let causes = Set(closes.map(\.cause))
            #expect(causes.isSubset(of: ["client", "client reset", "upstream"]), "unexpected causes: \(causes)")
            #expect(causes.contains("client reset"))
        }

        /// Runs a fault scenario: the peer's byte checks pass and the session afterwards is recorded.
        static func run(_ scenario: String, proxyLauncher: [String] = []) async throws -> [Record] {
            let environment = try #require(PeerEnvironment.current)
            let run = try await HostileRun.start(scenario, in: environment, proxyLauncher: proxyLauncher)
            defer { run.proxy.terminate() }
            let failures = try await run.failures()
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            let records = try run.stopAndRead()
            #expect(records.eventArguments("after", .clientToServer).contains(#"["after","\#(scenario)"]"#),
                    "the session after the faults was not recorded")
            return records
        }
    }
}
