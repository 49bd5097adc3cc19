import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

/// `siotape record` in front of an https upstream (python-socketio 5 on aiohttp with a self-signed
/// certificate), the client speaking plain http to the proxy.
@Suite(
    "siotape record with an https upstream",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct TLSUpstreamTests {
    @Test("With --insecure the client observes the scenario as directly; the recording holds the packets")
    func insecureUpstreamIsProxied() async throws {
        let environment = try #require(PeerEnvironment.current)
        let certificate = try await SelfSignedCertificate.make()
        let server = try await Peers.startServer(.sio5, in: environment, extraArguments: certificate.serverArguments)
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("tls")
        let proxy = try await Proxy.start(
            upstreamURL: "https://127.0.0.1:\(server.port)", recording: recording, in: environment,
            extraArguments: ["--insecure"])
        defer { proxy.terminate() }

        let proxied = try await Peers.runClient(for: .sio5, url: proxy.url, transport: .default, in: environment)
        proxy.terminate()
        try Scenario.expectObservations(in: ScenarioReport(proxied), server: .sio5)

        // The same as a direct run against the same server over plain http.
        let plainServer = try await Peers.startServer(.sio5, in: environment)
        defer { plainServer.terminate() }
        let direct = try await Peers.runClient(for: .sio5, url: plainServer.url, transport: .default, in: environment)
        #expect(proxied == direct, "the client observed something different through the proxy")

        let records = try readRecording(recording)
        let packets = records.compactMap(\.socketPacket)
        let undecodable = records.filter { if case .undecodable = $0.event { true } else { false } }
        #expect(undecodable.isEmpty, "undecodable packets: \(undecodable)")
        #expect(packets.contains { $0.packet.type == .connectError && $0.packet.namespace == "/admin" })
        #expect(packets.contains { $0.packet.type == .binaryEvent && $0.packet.attachments.count == 2 })
        #expect(packets.contains { $0.packet.eventName == "shouted" })
        let events = packets.filter { ($0.packet.type == .event || $0.packet.type == .binaryEvent) && $0.packet.ackID != nil }
        let acks = packets.filter { $0.packet.type == .ack || $0.packet.type == .binaryAck }
        try #require(!events.isEmpty)
        #expect(acks.count == events.count)
        #expect(acks.allSatisfy { $0.ackLatencyMicros != nil }, "an ack was not paired with its event")
        #expect(Set(packets.map(\.transport)).contains(.websocket), "the client did not upgrade to WebSocket")
    }

    /// A failed TLS handshake with the upstream makes it unreachable for the client: a `502` that says
    /// why, and the recording keeps the reason.
    @Test("Without --insecure the self-signed upstream is refused; the recording says why")
    func untrustedUpstreamIsRefused() async throws {
        let environment = try #require(PeerEnvironment.current)
        let certificate = try await SelfSignedCertificate.make()
        let server = try await Peers.startServer(.sio5, in: environment, extraArguments: certificate.serverArguments)
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("tls-refused")
        let proxy = try await Proxy.start(
            upstreamURL: "https://127.0.0.1:\(server.port)", recording: recording, in: environment)
        defer { proxy.terminate() }

        let response = try await Peers.httpGet(proxy.url + "/socket.io/?EIO=4&transport=polling", in: environment)
        #expect(response.status == 502, "expected a 502 for an untrusted upstream, got \(response)")
        #expect(response.body.contains("TLS handshake failed"), "the 502 does not say why: \(response.body)")
        #expect(!response.body.contains("\"sid\""), "the Engine.IO handshake came through an untrusted upstream")
        proxy.terminate()

        let records = try readRecording(recording)
        let explained = records.contains { record in
            switch record.event {
            case .connectionClosed(let closed): closed.cause.uppercased().contains("CERTIFICATE")
            case .note(let note): note.message.uppercased().contains("CERTIFICATE")
            default: false
            }
        }
        #expect(explained, "nothing in the recording says the certificate was refused: \(records)")
    }
}

/// A throwaway self-signed certificate for 127.0.0.1, made with the system's `openssl`.
private struct SelfSignedCertificate {
    let certificate: URL
    let key: URL

    var serverArguments: [String] { ["--certfile", certificate.path, "--keyfile", key.path] }

    static func make() async throws -> SelfSignedCertificate {
        let directory = try temporaryRecordingURL("tls").deletingLastPathComponent()
        let made = SelfSignedCertificate(
            certificate: directory.appendingPathComponent("cert.pem"), key: directory.appendingPathComponent("key.pem"))
        let openssl = try Subprocess(
            name: "openssl req", executable: "/usr/bin/env",
            arguments: [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-keyout", made.key.path, "-out", made.certificate.path,
            ])
        _ = try await openssl.output(timeout: .seconds(60))
        return made
    }
}
