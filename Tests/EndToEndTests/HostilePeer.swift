import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `tools/peers/hostile.py` playing both the client and the upstream of a `siotape record`, with
/// raw sockets: it checks byte for byte that the proxy relays what each side sent.
struct HostileRun {
    let peer: Subprocess
    let proxy: RunningPeer
    let recording: URL

    /// Starts the peer, the proxy in front of it, and tells the peer where the proxy listens.
    static func start(
        _ scenario: String, in environment: PeerEnvironment, proxyArguments: [String] = [],
        proxyLauncher: [String] = []
    ) async throws -> HostileRun {
        signal(SIGPIPE, SIG_IGN)  // a peer that died must fail the test, not kill the runner
        let peer = try Subprocess(
            name: "hostile.py \(scenario)", executable: environment.python5,
            arguments: [environment.script("hostile.py"), "--scenario", scenario], withStdin: true)
        let line = try await peer.firstLine(timeout: Peers.readyTimeout)
        let words = line.split(separator: " ")
        guard words.count == 2, words[0] == "READY", let port = Int(words[1]) else {
            peer.terminate()
            throw PeerError("hostile.py: expected `READY <port>`, got \(line.debugDescription)")
        }
        let recording = try temporaryRecordingURL("hostile-\(scenario)")
        let proxy = try await Proxy.start(
            upstreamURL: "http://127.0.0.1:\(port)", recording: recording, in: environment,
            extraArguments: proxyArguments, launcher: proxyLauncher)
        try peer.send(line: "PROXY \(proxy.port)")
        return HostileRun(peer: peer, proxy: proxy, recording: recording)
    }

    /// Waits for `MARK <name>` on the peer's stdout (the peer then waits for `go()`).
    func waitFor(mark name: String, timeout: Duration = .seconds(300)) async throws {
        let marker = "MARK \(name)\n"
        let snapshot = await peer.stdout.wait(timeout: timeout) { $0.text.contains(marker) || $0.closed }
        guard snapshot?.text.contains(marker) == true else {
            throw PeerError("hostile.py never reached \(name)\(peer.diagnostics)\(proxy.process.diagnostics)")
        }
    }

    func go() throws { try peer.send(line: "GO") }

    /// Waits for the peer's report and returns the mismatches it found (empty: every byte relayed).
    func failures(timeout: Duration = .seconds(600)) async throws -> [String] {
        let output = try await peer.output(timeout: timeout)
        guard let last = output.split(separator: "\n").last,
            let report = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any],
            let failures = report["failures"] as? [String]
        else { throw PeerError("hostile.py: no report in \(output.suffix(2000))") }
        return failures
    }

    /// The proxy's peak resident memory so far (`VmHWM`), in MiB.
    var proxyPeakMiB: Int { ProcessMemory.peakMiB(of: proxy.process.processIdentifier) }

    /// Stops the proxy (SIGTERM: it closes the recording) and reads the recording.
    func stopAndRead() throws -> [Record] {
        // The relay does not wait for the capture: when the peer is done, a debug build may still be
        // decoding and encoding what it relayed last (16 MiB of attachments in one record, say), and
        // it writes all of it before it exits.
        proxy.process.terminate(killAfter: .seconds(60))
        return try readRecording(recording)
    }
}

enum ProcessMemory {
    /// A `VmHWM`/`VmRSS` line of `/proc/<pid>/status`, in MiB (-1 if unreadable).
    static func peakMiB(of pid: Int32, field: String = "VmHWM") -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return -1 }
        return kib / 1024
    }
}

/// What the tests look for in a recording.
extension Array where Element == Record {
    var undecodable: [Record.Undecodable] {
        compactMap { if case .undecodable(let raw) = $0.event { return raw } else { return nil } }
    }

    var notes: [Record.Note] {
        compactMap { if case .note(let note) = $0.event { return note } else { return nil } }
    }

    var connectionCloses: [Record.ConnectionClosed] {
        compactMap { if case .connectionClosed(let close) = $0.event { return close } else { return nil } }
    }

    var sessionCloses: [Record.SessionClosed] {
        compactMap { if case .sessionClosed(let close) = $0.event { return close } else { return nil } }
    }

    /// Event names of the decoded Socket.IO EVENTs in one direction.
    func events(_ direction: Direction) -> [String] {
        compactMap { record in
            guard let packet = record.socketPacket, packet.direction == direction else { return nil }
            return packet.packet.eventName
        }
    }

    /// The JSON arguments of decoded EVENTs named `name` in one direction, as the wire had them.
    func eventArguments(_ name: String, _ direction: Direction) -> [String] {
        compactMap { record in
            guard let packet = record.socketPacket, packet.direction == direction, packet.packet.eventName == name
            else { return nil }
            return packet.packet.json.map { String(buffer: $0) }
        }
    }

    /// Whether a raw record of this layer and direction gives a reason containing `reason`.
    func hasRaw(_ layer: Record.Undecodable.Layer, _ direction: Direction, reason: String) -> Bool {
        undecodable.contains { $0.layer == layer && $0.direction == direction && $0.reason.contains(reason) }
    }

    /// The raw records, one line each, for failure messages.
    var rawSummary: String {
        undecodable.map { "\($0.direction) \($0.layer): \($0.reason)" }.joined(separator: "\n")
    }
}

/// Expects a raw record of this layer and direction whose reason contains `reason`; on failure
/// lists the raw records (not the whole recording).
func expectRaw(
    _ records: [Record], _ layer: Record.Undecodable.Layer, _ direction: Direction, reason: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let found = records.hasRaw(layer, direction, reason: reason)
    #expect(
        found, "no \(layer) raw record (\(direction)) saying '\(reason)'; raw records:\n\(records.rawSummary)",
        sourceLocation: sourceLocation)
}
