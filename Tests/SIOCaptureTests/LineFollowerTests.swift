import Logging
import NIOCore
import SIORecording
import SIOWire
import Synchronization
import Testing

@testable import SIOCapture

/// Keeps every line it is handed (the browser view's feed, in tests).
final class CollectingFollower: RecordLineFollower {
    private let storage = Mutex<(bytes: [UInt8], count: Int)>(([], 0))

    func follow(lines: UnsafeRawBufferPointer, count: Int) {
        self.storage.withLock {
            $0.bytes.append(contentsOf: lines)
            $0.count += count
        }
    }

    /// The lines (without their newlines) and how many the capture said it handed over.
    var lines: (lines: [String], count: Int) {
        self.storage.withLock { ($0.bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }, $0.count) }
    }
}

/// The recording alone, followed by a line follower: `record --ui --live off`.
struct FollowedSink: RecordSink {
    let recording: LinesSink
    let follower = CollectingFollower()

    var lineWriter: RecordingWriter? { self.recording.writer }
    var lineFollower: (any RecordLineFollower)? { self.follower }

    func receive(_ record: Record) { Issue.record("a sink with a line writer got a Record") }
}

/// With `record --ui`, the browser view follows the recording's own lines: the capture stays on its
/// fast path, and the view gets exactly the bytes of the file, masked and redacted as they are.
@Suite struct LineFollowerTests {
    /// Every capture of a real peer (both transports, HTTP, errors): the follower's lines are the
    /// recording's lines, in the recording's order.
    @Test(arguments: AllCapturesTests.scenarios)
    func theFollowerGetsTheRecordingsLines(_ scenario: String) throws {
        let sink = FollowedSink(recording: try LinesSink())
        try CaptureReplayer.replay(scenario, into: Harness(sink: sink))
        let recorded = try sink.recording.lines()
        let followed = sink.follower.lines
        #expect(followed.lines == recorded)
        #expect(followed.count == recorded.count && !recorded.isEmpty)
    }

    /// A credential in a request's header and a CONNECT's token echoed in events (before the
    /// CONNECT, in its read, and after): the view sees neither, as the file does not.
    @Test func theFollowerSeesNoCredential() throws {
        let sink = FollowedSink(recording: try LinesSink())
        let clock = StepClock()
        let hub = CaptureHub(configuration: CaptureConfiguration(), sink: sink, logger: Logger(label: "t"), clock: clock)
        let tap = hub.makeTap(connection: 1, peer: "p")
        tap.requestHead(
            HTTPHead(
                method: .GET, uri: "/socket.io/?EIO=4&transport=websocket",
                headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Authorization", "Bearer hdr-987654321")]))
        tap.requestEnd()
        tap.webSocketAccepted(HTTPHead(status: 101, headers: [("Upgrade", "websocket")]))
        tap.responseEnd()
        func frames(_ texts: [String], masked: Bool) -> ByteBuffer {
            var bytes = ByteBuffer()
            for text in texts { FastPathTests.writeFrame(text, masked: masked, into: &bytes) }
            return bytes
        }
        clock.advance(by: .microseconds(10))
        tap.webSocketBytes(frames([#"0{"sid":"S1","upgrades":[]}"#], masked: false), direction: .serverToClient)
        tap.webSocketBytes(frames([#"42["early","plain"]"#], masked: true), direction: .clientToServer)
        tap.webSocketBytes(
            frames([#"42["before","tok-123456789"]"#, #"40{"token":"tok-123456789"}"#], masked: true),
            direction: .clientToServer)
        for round in 0..<3 {
            clock.advance(by: .microseconds(10))
            tap.webSocketBytes(frames([#"42\#(round)["echo","tok-123456789"]"#], masked: true), direction: .clientToServer)
            tap.webSocketBytes(frames([#"43\#(round)["ok"]"#], masked: false), direction: .serverToClient)
        }
        tap.connectionClosed(cause: "client")
        let recorded = try sink.recording.lines()
        let followed = sink.follower.lines
        #expect(followed.lines == recorded)
        let all = followed.lines.joined(separator: "\n")
        #expect(!all.contains("tok-123456789") && !all.contains("hdr-987654321"))
        #expect(all.contains(#""early""#) && all.contains(#""echo""#))
    }
}
