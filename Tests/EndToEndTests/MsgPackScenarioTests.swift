import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

/// python-socketio 5 server and client with `serializer='msgpack'` (socket.io-msgpack-parser's
/// encoding: every packet one binary msgpack message), through `siotape record`.
@Suite(
    "msgpack parser between real peers, through siotape record",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct MsgPackScenarioTests {
    static let msgpack = ["--serializer", "msgpack"]

    @Test("Clients observe what they observe directly; every packet decoded; the auth token nowhere",
          arguments: ClientTransport.allCases)
    func proxiedMsgPackRun(_ transport: ClientTransport) async throws {
        let environment = try #require(PeerEnvironment.current)
        // The server does not echo the auth: then the token may appear nowhere in the recording.
        let server = try await Peers.startServer(
            .sio5, in: environment, extraArguments: Self.msgpack + ["--no-echo-auth"])
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("msgpack-\(transport.rawValue)")
        let proxy = try await Proxy.start(upstream: server, recording: recording, in: environment)

        let proxied = try await Peers.runClient(
            for: .sio5, url: proxy.url, transport: transport, in: environment, extraArguments: Self.msgpack)
        let direct = try await Peers.runClient(
            for: .sio5, url: server.url, transport: transport, in: environment, extraArguments: Self.msgpack)
        proxy.terminate()

        #expect(proxied == direct, "the client observed something different through the proxy")
        try Scenario.expectObservations(in: ScenarioReport(proxied), server: .sio5, echoAuth: false)

        let records = try readRecording(recording)
        let undecodable = records.compactMap { record -> Record.Undecodable? in
            if case .undecodable(let raw) = record.event { return raw }
            return nil
        }
        #expect(undecodable.isEmpty, "undecodable packets: \(undecodable)")
        let packets = records.compactMap(\.socketPacket)
        #expect(packets.allSatisfy { $0.packet.parser == .msgpack }, "a packet not decoded as msgpack")
        #expect(Set(packets.map(\.transport)) == (transport == .polling ? [.polling] : [.websocket]))

        // Every packet with its type, namespace, ack id, event and data.
        func find(_ direction: Direction, _ type: SocketIOPacketType, _ event: String? = nil, nsp: String = "/")
            -> [Record.SocketPacket]
        {
            packets.filter {
                $0.direction == direction && $0.packet.type == type && $0.packet.namespace == nsp
                    && (event == nil || $0.packet.eventName == event)
            }
        }
        func data(_ packet: Record.SocketPacket?) -> String? { packet?.packet.json.map { String(buffer: $0) } }

        let echo = try #require(find(.clientToServer, .event, "echo").first)
        #expect(data(echo) == #"["echo","hello",{"k":"€","n":[1,2.5,null,true]},7]"#)
        let echoID = try #require(echo.packet.ackID)
        let echoAck = try #require(find(.serverToClient, .ack).first { $0.packet.ackID == echoID })
        #expect(data(echoAck) == #"["hello",{"k":"€","n":[1,2.5,null,true]},7]"#)
        #expect(echoAck.ackLatencyMicros != nil)
        #expect(find(.clientToServer, .event, "echo", nsp: "/admin").count == 1)

        // Binary values are msgpack bin: `{"$bin": base64}` in place, no attachments.
        let sixtyFour = Data((0..<4).flatMap { _ in Array(0..<16) as [UInt8] }).base64EncodedString()
        let binary = try #require(find(.clientToServer, .event, "binary").first)
        #expect(data(binary) == #"["binary",{"$bin":"AAEC/w=="},{"$bin":"\#(sixtyFour)"}]"#)
        #expect(binary.packet.attachments.isEmpty)
        let binaryAck = try #require(find(.serverToClient, .ack).first { $0.packet.ackID == binary.packet.ackID })
        #expect(data(binaryAck) == #"[[{"$bin":"AAEC/w=="},{"$bin":"\#(sixtyFour)"}],2]"#)
        #expect(binaryAck.ackLatencyMicros != nil)

        // The server's own ack request, answered by the client with a nested map.
        let needAck = try #require(find(.serverToClient, .event, "need-ack").first)
        let clientAck = try #require(find(.clientToServer, .ack).first { $0.packet.ackID == needAck.packet.ackID })
        #expect(data(clientAck) == #"["answer",{"to":{"q":"answer me"}}]"#)
        #expect(clientAck.ackLatencyMicros != nil)

        #expect(find(.serverToClient, .connectError, nsp: "/admin").count == 1)
        #expect(find(.serverToClient, .event, "shouted").count == 2)
        #expect(find(.serverToClient, .disconnect, nsp: "/admin").count == 1)

        // CONNECT auth redacted; the token in no field, no base64, no msgpack of any record.
        let connects = find(.clientToServer, .connect) + find(.clientToServer, .connect, nsp: "/admin")
        #expect(connects.count == 5)
        for connect in connects {
            #expect(connect.redacted)
            #expect(data(connect) == #"{"token":"[redacted]"}"#)
        }
        try await expectNowhere("secret", in: recording)

        try await self.replay(recording, observed: proxied, transport: transport, in: environment)
    }

    /// `replay serve` of the recording passes the client's scenario; `replay run` against a fresh
    /// server finds no difference, against a changed one names the changed packet.
    private func replay(
        _ recording: URL, observed: String, transport: ClientTransport, in environment: PeerEnvironment
    ) async throws {
        let served = try await ReplayServe.start(
            recording: recording.path, in: environment, extraArguments: ["--on-unmatched", "fail"])
        let replayed = try await Peers.runClient(
            for: .sio5, url: served.url, transport: transport, in: environment, extraArguments: Self.msgpack)
        let (status, summary) = try await ReplayServe.stop(served)
        #expect(replayed == observed, "the client observed something else from replay serve")
        #expect(status == 0 && summary.contains(" 0 unmatched"), "\(summary)")

        for changed in [false, true] {
            let server = try await Peers.startServer(
                .sio5, in: environment,
                extraArguments: Self.msgpack + ["--no-echo-auth"] + (changed ? ["--changed"] : []))
            defer { server.terminate() }
            let siotape = try #require(environment.siotape)
            // The recorded CONNECT auth is redacted: the token again for A and B, C's wrong one.
            let run = try Subprocess(
                name: "siotape replay run", executable: "/usr/bin/env",
                arguments: [
                    #"SIOTAPE_AUTH={"token":"secret"}"#, siotape, "replay", "run", recording.path, "--target",
                    server.url, "--fast", "--auth", #"2={"token":"wrong"}"#,
                ])
            let result = try #require(await run.exitStatusAndOutput(timeout: .seconds(120)))
            if changed {
                #expect(result.status == 1, "\(result.stdout)")
                #expect(result.stdout.contains(#"["notified",{"n":1,"changed":true}]"#), "\(result.stdout)")
            } else {
                #expect(result.status == 0, "\(result.stdout)\n\(run.stderr.snapshot.text)")
            }
        }
    }

    /// The decompressed file (`zcat`), and every base64 string in it decoded, lack `secret`.
    private func expectNowhere(_ secret: String, in recording: URL) async throws {
        let zcat = try Subprocess(name: "zcat", executable: "/usr/bin/env", arguments: ["zcat", recording.path])
        let text = try await zcat.output(timeout: .seconds(30))
        #expect(text.contains("[redacted]"))
        #expect(!text.contains(secret), "the token is in the recording")
        let base64 = try Regex(#""([A-Za-z0-9+/]{4,}={0,2})""#)
        for match in text.matches(of: base64) {
            guard let value = match.output[1].substring, let bytes = Data(base64Encoded: String(value)) else { continue }
            #expect(!String(decoding: bytes, as: UTF8.self).contains(secret), "the token inside base64 \(value)")
        }
    }
}
