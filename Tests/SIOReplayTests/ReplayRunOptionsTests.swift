import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOReplay

/// Two sessions as in the issue's example: both connect to `/` with a redacted token, the
/// second also to `/admin`.
private func sessions() -> [ScriptSession] {
    func connect(_ index: Int, _ namespace: String) -> ScriptPacket {
        ScriptPacket(
            index: index,
            time: 0,
            direction: .clientToServer,
            transport: .websocket,
            packet: SocketIOPacket(
                type: .connect, namespace: namespace, json: ByteBuffer(string: #"{"token":"[redacted]"}"#)),
            redacted: true
        )
    }
    return (0..<2).map { i in
        ScriptSession(
            index: i,
            sid: "recordedSid\(i)",
            engineIOVersion: .v4,
            initialTransport: .websocket,
            path: "/socket.io/",
            query: [],
            handshake: "{}",
            openedAt: 0,
            packets: i == 0 ? [connect(0, "/")] : [connect(0, "/"), connect(1, "/admin")]
        )
    }
}

@Suite struct ReplayRunOptionsTests {
    @Test func eachRedactedConnectWithoutCredentialsIsNamed() {
        let all = sessions()
        let missing = ReplayRunOptions(host: "h", port: 1).missingCredentials(in: all)
        #expect(missing.map { "\($0.session.index) \($0.namespace)" } == ["0 /", "1 /", "1 /admin"])
        var some = ReplayRunOptions(host: "h", port: 1, authFile: ["/admin": #"{"token":"admin"}"#])
        #expect(some.missingCredentials(in: all).map { "\($0.session.index) \($0.namespace)" } == ["0 /", "1 /"])
        some.auth = #"{"token":"everyone"}"#
        #expect(some.missingCredentials(in: all).isEmpty)
    }

    @Test func theMostSpecificCredentialWins() throws {
        let all = sessions()
        let options = ReplayRunOptions(
            host: "h",
            port: 1,
            auth: #"{"t":"all"}"#,
            authFile: ["1": #"{"t":"one"}"#, "/admin": #"{"t":"admin"}"#, "1:/admin": #"{"t":"one-admin"}"#,
                "recordedSid0": #"{"t":"zero"}"#]
        )
        #expect(options.connectPayload(for: all[0], packet: all[0].packets[0]) == #"{"t":"zero"}"#)
        #expect(options.connectPayload(for: all[1], packet: all[1].packets[0]) == #"{"t":"one"}"#)
        #expect(options.connectPayload(for: all[1], packet: all[1].packets[1]) == #"{"t":"one-admin"}"#)
        let byNamespace = ReplayRunOptions(
            host: "h", port: 1, auth: #"{"t":"all"}"#, authFile: ["/admin": #"{"t":"a"}"#])
        #expect(byNamespace.connectPayload(for: all[1], packet: all[1].packets[1]) == #"{"t":"a"}"#)
        #expect(byNamespace.connectPayload(for: all[1], packet: all[1].packets[0]) == #"{"t":"all"}"#)
    }
}
