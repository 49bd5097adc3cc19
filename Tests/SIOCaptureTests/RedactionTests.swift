import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

@Suite struct RedactionTests {
    let redactor = Redactor(enabled: true)

    @Test func queryValuesThatLookLikeCredentialsAreMasked() {
        #expect(
            self.redactor.path("/socket.io/?EIO=4&transport=polling&t=abc&sid=S1&token=1234&apiKey=k&b64=1&x=y")
                == "/socket.io/?EIO=4&transport=polling&t=abc&sid=S1&token=[redacted]&apiKey=[redacted]&b64=1&x=y")
        #expect(self.redactor.path("/a?password=p&session_id=s&auth") == "/a?password=[redacted]&session_id=[redacted]&auth")
        #expect(self.redactor.path("/plain") == "/plain")
        #expect(Redactor(enabled: false).path("/a?token=1") == "/a?token=1")
    }

    @Test func credentialHeadersAreMasked() {
        #expect(self.redactor.headerValue(name: "authorization", value: "Bearer x") == "[redacted]")
        #expect(self.redactor.headerValue(name: "Set-Cookie", value: "a=b") == "[redacted]")
        #expect(self.redactor.headerValue(name: "User-Agent", value: "ua") == "ua")
        #expect(Redactor(enabled: false).headerValue(name: "Cookie", value: "a=b") == "a=b")
    }

    @Test func connectAuthValuesAreMaskedKeepingStructure() {
        let masked = ConnectPayloadRedactor.maskJSONValues(
            ByteBuffer(string: #"{"token":"se\"cret","n":[1, 2.5,null,true],"o":{"k":"v"},"e":{}}"#))
        #expect(
            masked.text
                == #"{"token":"[redacted]","n":["[redacted]", "[redacted]","[redacted]","[redacted]"],"o":{"k":"[redacted]"},"e":{}}"#
        )
    }

    @Test func socketIOv4ConnectQueryIsMasked() {
        let packet = SocketIOPacket(type: .connect, namespace: "/admin?token=1234&x=2", rawHeader: "0/admin?token=1234&x=2,")
        let (redacted, changed) = ConnectPayloadRedactor.redact(packet)
        #expect(changed)
        #expect(redacted.namespace == "/admin?token=[redacted]&x=[redacted]")
        #expect(redacted.rawHeader == "0/admin?token=[redacted]&x=[redacted],")
        let plain = ConnectPayloadRedactor.redact(SocketIOPacket(type: .connect, namespace: "/admin"))
        #expect(!plain.changed)
    }

    @Test func sidIsFoundInHandshakeBytes() {
        #expect(
            EngineIOHandshake(json: ByteBuffer(string: #"{"sid":"5wl-v1tJdqA5HsvYAAAA","upgrades":["websocket"]}"#))?.sid
                == "5wl-v1tJdqA5HsvYAAAA")
        #expect(EngineIOHandshake(json: ByteBuffer(string: #"{"upgrades":[], "sid" : "abc"}"#))?.sid == "abc")
        #expect(EngineIOHandshake(json: ByteBuffer(string: #"{"upgrades":[]}"#))?.sid == nil)
        #expect(EngineIOHandshake(json: ByteBuffer(string: #"{"sid":"#))?.sid == nil)
    }
}

@Suite struct DecodedConnectRedactionTests {
    @Test func socketIOv4ConnectQueryFromTheWireIsMasked() throws {
        var registry = SessionRegistry(configuration: CaptureConfiguration())
        var records: [Record] = []
        let context = PacketContext(
            sid: "S", connection: 1, direction: .clientToServer, transport: .websocket, version: .v3, time: 0)
        registry.engine(
            EngineIOPacket(type: .message, data: ByteBuffer(string: "0/admin?token=1234&room=a,")), context: context,
            into: &records)
        let packet = try #require(records.compactMap(\.socket).first)
        #expect(packet.redacted)
        #expect(!String(describing: packet.packet).contains("1234"))
        #expect(packet.packet.encodeText(version: .v4).text == "0/admin?token=[redacted]&room=[redacted],")
    }
}

/// The byte check that spares most requests the known secrets' lock and the path's rewriting says
/// what the `String` check says of every ASCII parameter name, whatever its case, and leaves the
/// rest to it.
@Suite struct QueryCredentialNameTests {
    @Test(arguments: [
        ("EIO=4&transport=polling&t=PZx1&sid=abc", false),
        ("eio=4&Transport=websocket&B64=1&j=0", false),
        ("EIO=4&token=x", true),
        ("EIO=4&Access_Token=x", true),
        ("X-API-KEY=1", true),
        ("sidx=1", false),
        ("SESSION=1", true),
        ("page=2&q=pwd", false),
        ("page=2&myPWD=", true),
        ("tok&auth", false),
        ("&&Bearer=1", true),
        ("caf\u{E9}=1", true),
        // Not ASCII: left to the String checks (which find nothing to hide here).
        ("q=caf\u{E9}&page=1", true),
    ])
    func theByteCheckAgreesWithTheStringCheck(query: String, expected: Bool) {
        let head = HTTPHead(method: .GET, uri: "/socket.io/?" + query)
        #expect(Redactor.queryMayNameCredentials(head) == expected)
        let names = query.split(separator: "&").compactMap { pair in pair.firstIndex(of: "=").map { String(pair[..<$0]) } }
        if query.utf8.allSatisfy({ $0 < 0x80 }) {
            #expect(names.contains(where: Redactor.isCredentialQueryName) == expected)
        }
        #expect(!Redactor.queryMayNameCredentials(HTTPHead(method: .GET, uri: "/no-query")))
        // The recorded path: rewritten only when a name may be a credential, the same either way.
        let uri = "/socket.io/?" + query
        let masked = Redactor(enabled: true).path(uri)
        let hidden = names.contains(where: Redactor.isCredentialQueryName)
        #expect(masked.contains(Redactor.mask) == hidden)
        if !hidden { #expect(masked == uri) }
    }
}
