import Foundation
import SIORecording
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension HeavySuites {
    /// `kill -9` of `siotape record` at random moments of a busy session, many times over.
    ///
    /// The criterion, checkable without timing: a flush puts every record appended before it on disk,
    /// in order. So when the file is seen to hold event K (the test watches the file with inotify, no
    /// sleeping), every event up to K must survive a kill that comes after; and nothing may appear that
    /// the client did not send. Each iteration picks K at random (seeded, the seed is printed) and, in
    /// turn: kills once K is on disk while the client keeps streaming (the kill lands anywhere, a
    /// write included); kills once the client is idle after K and K is on disk (only the flush timer
    /// can have written K: the at-most-one-flush-interval guarantee); or kills as soon as K is acked,
    /// without looking at the file (no lower bound then). Every recording must read back as a gapless
    /// prefix 1...m (m >= K in the first two modes, m <= acked + 1 always): by `RecordingReader` (cut
    /// short, never corrupt) and by `zcat` (complete lines only).
    @Suite(
        "siotape record killed at random moments",
        .serialized,
        .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
    )
    struct CrashLoopTests {
        static let iterations = 24

        @Test("24 kills at random moments: every recording reads back up to the last flush")
        func killAtRandomMoments() async throws {
            let environment = try #require(PeerEnvironment.current)
            let seed = UInt64.random(in: 1...UInt64.max)
            print("CrashLoopTests seed \(seed)")
            var random = SplitMix64(seed: seed)
            let server = try await Peers.startServer(.sio5, in: environment)
            defer { server.terminate() }
            for iteration in 1...Self.iterations {
                let target = Int(random.next() % 300) + 1
                let mode = Mode.allCases[iteration % Mode.allCases.count]
                try await Self.killOnce(
                    target: target, mode: mode, server: server, in: environment,
                    label: "iteration \(iteration) (seed \(seed), K \(target), \(mode))")
            }
        }

        enum Mode: CaseIterable {
            /// Once K is on disk, while the client keeps sending.
            case streaming
            /// Once K is on disk, the client idle after K.
            case idle
            /// As soon as K is acked.
            case immediate
        }

        static func killOnce(
            target: Int, mode: Mode, server: RunningPeer, in environment: PeerEnvironment, label: String
        ) async throws {
            let recording = try temporaryRecordingURL("kill")
            let proxy = try await Proxy.start(
                upstream: server, recording: recording, in: environment, extraArguments: ["--flush-interval", "0.1"])
            defer { proxy.terminate() }
            let client = try Subprocess(
                name: "stream_client.py", executable: environment.python5,
                arguments: [environment.script("stream_client.py"), "--url", proxy.url]
                    + (mode == .idle ? ["--count", String(target)] : []))
            defer { client.terminate() }
            let marker = "ACKED \(target)\n"
            let acked = await client.stdout.wait(timeout: .seconds(60)) { $0.text.contains(marker) || $0.closed }
            try #require(acked?.text.contains(marker) == true, "\(label): no ack of \(target)\(client.diagnostics)")

            if mode != .immediate {
                let onDisk = try FileWatch.wait(path: recording.path, timeout: .seconds(60)) {
                    (try? RecordedEchoes(recording))?.numbers.last.map { $0 >= target } ?? false
                }
                try #require(onDisk, "\(label): event \(target) never reached the file")
            }
            proxy.process.killAbruptly()
            client.terminate()
            let sent = client.stdout.snapshot.text.split(separator: "\n")
                .compactMap { $0.hasPrefix("ACKED ") ? Int($0.dropFirst(6)) : nil }.max() ?? 0

            let echoes = try RecordedEchoes(recording)
            #expect(echoes.damage?.kind == .truncated, "\(label): \(String(describing: echoes.damage))")
            if mode != .immediate {
                #expect(echoes.numbers.count >= target, "\(label): \(echoes.numbers.count) events survived")
            }
            #expect(echoes.numbers == Array(1..<(echoes.numbers.count + 1)), "\(label): not a gapless prefix")
            #expect(echoes.numbers.count <= sent + 1, "\(label): more events than the client sent")

            let zcat = try Subprocess(name: "zcat", executable: "/usr/bin/env", arguments: ["zcat", recording.path])
            let unzipped = try #require(await zcat.exitStatusAndOutput(timeout: .seconds(30)), "\(label): zcat hung")
            let lines = unzipped.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.last == "", "\(label): zcat's output ends inside a line")
            let parsed = lines.dropLast().filter { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any]
            }
            #expect(parsed.count == lines.count - 1, "\(label): zcat output has lines that are not JSON objects")
            let echoLines = parsed.filter { $0.contains(#""event":"echo""#) && $0.contains(#""dir":"c2s""#) }
            #expect(echoLines.count == echoes.numbers.count, "\(label): zcat and siotape disagree")
        }
    }
}

/// Waits for a file to change (inotify) until `condition` holds; `false` once `timeout` has passed.
enum FileWatch {
    static func wait(path: String, timeout: Duration, until condition: () throws -> Bool) throws -> Bool {
        let descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { throw PeerError("inotify_init1 failed: errno \(errno)") }
        defer { close(descriptor) }
        guard inotify_add_watch(descriptor, path, UInt32(IN_MODIFY | IN_CLOSE_WRITE)) >= 0 else {
            throw PeerError("inotify_add_watch \(path) failed: errno \(errno)")
        }
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            // Checked after the watch is in place, so no change can slip between check and wait.
            if try condition() { return true }
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { return false }
            var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollDescriptor, 1, Int32(min(left.seconds * 1000 + 1, 60_000)))
            if ready > 0 { _ = read(descriptor, &buffer, buffer.count) }
        }
    }
}

/// A small seeded generator, so a failing iteration can be replayed from the printed seed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
