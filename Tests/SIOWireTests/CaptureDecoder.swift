import CaptureFixtures
import Foundation
import NIOCore
import SIOWire

/// Test-only: decodes a whole captured scenario (`Tests/CaptureFixtures/Fixtures/<name>/conn-NNN.jsonl`)
/// the way the proxy will, from the raw bytes of each TCP connection.
struct CaptureDecoder {
    struct HTTPMessage {
        var startLine: String
        var headers: [(String, String)]
        var body: ByteBuffer
        /// Offset just past the message in its stream.
        var end = 0

        func header(_ name: String) -> String? {
            self.headers.first(where: { $0.0.lowercased() == name.lowercased() })?.1
        }
    }

    /// Everything decoded from one scenario.
    struct Result {
        var engineIO: [(conn: Int, direction: Direction, transport: EngineIOTransport, packet: EngineIOPacket)] = []
        var socketIO: [(conn: Int, direction: Direction, packet: SocketIOPacket)] = []
        var errors: [String] = []
        var webSocketMessages = 0
        var compressedMessages = 0

        func socketIO(_ direction: Direction) -> [SocketIOPacket] {
            self.socketIO.filter { $0.direction == direction }.map(\.packet)
        }
    }

    static func decode(scenario: String) throws -> Result {
        let folder = try CaptureFixtures.scenario(scenario)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix("conn-") && $0.hasSuffix(".jsonl") }.sorted()
        guard !files.isEmpty else { throw CaptureError("no connections in \(scenario)") }
        var result = Result()
        var assemblers: [String: SocketIOBinaryAssembler] = [:]
        var events: [Event] = []
        for file in files {
            let (conn, c2s, s2c) = try self.readConnection(folder.appendingPathComponent(file))
            try self.decodeConnection(conn: conn, c2s: c2s, s2c: s2c, into: &result, events: &events)
        }
        // Sessions span TCP connections (Node answers a BINARY_EVENT on one long-poll and sends its
        // attachments on the next), so packets are joined in capture-time order.
        let ordered = events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
        for (_, event) in ordered {
            self.handle(event, into: &result, assemblers: &assemblers)
        }
        for (key, assembler) in assemblers {
            if let pending = assembler.pending { result.errors.append("\(key): pending \(pending)") }
        }
        return result
    }

    /// The bytes of each direction, concatenated in capture order.
    struct Stream {
        var bytes = ByteBuffer()
        /// (end offset, capture time) of every chunk.
        var chunks: [(end: Int, time: Double)] = []

        func time(at offset: Int) -> Double {
            (self.chunks.first(where: { $0.end >= offset }) ?? self.chunks.last!).time
        }
    }

    static func readConnection(_ url: URL) throws -> (Int, Stream, Stream) {
        let text = try String(contentsOf: url, encoding: .utf8)
        var c2s = Stream()
        var s2c = Stream()
        var conn = 0
        for line in text.split(separator: "\n") where !line.isEmpty {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            conn = object["conn"] as? Int ?? conn
            guard let b64 = object["b64"] as? String, let data = Data(base64Encoded: b64) else { continue }
            let time = object["t"] as? Double ?? 0
            switch object["dir"] as? String {
            case "c2s":
                c2s.bytes.writeBytes(data)
                c2s.chunks.append((c2s.bytes.writerIndex, time))
            case "s2c":
                s2c.bytes.writeBytes(data)
                s2c.chunks.append((s2c.bytes.writerIndex, time))
            default: break
            }
        }
        return (conn, c2s, s2c)
    }

    /// Reads HTTP/1.1 messages until the stream ends or `stopAfter` says the rest is not HTTP.
    static func readHTTPMessages(_ stream: inout ByteBuffer, stopAfter: (HTTPMessage) -> Bool) throws -> [HTTPMessage] {
        var messages: [HTTPMessage] = []
        while stream.readableBytes > 0 {
            let view = stream.readableBytesView
            guard let headEnd = view.firstRange(of: [13, 10, 13, 10]) else {
                throw CaptureError("incomplete HTTP head")
            }
            let headLength = headEnd.upperBound - view.startIndex
            let head = stream.readString(length: headLength)!
            var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            let startLine = lines.removeFirst()
            let headers: [(String, String)] = lines.map { line in
                let colon = line.firstIndex(of: ":")!
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            var message = HTTPMessage(startLine: startLine, headers: headers, body: ByteBuffer())
            if message.header("Transfer-Encoding")?.lowercased() == "chunked" {
                while true {
                    let sizeView = stream.readableBytesView
                    guard let lineEnd = sizeView.firstRange(of: [13, 10]) else { throw CaptureError("bad chunk") }
                    let sizeLine = stream.readString(length: lineEnd.upperBound - sizeView.startIndex)!
                    let size = Int(sizeLine.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";")[0], radix: 16)!
                    if size == 0 {
                        stream.moveReaderIndex(forwardBy: 2)  // no trailers in the captures
                        break
                    }
                    var chunk = stream.readSlice(length: size)!
                    message.body.writeBuffer(&chunk)
                    stream.moveReaderIndex(forwardBy: 2)
                }
            } else if let length = message.header("Content-Length").flatMap({ Int($0) }), length > 0 {
                guard let body = stream.readSlice(length: length) else { throw CaptureError("truncated body") }
                message.body = body
            }
            message.end = stream.readerIndex
            messages.append(message)
            if stopAfter(message) { break }
        }
        return messages
    }

    static func decodeConnection(
        conn: Int, c2s c2sStream: Stream, s2c s2cStream: Stream, into result: inout Result, events: inout [Event]
    ) throws {
        var c2s = c2sStream.bytes
        var s2c = s2cStream.bytes
        let requests = try self.readHTTPMessages(&c2s) { $0.header("Upgrade")?.lowercased() == "websocket" }
        let responses = try self.readHTTPMessages(&s2c) { $0.startLine.contains(" 101 ") }

        func handle(
            _ packet: EngineIOPacket, _ direction: Direction, _ transport: EngineIOTransport,
            _ target: EngineIORequestTarget, time: Double
        ) {
            events.append(Event(time: time, conn: conn, direction: direction, transport: transport, target: target, packet: packet))
        }

        for (index, request) in requests.enumerated() {
            let parts = request.startLine.split(separator: " ")
            let method = String(parts[0])
            let target = EngineIORequestTarget(uri: String(parts[1]))
            guard let version = target.version else { continue }
            let response = index < responses.count ? responses[index] : nil
            if target.transport == .polling {
                if method == "POST", request.body.readableBytes > 0 {
                    let encoding = EngineIOPayload.encoding(
                        version: version, contentType: request.header("Content-Type"), body: request.body)
                    let decoded = EngineIOPayload.decode(request.body, encoding: encoding)
                    if let error = decoded.error { result.errors.append("conn\(conn) POST body: \(error)") }
                    for packet in decoded.packets {
                        handle(packet, .clientToServer, .polling, target, time: c2sStream.time(at: request.end))
                    }
                }
                if method == "GET", let response = response, response.startLine.contains(" 200 ") {
                    let encoding = EngineIOPayload.encoding(
                        version: version, contentType: response.header("Content-Type"), body: response.body)
                    let decoded = EngineIOPayload.decode(response.body, encoding: encoding)
                    if let error = decoded.error { result.errors.append("conn\(conn) GET body: \(error)") }
                    for packet in decoded.packets {
                        handle(packet, .serverToClient, .polling, target, time: s2cStream.time(at: response.end))
                    }
                }
            } else if target.transport == .websocket, let response, response.startLine.contains(" 101 ") {
                let deflate = response.header("Sec-WebSocket-Extensions").flatMap {
                    PerMessageDeflate.negotiated(responseHeader: $0)
                }
                for (direction, stream, parameters) in [
                    (Direction.clientToServer, c2sStream, deflate?.clientToServer),
                    (Direction.serverToClient, s2cStream, deflate?.serverToClient),
                ] {
                    var decoder = WebSocketStreamDecoder(maxMessageSize: 1_000_000, deflate: parameters)
                    // Fed chunk by chunk as captured, so each message gets the time it completed.
                    let upgradeEnd = direction == .clientToServer ? request.end : response.end
                    var chunkStart = 0
                    var failed = false
                    for chunk in stream.chunks {
                        defer { chunkStart = chunk.end }
                        guard chunk.end > upgradeEnd, !failed else { continue }
                        let from = max(chunkStart, upgradeEnd)
                        decoder.append(stream.bytes.getSlice(at: from, length: chunk.end - from)!)
                    while true {
                        let message: WebSocketStreamDecoder.Message?
                        do {
                            message = try decoder.next()
                        } catch {
                            result.errors.append("conn\(conn) \(direction.rawValue) websocket: \(error)")
                            failed = true
                            break
                        }
                        guard let message else { break }
                        result.webSocketMessages += 1
                        if message.wasCompressed { result.compressedMessages += 1 }
                        do {
                            switch message.kind {
                            case .text:
                                handle(
                                    try EngineIOPacket.decode(webSocketText: message.payload), direction, .websocket, target,
                                    time: chunk.time)
                            case .binary:
                                handle(
                                    try EngineIOPacket.decode(webSocketBinary: message.payload, version: version), direction,
                                    .websocket, target, time: chunk.time)
                            case .close, .ping, .pong:
                                break
                            }
                        } catch {
                            result.errors.append("conn\(conn) \(direction.rawValue) engine.io: \(error)")
                        }
                    }
                }
                    }
            }
        }
    }
}

extension CaptureDecoder {
    struct Event {
        var time: Double
        var conn: Int
        var direction: Direction
        var transport: EngineIOTransport
        var target: EngineIORequestTarget
        var packet: EngineIOPacket
    }

    static func handle(_ event: Event, into result: inout Result, assemblers: inout [String: SocketIOBinaryAssembler]) {
        let (conn, direction, packet, target) = (event.conn, event.direction, event.packet, event.target)
        result.engineIO.append((conn, direction, event.transport, packet))
        guard packet.type == .message, let version = target.version else { return }
        let key = "\(target.sid ?? "conn\(conn)") \(direction.rawValue)"
        var assembler = assemblers[key] ?? SocketIOBinaryAssembler()
        defer { assemblers[key] = assembler }
        let action: SocketIOBinaryAssembler.Action
        if packet.isBinary {
            action = assembler.receiveAttachment(packet.data)
        } else {
            do {
                action = assembler.receive(try SocketIOPacket.decode(packet.data, version: version.socketIOVersion))
            } catch {
                result.errors.append("conn\(conn) \(direction.rawValue) \(String(buffer: packet.data)): \(error)")
                return
            }
        }
        switch action {
        case .complete(let packet): result.socketIO.append((conn, direction, packet))
        case .waiting: break
        default: result.errors.append("conn\(conn) \(direction.rawValue): \(action)")
        }
    }
}

struct CaptureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
