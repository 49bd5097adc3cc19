import NIOCore
import NIOHTTP1
import SIORecording
import SIOWire
import Testing

@testable import SIOCapture

/// Caps and redaction for hostile input, without codecs or channels.
@Suite struct HardeningTests {
    @Test func attachmentsHeldForOnePacketAreCapped() {
        var session = SessionMachine(
            sid: "S", version: .v4, transport: .websocket, time: 0, maxPendingAcks: 16, maxAttachmentBytes: 10)
        var outputs: [SessionMachine.Output] = []
        var packet = SocketIOPacket(type: .binaryEvent, namespace: "/", ackID: nil, attachmentCount: 100_000)
        packet.eventName = "hoard"
        session.receive(packet, direction: .clientToServer, time: 1, into: &outputs)
        for _ in 0..<5 {
            session.receiveAttachment(ByteBuffer(repeating: 1, count: 4), direction: .clientToServer, time: 2, into: &outputs)
        }
        // 4 + 4 fit; the third goes over: the packet is given up with what it had, the rest dropped.
        #expect(outputs.count == 1)
        guard case .attachmentsOverLimit(let done, let limit)? = outputs.first else {
            Issue.record("expected the packet to be given up, got \(outputs)")
            return
        }
        #expect(limit == 10)
        #expect(done.attachments.count == 2)
        // A new packet starts afresh.
        session.receive(
            SocketIOPacket(type: .event, namespace: "/", ackID: nil, attachmentCount: 0), direction: .clientToServer,
            time: 3, into: &outputs)
        session.receiveAttachment(ByteBuffer(repeating: 1, count: 4), direction: .clientToServer, time: 4, into: &outputs)
        #expect(outputs.count == 3)
        if case .strayAttachment? = outputs.last {} else { Issue.record("expected a stray attachment, got \(outputs)") }
    }

    @Test func credentialsInUnparsableHTTPBytesAreMasked() {
        let raw = ByteBuffer(
            string: "GET /socket.io/?EIO=4&token=SECRET1 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer SECRET2\r\n"
                + "cookie:SECRET3\r\nX-Other: kept\r\n")
        let masked = String(buffer: Redactor(enabled: true).httpBytes(raw))
        #expect(!masked.contains("SECRET"), "\(masked)")
        #expect(masked.contains("token=[redacted]") && masked.contains("X-Other: kept") && masked.contains("EIO=4"))
        #expect(Redactor(enabled: false).httpBytes(raw) == raw)
    }

    @Test func theAuthOfAMalformedConnectIsMasked() {
        let masked = String(buffer: Redactor(enabled: true).undecodableConnect(ByteBuffer(string: #"0/admin,{"token":"SECRET"#)))
        #expect(!masked.contains("SECRET"), "\(masked)")
        #expect(masked.hasPrefix(#"0/admin,{"token":"#))
    }

    @Test func connectAuthInAnUndecodablePollingBodyIsMasked() {
        let redactor = Redactor(enabled: true)
        let bodies = [
            "40{\"token\":\"SECRET1\"}\u{1E}9garbage", "20:40/admin,{\"token\":\"SECRET2\"}x:y", "40{\"token\":\"SECRET3\"",
        ]
        for body in bodies {
            let masked = String(buffer: redactor.undecodableBody(ByteBuffer(string: body)))
            #expect(!masked.contains("SECRET"), "\(masked)")
            #expect(masked.contains(#""token":"[redacted]""#), "\(masked)")
        }
        let plain = ByteBuffer(string: "42[\"not a connect\",{\"token\":\"x\"}]\u{1E}9zz")
        #expect(redactor.undecodableBody(plain) == plain)
    }

    @Test func bytesThatAreNotUTF8AreKeptExactly() {
        let bytes = ByteBuffer(bytes: [0x34, 0xC3, 0x28])
        #expect(RecordedData(textBytes: bytes) == .binary(bytes))
        #expect(RecordedData(textBytes: ByteBuffer(string: "42[\"é\"]")) == .text("42[\"é\"]"))
    }
}
