import CaptureFixtures
import Foundation
import NIOCore
import NIOHTTP1
import SIOWire

@testable import SIOCapture

/// Replays a tee capture (`conn-NNN.jsonl` files, see the captures README) as the calls the proxy
/// would make on its taps, with the manual clock set to each chunk's time.
struct CaptureReplayer {
    private struct Chunk: Decodable {
        var t: Double
        var conn: UInt64
        var dir: String
        var b64: String?
    }

    /// A minimal HTTP/1 splitter for one direction: Content-Length and chunked bodies, bodies
    /// until close, and the switch to raw bytes after a `101`.
    private struct Splitter {
        enum Mode { case head, body(remaining: Int), chunkSize, chunkData(Int), chunkTrailer, untilClose, raw }
        var buffer: [UInt8] = []
        var mode: Mode = .head
    }

    private final class Connection {
        let tap: ConnectionTap
        var splitters = [Splitter(), Splitter()]
        var closedDirections = 0
        var lastRequestMethod: HTTPMethod = .GET
        /// Whether the last request asked for a WebSocket (the proxy's machine decides the same way).
        var lastRequestUpgrade = false
        var switched = false
        init(tap: ConnectionTap) { self.tap = tap }
    }

    static func replay(_ scenario: String, into harness: Harness) throws {
        let folder = try CaptureFixtures.scenario(scenario)
        var chunks: [Chunk] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        where file.hasSuffix(".jsonl") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                chunks.append(try JSONDecoder().decode(Chunk.self, from: Data(line.utf8)))
            }
        }
        // Stable: chunks of one connection keep their file order.
        chunks = chunks.enumerated().sorted { ($0.element.t, $0.offset) < ($1.element.t, $1.offset) }.map(\.element)
        guard let start = chunks.first?.t else { return }
        var connections: [UInt64: Connection] = [:]
        for chunk in chunks {
            harness.clock.set(.microseconds(Int64(((chunk.t - start) * 1_000_000).rounded())))
            switch chunk.dir {
            case "open":
                connections[chunk.conn] = Connection(
                    tap: harness.hub.makeTap(connection: chunk.conn, peer: "127.0.0.1:\(40000 + chunk.conn)"))
            case "close":
                guard let connection = connections[chunk.conn] else { continue }
                connection.closedDirections += 1
                if connection.closedDirections == 2 {
                    Self.finishUntilClose(connection)
                    connection.tap.connectionClosed(cause: "client")
                    connections[chunk.conn] = nil
                }
            default:
                guard let connection = connections[chunk.conn], let b64 = chunk.b64,
                    let data = Data(base64Encoded: b64)
                else { continue }
                Self.feed(Array(data), direction: chunk.dir == "c2s" ? .clientToServer : .serverToClient, connection)
            }
        }
        for connection in connections.values {
            Self.finishUntilClose(connection)
            connection.tap.connectionClosed(cause: "end of capture")
        }
    }

    private static func finishUntilClose(_ connection: Connection) {
        if case .untilClose = connection.splitters[1].mode { connection.tap.responseEnd() }
    }

    private static func feed(_ bytes: [UInt8], direction: Direction, _ connection: Connection) {
        let d = direction == .clientToServer ? 0 : 1
        if case .raw = connection.splitters[d].mode {
            connection.tap.webSocketBytes(ByteBuffer(bytes: bytes), direction: direction)
            return
        }
        connection.splitters[d].buffer += bytes
        while Self.step(direction: direction, connection) {}
    }

    /// Consumes what it can; false when more bytes are needed.
    private static func step(direction: Direction, _ connection: Connection) -> Bool {
        let d = direction == .clientToServer ? 0 : 1
        let tap = connection.tap
        var splitter = connection.splitters[d]
        defer { connection.splitters[d] = splitter }
        switch splitter.mode {
        case .raw:
            guard !splitter.buffer.isEmpty else { return false }
            tap.webSocketBytes(ByteBuffer(bytes: splitter.buffer), direction: direction)
            splitter.buffer = []
            return false
        case .head:
            guard let end = Self.find([13, 10, 13, 10], in: splitter.buffer) else { return false }
            let lines = String(decoding: splitter.buffer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
            splitter.buffer.removeFirst(end + 4)
            var pairs: [(String, String)] = []
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                pairs.append(
                    (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            let headers = HTTPHead(method: .GET, uri: "/", headers: pairs).headers
            let parts = lines[0].split(separator: " ", maxSplits: 2).map(String.init)
            let chunked = headers["Transfer-Encoding"].contains { $0.lowercased().contains("chunked") }
            let length = headers["Content-Length"].first.flatMap { Int($0) }
            if direction == .clientToServer {
                let method = HTTPMethod(rawValue: parts[0])
                connection.lastRequestMethod = method
                connection.lastRequestUpgrade = headers.hasToken("websocket", name: "Upgrade")
                tap.requestHead(HTTPHead(method: method, uri: parts[1], headers: pairs))
                if chunked {
                    splitter.mode = .chunkSize
                } else if let length, length > 0 {
                    splitter.mode = .body(remaining: length)
                } else {
                    tap.requestEnd()
                }
            } else {
                let code = Int(parts[1]) ?? 0
                let head = HTTPHead(status: code, headers: pairs)
                if code == 101 && connection.lastRequestUpgrade {
                    tap.webSocketAccepted(head)
                } else {
                    tap.responseHead(head)
                }
                if code == 101 {
                    tap.responseEnd()
                    splitter.mode = .raw
                    connection.splitters[0].mode = .raw
                    if !connection.splitters[0].buffer.isEmpty {
                        tap.webSocketBytes(ByteBuffer(bytes: connection.splitters[0].buffer), direction: .clientToServer)
                        connection.splitters[0].buffer = []
                    }
                } else if chunked {
                    splitter.mode = .chunkSize
                } else if let length {
                    if length > 0 { splitter.mode = .body(remaining: length) } else { tap.responseEnd() }
                } else if code == 204 || code == 304 || connection.lastRequestMethod == .HEAD {
                    tap.responseEnd()
                } else {
                    splitter.mode = .untilClose
                }
            }
            return true
        case .body(let remaining):
            guard !splitter.buffer.isEmpty else { return false }
            let take = min(remaining, splitter.buffer.count)
            Self.body(Array(splitter.buffer[..<take]), direction, tap)
            splitter.buffer.removeFirst(take)
            if take == remaining {
                splitter.mode = .head
                Self.end(direction, tap)
            } else {
                splitter.mode = .body(remaining: remaining - take)
            }
            return true
        case .chunkSize:
            guard let end = Self.find([13, 10], in: splitter.buffer) else { return false }
            let line = String(decoding: splitter.buffer[..<end], as: UTF8.self)
            splitter.buffer.removeFirst(end + 2)
            let size = Int(line.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
            splitter.mode = size == 0 ? .chunkTrailer : .chunkData(size)
            return true
        case .chunkData(let remaining):
            guard splitter.buffer.count >= remaining + 2 else { return false }
            Self.body(Array(splitter.buffer[..<remaining]), direction, tap)
            splitter.buffer.removeFirst(remaining + 2)
            splitter.mode = .chunkSize
            return true
        case .chunkTrailer:
            guard let end = Self.find([13, 10], in: splitter.buffer) else { return false }
            splitter.buffer.removeFirst(end + 2)
            if end == 0 {
                splitter.mode = .head
                Self.end(direction, tap)
            }
            return true
        case .untilClose:
            guard !splitter.buffer.isEmpty else { return false }
            Self.body(splitter.buffer, direction, tap)
            splitter.buffer = []
            return false
        }
    }

    private static func body(_ bytes: [UInt8], _ direction: Direction, _ tap: ConnectionTap) {
        if direction == .clientToServer {
            tap.requestBody(ByteBuffer(bytes: bytes))
        } else {
            tap.responseBody(ByteBuffer(bytes: bytes))
        }
    }

    private static func end(_ direction: Direction, _ tap: ConnectionTap) {
        if direction == .clientToServer { tap.requestEnd() } else { tap.responseEnd() }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}
