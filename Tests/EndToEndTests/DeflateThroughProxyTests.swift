import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

/// A client that negotiates permessage-deflate (aiohttp, `ws_deflate_client.py`) through
/// `siotape record` to the aiohttp server of python-socketio 5, which accepts it.
@Suite(
    "permessage-deflate through siotape record",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct DeflateThroughProxyTests {
    @Test("The client negotiates deflate as directly; the recording holds the inflated packets verbatim")
    func deflateIsRelayedAndDecoded() async throws {
        let environment = try #require(PeerEnvironment.current)
        let server = try await Peers.startServer(.sio5, in: environment)
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("deflate")
        let proxy = try await Proxy.start(upstream: server, recording: recording, in: environment)
        defer { proxy.terminate() }

        let proxiedText = try await Peers.runDeflateClient(url: proxy.url, in: environment)
        let directText = try await Peers.runDeflateClient(url: server.url, in: environment)
        proxy.terminate()  // SIGTERM: the proxy closes the recording properly

        let proxied = try JSONValue(parsing: proxiedText)
        let direct = try JSONValue(parsing: directText)
        #expect(proxied == direct, "the client observed something different through the proxy")
        #expect(proxied["extensions"] == .string("permessage-deflate"))
        #expect(proxied["echo_ok"] == .bool(true))

        // What the client sent and received, as Engine.IO text frames: `40`, `421[...]` / `40{...}`, `431[...]`.
        let sent = try #require(proxied["sent"]?.arrayValue?.compactMap { value -> String? in
            if case .string(let text) = value { return text }
            return nil
        })
        let sentEvent = try #require(sent.first { $0.hasPrefix("421") })
        let received = try #require(proxied["received"]?.arrayValue?.compactMap { value -> String? in
            if case .string(let text) = value { return text }
            return nil
        })
        let receivedAck = try #require(received.first { $0.hasPrefix("431") })

        let records = try readRecording(recording)
        let webSockets = records.compactMap { record -> Record.WebSocketOpened? in
            if case .webSocketOpened(let opened) = record.event { return opened }
            return nil
        }
        #expect(webSockets.count == 1)
        #expect(webSockets.first?.extensions?.contains("permessage-deflate") == true,
                "the ws record does not carry the negotiated extension: \(webSockets)")
        let undecodable = records.filter { if case .undecodable = $0.event { true } else { false } }
        #expect(undecodable.isEmpty, "raw records: \(undecodable)")

        let packets = records.compactMap(\.socketPacket)
        #expect(packets.allSatisfy { $0.transport == .websocket })
        let connects = packets.filter { $0.packet.type == .connect }
        #expect(connects.map(\.direction) == [.clientToServer, .serverToClient])

        let event = try #require(packets.first { $0.packet.type == .event && $0.direction == .clientToServer })
        #expect(event.packet.eventName == "echo")
        #expect(event.packet.namespace == "/")
        #expect(event.packet.ackID == 1)
        #expect(event.packet.json.map { String(buffer: $0) } == String(sentEvent.dropFirst(3)),
                "the recorded event's JSON is not the bytes the client sent")

        let ack = try #require(packets.first { $0.packet.type == .ack && $0.direction == .serverToClient })
        #expect(ack.packet.ackID == 1)
        #expect(ack.ackLatencyMicros != nil, "the ack was not paired with its event")
        #expect(ack.packet.json.map { String(buffer: $0) } == String(receivedAck.dropFirst(3)),
                "the recorded ack's JSON is not the bytes the client received")
        // The large text really went through compressed frames: the JSON is far longer than a
        // small frame, and it survived inflation intact.
        #expect((event.packet.json?.readableBytes ?? 0) > 10_000)
    }
}
