import Foundation
import SIORecording
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Plain HTTP bodies far over the body limit through `siotape record`: a 500 MiB download and a
/// 100 MiB upload (`tools/peers/big_body.py`: a streaming upstream and client, each hashing what it
/// sent and received). The relay streams them, so the proxy's memory stays bounded, and the
/// recording keeps the head of each body (1 MiB by default) with its full size.
@Suite(
    "Big plain HTTP bodies through siotape record",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason),
    // The peak resident memory comes from /proc.
    .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status"), "no /proc: peak RSS unknown")
)
struct BodyMemoryTests {
    @Test("A 500 MiB download and a 100 MiB upload: the same bytes end to end, bounded memory, a small recording")
    func bigBodies() async throws {
        let environment = try #require(PeerEnvironment.current)
        signal(SIGPIPE, SIG_IGN)
        let peer = try Subprocess(
            name: "big_body.py", executable: environment.python5,
            arguments: [environment.script("big_body.py"), "--download", "500", "--upload", "100"], withStdin: true)
        defer { peer.terminate() }
        let line = try await peer.firstLine(timeout: Peers.readyTimeout)
        guard line.hasPrefix("READY "), let port = Int(line.dropFirst("READY ".count)) else {
            throw PeerError("big_body.py: expected `READY <port>`, got \(line.debugDescription)")
        }
        let recording = try temporaryRecordingURL("big-bodies")
        let proxy = try await Proxy.start(upstreamURL: "http://127.0.0.1:\(port)", recording: recording, in: environment)
        defer { proxy.terminate() }
        try peer.send(line: "PROXY \(proxy.port)")

        let output = try await peer.output(timeout: .seconds(300))
        let last = try #require(output.split(separator: "\n").last, "big_body.py printed nothing")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect((report["failures"] as? [String]) == [], "\(report)")
        let download = try #require(report["download"] as? [String: Any])
        let upload = try #require(report["upload"] as? [String: Any])
        #expect(download["bytes"] as? Int == 500 << 20 && download["sent"] as? String == download["received"] as? String)
        #expect(upload["bytes"] as? Int == 100 << 20 && upload["sent"] as? String == upload["received"] as? String)

        let peak = ProcessMemory.peakMiB(of: proxy.process.processIdentifier)
        print("siotape record: peak RSS \(peak) MiB after relaying 500 MiB down and 100 MiB up")
        #expect(peak > 0 && peak < 150, "peak RSS \(peak) MiB")

        proxy.process.terminate(killAfter: .seconds(60))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: recording.path)[.size] as? Int)
        #expect(size < 8 << 20, "the recording is \(size) bytes")
        let pieces = try readRecording(recording).compactMap { record -> Record.HTTPBody? in
            if case .body(let body) = record.event { return body } else { return nil }
        }
        // The two big bodies (the upload's small JSON answer ends too).
        let ends = pieces.filter { $0.last && ($0.size ?? 0) > 1 << 20 }
        #expect(ends.map(\.size) == [500 << 20, 100 << 20], "\(ends)")
        #expect(ends.allSatisfy { $0.note != nil }, "the body limit was reached: each last piece says so")
    }
}
