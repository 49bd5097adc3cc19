import Foundation
import Testing

/// client → tee1 → siotape record → tee2 → server, each tee (`tools/peers/tcp_tee.py`) logging the
/// exact bytes of every TCP connection: what the upstream receives is what the client sent, plus
/// the `X-Forwarded-*` lines, and what the client receives is what the upstream sent.
@Suite(
    "Byte transparency of siotape record",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct ByteTransparencyTests {
    @Test("Bytes are relayed untouched both ways, except the added X-Forwarded lines",
          arguments: ClientTransport.allCases)
    func bytesAreRelayedUntouched(_ transport: ClientTransport) async throws {
        let environment = try #require(PeerEnvironment.current)
        let server = try await Peers.startServer(.sio5, in: environment)
        defer { server.terminate() }
        let directory = try temporaryRecordingURL("tee").deletingLastPathComponent()
        let tee2Log = directory.appendingPathComponent("tee2.json")
        let tee2 = try await Tee.start(targetPort: server.port, log: tee2Log, in: environment)
        defer { tee2.terminate() }
        // Several event-loop threads for polling, where one session's requests arrive on connections
        // that may land on different threads; one thread for WebSocket; the default for the upgrade.
        let threads: [String] =
            switch transport {
            case .polling: ["--threads", "4"]
            case .websocket: ["--threads", "1"]
            case .default: []
            }
        let proxy = try await Proxy.start(
            upstreamURL: tee2.url, recording: directory.appendingPathComponent("rec.siotape.gz"), in: environment,
            extraArguments: threads)
        defer { proxy.terminate() }
        let tee1Log = directory.appendingPathComponent("tee1.json")
        let tee1 = try await Tee.start(targetPort: proxy.port, log: tee1Log, in: environment)
        defer { tee1.terminate() }

        let report = try await Peers.runClient(for: .sio5, url: tee1.url, transport: transport, in: environment)
        try Scenario.expectObservations(in: ScenarioReport(report), server: .sio5)

        // Client side first: once tee1 has seen every connection end, the proxy has passed on all
        // it received, and tee2 sees the upstream side of each end.
        try await Tee.waitUntilEveryConnectionEnded(tee1)
        try await Tee.waitUntilEveryConnectionEnded(tee2)
        tee1.terminate()
        tee2.terminate()
        let clientSide = try Tee.connections(in: tee1Log)
        let upstreamSide = try Tee.connections(in: tee2Log)
        #expect(clientSide.allSatisfy { $0.complete }, "a client connection did not end")
        #expect(upstreamSide.allSatisfy { $0.complete }, "an upstream connection did not end")
        try #require(!clientSide.isEmpty)

        // The client's Host, as it sent it (the python client names 127.0.0.1:<tee1 port>).
        let expectedHost = "127.0.0.1:\(tee1.port)"
        var requests = 0
        var upstreamAsSent: [TeeConnection] = []
        for connection in upstreamSide {
            let stripped = try ForwardedHeaders.strip(connection.clientToServer)
            requests += stripped.heads.count
            for head in stripped.heads {
                #expect(head.forwarded == [
                    "X-Forwarded-For: 127.0.0.1", "X-Forwarded-Proto: http", "X-Forwarded-Host: \(head.host ?? "?")",
                ], "request \(head.requestLine.debugDescription): wrong X-Forwarded lines \(head.forwarded)")
                #expect(head.host == expectedHost, "request \(head.requestLine.debugDescription): Host \(head.host ?? "none")")
                #expect(head.forwardedAtEnd, "request \(head.requestLine.debugDescription): X-Forwarded lines not at the end of the head")
            }
            upstreamAsSent.append(TeeConnection(clientToServer: stripped.bytes, serverToClient: connection.serverToClient, complete: true))
        }
        try #require(requests > 0)
        for connection in clientSide {
            #expect(!connection.clientToServer.contains(Array("X-Forwarded".utf8)),
                    "the client itself sent X-Forwarded headers: the test cannot tell them apart")
        }

        // Connections paired by content, not by order: the multisets of (c2s, s2c) are equal.
        let clientMultiset = Dictionary(clientSide.map { ($0.streams, 1) }, uniquingKeysWith: +)
        let upstreamMultiset = Dictionary(upstreamAsSent.map { ($0.streams, 1) }, uniquingKeysWith: +)
        #expect(clientMultiset == upstreamMultiset, """
            the bytes differ between the client side and the upstream side
            client side:
            \(clientSide.map(\.summary).joined(separator: "\n"))
            upstream side (X-Forwarded lines removed):
            \(upstreamAsSent.map(\.summary).joined(separator: "\n"))
            """)
    }
}

/// A running `tcp_tee.py`.
private enum Tee {
    static func start(targetPort: Int, log: URL, in environment: PeerEnvironment) async throws -> RunningPeer {
        let process = try Subprocess(
            name: "tcp_tee.py → \(targetPort)", executable: environment.python5,
            arguments: [environment.script("tcp_tee.py"), "--target-port", String(targetPort), "--log", log.path])
        let line = try await process.firstLine(timeout: Peers.readyTimeout)
        let words = line.split(separator: " ")
        guard words.count == 2, words[0] == "READY", let port = Int(words[1]) else {
            process.terminate()
            throw PeerError("tcp_tee.py: expected `READY <port>`, got \(line.debugDescription)")
        }
        return RunningPeer(process: process, port: port)
    }

    /// Waits until every connection the tee accepted has ended: as many `DONE <n>` lines as
    /// `OPEN <n>` lines on its stdout.
    static func waitUntilEveryConnectionEnded(_ tee: RunningPeer) async throws {
        let ended = await tee.process.stdout.wait(timeout: .seconds(30)) { snapshot in
            let lines = snapshot.text.split(separator: "\n")
            let opened = lines.count { $0.hasPrefix("OPEN ") }
            return snapshot.closed || (opened > 0 && lines.count { $0.hasPrefix("DONE ") } == opened)
        }
        guard ended != nil else {
            throw PeerError("\(tee.process.name): connections still open after 30 s\(tee.process.diagnostics)")
        }
    }

    /// The connections of a tee's log, written when it was terminated.
    static func connections(in log: URL) throws -> [TeeConnection] {
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: log)) as? [String: Any]
        guard let connections = document?["connections"] as? [[String: Any]] else {
            throw PeerError("\(log.path): no connections array")
        }
        return try connections.map { connection in
            guard let c2s = (connection["c2s"] as? String).flatMap({ Data(base64Encoded: $0) }),
                let s2c = (connection["s2c"] as? String).flatMap({ Data(base64Encoded: $0) }),
                let complete = connection["complete"] as? Bool
            else { throw PeerError("\(log.path): malformed connection \(connection)") }
            return TeeConnection(clientToServer: [UInt8](c2s), serverToClient: [UInt8](s2c), complete: complete)
        }
    }
}

private struct TeeConnection {
    struct Streams: Hashable {
        let clientToServer: [UInt8]
        let serverToClient: [UInt8]
    }

    let clientToServer: [UInt8]
    let serverToClient: [UInt8]
    let complete: Bool

    var streams: Streams { Streams(clientToServer: clientToServer, serverToClient: serverToClient) }

    var summary: String {
        let head = String(decoding: clientToServer.prefix(80), as: UTF8.self).debugDescription
        return "  c2s \(clientToServer.count) bytes \(head), s2c \(serverToClient.count) bytes"
    }
}

/// Takes the `X-Forwarded-*` lines out of the request heads of an upstream-side byte stream.
private enum ForwardedHeaders {
    struct Head {
        let requestLine: String
        let host: String?
        /// The `X-Forwarded-*` lines, in order.
        let forwarded: [String]
        /// They are the last lines of the head.
        let forwardedAtEnd: Bool
    }

    /// Walks the HTTP/1.1 requests of `bytes` (heads, `Content-Length` bodies); after a request
    /// that asks for an upgrade the rest is opaque WebSocket data.
    static func strip(_ bytes: [UInt8]) throws -> (bytes: [UInt8], heads: [Head]) {
        var output: [UInt8] = []
        var heads: [Head] = []
        var index = 0
        let terminator = Array("\r\n\r\n".utf8)
        while index < bytes.count {
            guard let end = bytes[index...].firstRange(of: terminator)?.upperBound else {
                throw PeerError("an incomplete request head: \(String(decoding: bytes[index...].prefix(200), as: UTF8.self))")
            }
            let lines = String(decoding: bytes[index..<(end - 4)], as: UTF8.self)
                .components(separatedBy: "\r\n")
            let isForwarded = { (line: String) in line.lowercased().hasPrefix("x-forwarded-") }
            let kept = lines.filter { !isForwarded($0) }
            let forwarded = lines.filter(isForwarded)
            let firstForwarded = lines.firstIndex(where: isForwarded) ?? lines.count
            let value = { (name: String) -> String? in
                kept.dropFirst().first { $0.lowercased().hasPrefix(name + ":") }
                    .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
            }
            heads.append(Head(
                requestLine: kept.first ?? "", host: value("host"), forwarded: forwarded,
                forwardedAtEnd: lines[firstForwarded...].allSatisfy(isForwarded)))
            output += Array((kept.joined(separator: "\r\n") + "\r\n\r\n").utf8)
            index = end
            if value("upgrade") != nil {
                output += bytes[index...]
                break
            }
            if value("transfer-encoding") != nil {
                throw PeerError("a chunked request: not supported by this test")
            }
            let length = Int(value("content-length") ?? "0") ?? 0
            output += bytes[index..<min(index + length, bytes.count)]
            index += length
        }
        return (output, heads)
    }
}
