import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

/// The real `siotape inspect` and `siotape verify` binaries: exit codes, stdout and stderr.
@Suite(
    "siotape inspect and verify",
    .enabled(if: PeerEnvironment.current?.siotape != nil, "SIOTAPE_BIN is not set: run tools/test")
)
struct InspectCommandTests {
    let siotape = PeerEnvironment.current?.siotape ?? ""
    let recordings = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("recordings").path

    func run(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try Subprocess(name: "siotape", executable: self.siotape, arguments: arguments)
        defer { process.terminate() }
        let result = try #require(await process.exitStatusAndOutput(timeout: .seconds(60)))
        let stderr = await process.stderr.wait(timeout: .seconds(10)) { $0.closed }?.text ?? ""
        return (result.status, result.stdout, stderr)
    }

    @Test func statsAndFiltersOfASampleRecording() async throws {
        let chat = self.recordings + "/chat-acks.siotape.gz"
        let stats = try await self.run(["inspect", chat, "--stats"])
        #expect(stats.status == 0)
        #expect(stats.stdout.contains("sessions    5"))
        #expect(stats.stdout.contains("message:send"))
        // message:send: three events (alice1, carol, alice2) and their three acks.
        let sends = try await self.run(["inspect", chat, "--event", "message:send", "--format", "jsonl"])
        #expect(sends.status == 0)
        let lines = sends.stdout.split(separator: "\n")
        #expect(lines.count == 6)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["event"] as? String == "message:send" || object["ack_event"] as? String == "message:send")
        }
        let text = try await self.run(["inspect", chat, "--type", "connect_error"])
        #expect(text.status == 0 && text.stdout.contains("CONNECT_ERROR {\"message\":\"userId required\"}"))
        #expect(!text.stdout.contains("\u{1B}["))  // not a terminal: no colours
        let har = try await self.run(["inspect", chat, "--format", "har"])
        #expect(har.status == 0 && har.stdout.hasPrefix("{\"log\":{\"version\":\"1.2\""))
    }

    @Test func verifyExitCodes() async throws {
        let intact = try await self.run(["verify", self.recordings + "/signalling.siotape.gz"])
        #expect(intact.status == 0 && intact.stdout.contains("intact"))

        let directory = try temporaryRecordingURL("verify").deletingLastPathComponent()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: self.recordings + "/signalling.siotape.gz"))
        let cut = directory.appendingPathComponent("cut.siotape.gz")
        try bytes.prefix(bytes.count - 20).write(to: cut)
        let truncated = try await self.run(["verify", cut.path])
        #expect(truncated.status == 1)
        #expect(truncated.stdout.contains("truncated at byte") && truncated.stdout.contains("readable:"))
        // inspect shows what is readable, warns, and says records were lost.
        let shown = try await self.run(["inspect", cut.path, "--format", "jsonl"])
        #expect(shown.status == 1 && !shown.stdout.isEmpty && shown.stderr.contains("truncated at byte"))

        let newer = directory.appendingPathComponent("v2.siotape.gz")
        try Data("{\"format\":\"siotape\",\"version\":2,\"wall_us\":1,\"tool\":\"x\"}\n".utf8).write(to: newer)
        let refused = try await self.run(["verify", newer.path])
        #expect(refused.status == 2 && refused.stdout.contains("Upgrade siotape"))

        let empty = directory.appendingPathComponent("empty.siotape.gz")
        _ = FileManager.default.createFile(atPath: empty.path, contents: Data())
        #expect(try await self.run(["verify", empty.path]).status == 1)
        #expect(try await self.run(["inspect", empty.path]).status == 2)
        #expect(try await self.run(["inspect", self.recordings + "/signalling.siotape.gz", "--since", "yesterday"]).status == 2)
    }

    @Test func followShowsRecordsAsTheyAreWrittenAndEndsWithTheRecording() async throws {
        let path = try temporaryRecordingURL("follow").path
        let writer = try RecordingWriter(
            path: path,
            header: RecordingHeader(startedAtMicros: 1_795_000_000_000_000, tool: "test"),
            configuration: .init(backgroundFlushing: false)
        )
        func event(_ n: Int) -> Record {
            Record(
                time: Int64(n) * 1000,
                event: .socket(
                    .init(
                        sid: "followSession", connection: 1, direction: .clientToServer, transport: .websocket,
                        packet: SocketIOPacket(type: .event, json: ByteBuffer(string: "[\"tick\",\(n)]"), eventName: "tick")
                    )
                )
            )
        }
        let follower = try Subprocess(
            name: "siotape inspect --follow", executable: self.siotape,
            arguments: ["inspect", path, "--follow", "--format", "jsonl"])
        defer { follower.terminate() }
        writer.append(event(1))
        writer.flush()
        let first = try await follower.firstLine(timeout: .seconds(30))
        #expect(first.contains("[\"tick\",1]"))
        writer.append(event(2))
        writer.append(event(3))
        try writer.close()
        let result = try #require(await follower.exitStatusAndOutput(timeout: .seconds(30)))
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").count == 3 && result.stdout.contains("[\"tick\",3]"))
    }
}
