import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

@testable import SIOReplay

/// The sample recordings committed in `recordings/`.
func sampleRecording(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("recordings/\(name).siotape.gz").path
}

@Suite struct ReplayScriptTests {
    @Test(arguments: ["chat-acks", "job-stream", "ns-chat", "org-notify", "signalling"])
    func everySampleLoadsWithConsistentIndexes(name: String) throws {
        let script = try ReplayScript.load(path: sampleRecording(name))
        #expect(script.damage == nil)
        #expect(!script.sessions.isEmpty)
        for (i, session) in script.sessions.enumerated() {
            #expect(session.index == i)
            #expect(session.packets.map(\.index) == Array(session.packets.indices))
            #expect(session.packets.map(\.time) == session.packets.map(\.time).sorted())
            #expect(session.engineIOVersion == .v4)
            #expect(session.path == "/socket.io/")
            if let first = session.packets.first {
                #expect(first.direction == .clientToServer && first.type == .connect)
            }
        }
        #expect(script.sessions.map(\.openedAt) == script.sessions.map(\.openedAt).sorted())
    }

    @Test func orgNotifyKeepsRefusalsRedactionAndCloseCauses() throws {
        let script = try ReplayScript.load(path: sampleRecording("org-notify"))
        #expect(script.sessions.count == 6)
        let forged = script.sessions[0]
        #expect(forged.sid == "vU-kGIM2AytVhv8vAAAA")
        #expect(forged.initialTransport == .polling && forged.upgraded)
        #expect(forged.queryValue("EIO") == "4")
        #expect(forged.pingIntervalMillis == 25000)
        #expect(forged.packets.count == 2)
        #expect(forged.packets[0].redacted)
        #expect(forged.packets[0].dataText == #"{"token":"[redacted]"}"#)
        #expect(forged.packets[1].type == .connectError)
        #expect(forged.packets[1].dataText == #"{"message":"invalid token"}"#)
        #expect(forged.closeCause == "websocket closed by client")

        let alice = script.sessions[2]
        #expect(alice.closeCause == "websocket closed by server")
        let subscribe = try #require(alice.packets.first { $0.eventName == "video:subscribe" })
        #expect(subscribe.ackID == 1 && subscribe.direction == .clientToServer)
        let ack = try #require(alice.packets.first { $0.isAck })
        #expect(ack.ackID == 1 && ack.ackLatencyMicros == 887)
        #expect(ack.dataText == #"[{"subscribed":"a1"}]"#)
        #expect(ack.index == subscribe.index + 1)
    }

    @Test func jobStreamHasServerAcksOverPolling() throws {
        let script = try ReplayScript.load(path: sampleRecording("job-stream"))
        #expect(script.sessions.count == 2)
        for session in script.sessions {
            #expect(session.initialTransport == .polling && !session.upgraded)
            let confirm = try #require(session.serverPackets.first { $0.eventName == "confirm_complete" })
            #expect(confirm.ackID == 1)
            let reply = try #require(session.clientPackets.first { $0.isAck })
            #expect(reply.ackID == 1 && reply.transport == .polling)
            #expect(session.closeCause == "client close packet")
        }
    }

    @Test func nsChatKeepsBinaryAttachmentsAndNamespaces() throws {
        let script = try ReplayScript.load(path: sampleRecording("ns-chat"))
        let binary = script.sessions.flatMap(\.packets).filter { $0.type == .binaryEvent }
        #expect(!binary.isEmpty)
        for packet in binary {
            #expect(!packet.attachments.isEmpty)
            #expect(packet.packet.attachmentCount == packet.attachments.count)
        }
        #expect(script.sessions.contains { $0.namespaces.contains("/admin") })
    }

    @Test func signallingIsWebSocketOnly() throws {
        let script = try ReplayScript.load(path: sampleRecording("signalling"))
        #expect(script.sessions.allSatisfy { $0.initialTransport == .websocket && !$0.upgraded })
    }

    @Test func aTruncatedRecordingKeepsWhatCameBeforeTheDamage() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: sampleRecording("chat-acks")))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("replay-trunc-\(getpid()).gz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try full.prefix(full.count - 10).write(to: URL(fileURLWithPath: path))
        let script = try ReplayScript.load(path: path)
        #expect(script.damage != nil)
    }

    @Test func notARecordingThrows() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("replay-bad-\(getpid()).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: RecordingReadError.self) { try ReplayScript.load(path: path) }
    }
}
