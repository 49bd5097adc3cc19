import Foundation
import SIORecording
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `siotape record` in front of a port nobody listens on.
@Suite(
    "siotape record with an unreachable upstream",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct UnreachableUpstreamTests {
    @Test("Each request gets a 502 that says the upstream cannot be reached; the proxy keeps running")
    func unreachableUpstreamAnswers502() async throws {
        let environment = try #require(PeerEnvironment.current)
        let port = try closedPort()
        let recording = try temporaryRecordingURL("unreachable")
        let proxy = try await Proxy.start(
            upstreamURL: "http://127.0.0.1:\(port)", recording: recording, in: environment)
        defer { proxy.terminate() }

        for attempt in 1...2 {
            let response = try await Peers.httpGet(
                proxy.url + "/socket.io/?EIO=4&transport=polling", in: environment)
            #expect(response.status == 502, "request \(attempt): \(response)")
            let body = response.body.lowercased()
            #expect(body.contains("upstream") && (body.contains("unreachable") || body.contains("cannot")),
                    "request \(attempt): the body does not say the upstream is unreachable: \(response.body.debugDescription)")
        }
        proxy.terminate()

        let records = try readRecording(recording)
        let exchanges = records.compactMap { record -> Record.HTTPExchange? in
            if case .http(let exchange) = record.event { return exchange }
            return nil
        }
        #expect(exchanges.count == 2, "http records: \(exchanges)")
        #expect(exchanges.allSatisfy { $0.status == nil && $0.method == "GET" },
                "an http record claims an upstream response: \(exchanges)")
        let notes = records.compactMap { record -> Record.Note? in
            if case .note(let note) = record.event { return note }
            return nil
        }
        #expect(!notes.isEmpty, "no note says the upstream could not be reached")
    }
}

/// A loopback port that was free a moment ago and on which nothing listens now.
private func closedPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw PeerError("socket() failed: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
        }
    }
    guard bound else { throw PeerError("bind() failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
