import Foundation
import NIOCore
import SIORecording
import SIOWire
import Testing

/// `kill -9` of `siotape record` mid-session: everything flushed before stays readable.
@Suite(
    "Crash safety of the recording",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct CrashSafetyTests {
    static let flushInterval = "0.2"

    @Test("After SIGKILL the recording reads as truncated, with a gapless prefix of the events",
          arguments: [1, 40, 300])
    func killedProxyLeavesAReadablePrefix(ackedBeforeKill: Int) async throws {
        let environment = try #require(PeerEnvironment.current)
        let server = try await Peers.startServer(.sio5, in: environment)
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("crash-\(ackedBeforeKill)")
        let proxy = try await Proxy.start(
            upstream: server, recording: recording, in: environment,
            extraArguments: ["--flush-interval", Self.flushInterval])
        defer { proxy.terminate() }
        let client = try Subprocess(
            name: "stream_client.py", executable: environment.python5,
            arguments: [environment.script("stream_client.py"), "--url", proxy.url])
        defer { client.terminate() }

        let marker = "ACKED \(ackedBeforeKill)\n"
        let acked = await client.stdout.wait(timeout: .seconds(60)) { $0.text.contains(marker) || $0.closed }
        try #require(acked?.text.contains(marker) == true, "the client did not get \(ackedBeforeKill) acks\(client.diagnostics)")

        // The recorder flushes on its own schedule: wait until event K is on disk, then crash it.
        let onDisk = try FileWatch.wait(path: recording.path, timeout: .seconds(60)) {
            (try? RecordedEchoes(recording))?.numbers.last.map { $0 >= ackedBeforeKill } ?? false
        }
        try #require(onDisk, "event \(ackedBeforeKill) never reached the recording file")
        proxy.process.killAbruptly()
        client.terminate()
        let clientOutput = await client.stdout.wait(timeout: .seconds(10)) { $0.closed } ?? client.stdout.snapshot
        let sentAtMost = clientOutput.text.split(separator: "\n")
            .compactMap { $0.hasPrefix("ACKED ") ? Int($0.dropFirst(6)) : nil }.max() ?? 0

        let echoes = try RecordedEchoes(recording)
        let damage = try #require(echoes.damage, "a killed recorder left a recording that claims to be complete")
        #expect(damage.kind == .truncated, "the recording is damaged, not just cut short: \(damage)")
        #expect(echoes.numbers.count >= ackedBeforeKill)
        #expect(echoes.numbers == Array(1..<(echoes.numbers.count + 1)),
                "the recorded events are not 1, 2, 3, ... without a gap: \(echoes.numbers)")
        // A prefix of what was sent: at most one event beyond the last ack the client saw.
        #expect(echoes.numbers.count <= sentAtMost + 1)

        // The system's zcat reads the same file: every line it outputs is complete, valid JSON.
        let zcat = try Subprocess(name: "zcat", executable: "/usr/bin/env", arguments: ["zcat", recording.path])
        let finished = await zcat.exitStatusAndOutput(timeout: .seconds(30))
        let unzipped = try #require(finished, "zcat did not finish")
        #expect(unzipped.stdout.hasSuffix("\n"), "zcat's output ends inside a line")
        let lines = unzipped.stdout.split(separator: "\n")
        #expect(lines.count >= ackedBeforeKill + 1)
        for (number, line) in lines.enumerated() {
            let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8))
            #expect(parsed is [String: Any], "zcat line \(number + 1) is not a JSON object: \(line.prefix(200))")
        }
    }
}

/// The numbers of the `echo` events the client sent, as a recording holds them so far.
struct RecordedEchoes {
    var numbers: [Int] = []
    var damage: RecordingDamage?

    init(_ url: URL) throws {
        let reader = try RecordingReader(path: url.path)
        while let record = try reader.next() {
            guard let packet = record.socketPacket, packet.direction == .clientToServer,
                packet.packet.type == .event, packet.packet.eventName == "echo"
            else { continue }
            let json = packet.packet.json.map { String(buffer: $0) } ?? ""
            let arguments = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any]
            guard let arguments, arguments.count == 2, let number = arguments[1] as? Int else {
                throw PeerError("unexpected echo arguments \(json)")
            }
            numbers.append(number)
        }
        damage = reader.damage
    }
}
