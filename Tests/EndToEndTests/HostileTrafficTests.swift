import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

/// Malformed and hostile traffic through `siotape record`, on both sides (`tools/peers/hostile.py`
/// plays the client and the upstream): every byte is relayed as sent, what does not decode is
/// recorded raw with the reason, decoder memory stays capped, and a normal session works afterwards.
@Suite(
    "Hostile traffic through siotape record",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct HostileTrafficTests {
    /// Peak resident memory the proxy may reach in these scenarios. The traffic includes 20 MiB
    /// messages, a 17 MiB body and a deflate bomb of 2 GiB: a decoder without caps, or a relay
    /// without backpressure, goes far beyond.
    static let memoryLimitMiB = 160

    @Test("Malformed Engine.IO packets over WebSocket are relayed and recorded raw")
    func engineIOWebSocket() async throws {
        let records = try await Self.run("engineio-websocket")
        for direction in [Direction.clientToServer, .serverToClient] {
            expectRaw(records, .engineIO, direction, reason: "unknown")
            expectRaw(records, .engineIO, direction, reason: "empty")
            #expect(records.undecodable.filter { $0.layer == .engineIO && $0.direction == direction }.count >= 5)
        }
    }

    @Test("Malformed Socket.IO packets are relayed and recorded raw; attachments are capped")
    func socketIOWebSocket() async throws {
        let records = try await Self.run("socketio-websocket")
        for direction in [Direction.clientToServer, .serverToClient] {
            let raw = records.undecodable.filter { $0.layer == .socketIO && $0.direction == direction }
            // 9 malformed packets and the stray attachment.
            #expect(raw.count >= 10, "\(direction): \(raw.map(\.reason))")
            expectRaw(records, .socketIO, direction, reason: "no packet waiting")
            #expect(records.events(direction).contains("bin"))
            #expect(records.events(direction).contains("next"))
        }
        #expect(records.notes.contains { $0.message.contains("got 1 of 2 attachments") }, "\(records.notes)")
        #expect(records.notes.contains { $0.message.contains("hoard") && $0.message.contains("limit") },
                "a packet announcing 100000 attachments hoarded them: \(records.notes.map(\.message))")
    }

    @Test("Text frames that are not UTF-8 are recorded raw with their exact bytes")
    func invalidUTF8() async throws {
        let records = try await Self.run("invalid-utf8")
        // As sent; a packet that failed at the Socket.IO layer is kept without the Engine.IO `4`.
        let sent: [[UInt8]] = [
            Array("42[\"".utf8) + [0xFF, 0xFE] + Array("\"]".utf8), [0x34, 0xC3, 0x28], [0x39, 0xED, 0xA0, 0x80],
        ]
        for direction in [Direction.clientToServer, .serverToClient] {
            let kept = records.undecodable.filter { $0.direction == direction }.map { raw -> [UInt8] in
                switch raw.data {
                case .binary(let buffer): return Array(buffer.readableBytesView)
                case .text(let text): return Array(text.utf8)
                }
            }
            for bytes in sent {
                let found = kept.contains { $0 == bytes || (bytes.first == 0x34 && $0 == Array(bytes.dropFirst())) }
                #expect(found, "\(direction): \(bytes) not recorded exactly; raw records hold \(kept)")
            }
        }
    }

    @Test("Fragments with control frames between them are joined; a broken sequence is recorded")
    func fragments() async throws {
        let records = try await Self.run("fragments")
        for direction in [Direction.clientToServer, .serverToClient] {
            #expect(records.eventArguments("fragmented", direction) == [#"["fragmented",1]"#])
            expectRaw(records, .webSocket, direction, reason: "before the fragmented message was finished")
        }
    }

    @Test("Oversized frames, bodies and heads are relayed whole and recorded as too large")
    func oversized() async throws {
        let records = try await Self.run("oversized")
        for direction in [Direction.clientToServer, .serverToClient] {
            expectRaw(records, .webSocket, direction, reason: "exceeds the limit")
            #expect(records.events(direction).contains("small"), "decoding did not resume after the big message")
        }
        expectRaw(records, .payload, .clientToServer, reason: "exceeds")
        expectRaw(records, .http, .clientToServer, reason: "head longer than")
    }

    @Test("A permessage-deflate bomb (2 MiB inflating to 2 GiB) is relayed; memory and inflation work stay capped")
    func deflateBomb() async throws {
        let records = try await Self.run("deflate-bomb")
        for direction in [Direction.clientToServer, .serverToClient] {
            // Inflated only to 4 x the message limit, not to 2 GiB: the direction is then given up
            // (its compression context is lost), and the message after it is relayed undecoded.
            expectRaw(records, .webSocket, direction, reason: "the rest of this direction is not decoded")
            #expect(!records.events(direction).contains("after-bomb"))
        }
    }

    @Test("Malformed and compressed polling bodies: relayed, decoded where possible, raw otherwise")
    func polling() async throws {
        let records = try await Self.run("polling")
        for direction in [Direction.clientToServer, .serverToClient] {
            let raw = records.undecodable.filter { $0.layer == .payload && $0.direction == direction }
            #expect(raw.count >= 8, "\(direction): \(raw.map(\.reason))")
            #expect(records.events(direction).contains("a"))
        }
        // Content-Encoding is undone before decoding (python-engineio compresses large answers).
        #expect(records.events(.serverToClient).contains("gzipped"))
        #expect(records.events(.serverToClient).contains("second"))
        #expect(records.events(.serverToClient).contains("deflated"))
        #expect(records.undecodable.contains { $0.reason.contains("gzip") }, "broken gzip not recorded")
        #expect(records.undecodable.contains { $0.reason.contains("exceeds") && $0.direction == .serverToClient },
                "the gzip bomb was not recorded as too large")
        expectRaw(records, .http, .clientToServer, reason: "not an HTTP request")
        expectRaw(records, .http, .serverToClient, reason: "not an HTTP response")
    }

    /// Runs a scenario, checks the relay was exact, memory capped, and the session after it decoded.
    static func run(_ scenario: String) async throws -> [Record] {
        let environment = try #require(PeerEnvironment.current)
        let run = try await HostileRun.start(scenario, in: environment)
        defer { run.proxy.terminate() }
        let failures = try await run.failures()
        #expect(failures.isEmpty, "the proxy did not relay the bytes as sent:\n\(failures.joined(separator: "\n"))")
        let peak = run.proxyPeakMiB
        #expect(peak > 0 && peak < memoryLimitMiB, "peak memory of the proxy: \(peak) MiB")
        print("HostileTrafficTests \(scenario): peak memory of the proxy \(peak) MiB")
        let records = try run.stopAndRead()
        for direction in [Direction.clientToServer, .serverToClient] {
            #expect(records.eventArguments("after", direction) == [#"["after","\#(scenario)"]"#],
                    "\(direction): the session after the hostile traffic was not recorded")
        }
        return records
    }
}
