import NIOCore
import NIOHTTP1
import SIOWire

/// A HAR's entries checked and laid out on one time line: what `HARImporter` feeds the capture,
/// step by step. Making the plan is where a malformed HAR is refused (a date that is not ISO 8601,
/// bad base64, an unknown WebSocket opcode, a URL without a host), before any record is written.
struct HARImportPlan {
    /// One HAR entry, ready to be fed to a `ConnectionTap`.
    struct Exchange {
        /// The entry's index in `log.entries`.
        var index: Int
        var origin: String
        var request: HTTPHead
        var requestBody: Body?
        /// `nil` when no response came (HAR status 0 or -1).
        var response: HTTPHead?
        /// The response body as the browser decoded it; `nil` when the HAR does not have it.
        var responseBody: Body?
        /// The response's `Content-Encoding` (left out of the head the tap sees, since the HAR's
        /// body is already decoded) and where it stood among the headers.
        var contentEncoding: (value: String, position: Int)?
        var messages: [Message] = []
        /// Wall-clock microseconds: request sent, response ended, connection ended.
        var requestTime: Int64
        var responseTime: Int64
        var closeTime: Int64

        /// The plan's verdict, told to the tap (`webSocketAccepted`): a `101` answered a WebSocket upgrade.
        var isWebSocket: Bool { self.response?.statusCode == 101 }
    }

    /// A body as the HAR has it, checked; its bytes are made when it is fed, so that a large HAR's
    /// bodies are not held twice (as the archive's strings and as bytes).
    struct Body {
        var text: String
        var base64: Bool

        var bytes: ByteBuffer {
            guard self.base64 else { return ByteBuffer(string: self.text) }
            return (try? HARImportPlan.decodeBase64(self.text, at: "")) ?? ByteBuffer()
        }
    }

    /// A WebSocket message of `_webSocketMessages`.
    struct Message {
        var time: Int64
        var direction: Direction
        var opcode: UInt8
        var data: Body

        /// The frame that carried it.
        var frame: ByteBuffer { WebSocketFrameEncoder.frame(opcode: self.opcode, payload: self.data.bytes) }
    }

    /// What happens at one moment, in the order the capture is fed.
    enum Step: Equatable {
        case request(Int)
        case response(Int)
        case message(Int, Int)
        case close(Int)

        /// Among steps at the same microsecond: requests first (an ack in a poll answer comes after
        /// the POST that carried its event), then answers (a 101 before its socket's first frame),
        /// frames, and connection ends.
        var rank: Int {
            switch self {
            case .request: 0
            case .response: 1
            case .message: 2
            case .close: 3
            }
        }
    }

    var exchanges: [Exchange] = []
    /// Entries the browser answered from its cache: they never reached the server, so `record`
    /// would not have seen them either.
    var cached = 0
    /// Every step with its wall-clock time, in time order.
    var steps: [(time: Int64, step: Step)] = []
    /// The earliest time of any step: time 0 of the recording.
    var start: Int64 = 0
    /// The origin (`scheme://host:port`) of the first Engine.IO request, else of the first entry.
    var upstream: String?

    init(_ archive: HARArchive) throws(HARImportError) {
        var engineIOOrigin: String?
        for (index, entry) in archive.log.entries.enumerated() {
            let exchange = try Self.exchange(entry, index: index)
            if entry.isFromCache {
                self.cached += 1
                continue
            }
            if engineIOOrigin == nil, exchange.request.uriContains("EIO=") { engineIOOrigin = exchange.origin }
            self.exchanges.append(exchange)
        }
        Self.orderCausally(&self.exchanges)
        self.upstream = engineIOOrigin ?? self.exchanges.first?.origin
        for (number, exchange) in self.exchanges.enumerated() {
            self.steps.append((exchange.requestTime, .request(number)))
            if exchange.response != nil { self.steps.append((exchange.responseTime, .response(number))) }
            for (m, message) in exchange.messages.enumerated() { self.steps.append((message.time, .message(number, m))) }
            self.steps.append((exchange.closeTime, .close(number)))
        }
        // Stable: steps of one entry keep their order (frames in HAR order, their times made
        // non-decreasing above).
        self.steps = self.steps.enumerated().sorted { a, b in
            if a.element.time != b.element.time { return a.element.time < b.element.time }
            if a.element.step.rank != b.element.step.rank { return a.element.step.rank < b.element.step.rank }
            return a.offset < b.offset
        }.map(\.element)
        self.start = self.steps.first?.time ?? 0
    }

    private static func exchange(_ entry: HARArchive.Entry, index: Int) throws(HARImportError) -> Exchange {
        let at = "log.entries[\(index)]"
        guard let started = HARDate.micros(entry.startedDateTime) else {
            throw HARImportError("\(at).startedDateTime is not an ISO 8601 date-time: \"\(entry.startedDateTime.prefix(60))\"")
        }
        guard let url = HARURL(entry.request.url) else {
            throw HARImportError("\(at).request.url is not an absolute http(s) or ws(s) URL: \"\(entry.request.url.prefix(200))\"")
        }
        guard Self.isToken(entry.request.method) else {
            throw HARImportError("\(at).request.method is not an HTTP method: \"\(entry.request.method.prefix(40))\"")
        }
        var requestHeaders: [(String, String)] = []
        for header in try Self.headers(entry.request.headers, at: "\(at).request.headers") {
            requestHeaders.append((header.name, header.value))
        }
        if !requestHeaders.contains(where: { $0.0.lowercased() == "host" }) { requestHeaders.append(("Host", url.authority)) }
        if entry.response.status == 101, !requestHeaders.contains(where: { $0.0.lowercased() == "upgrade" }) {
            // Some writers leave the handshake's headers out; a 101 answered an upgrade to WebSocket.
            requestHeaders.append(("Upgrade", "websocket"))
        }
        let request = HTTPHead(
            method: HTTPMethod(rawValue: entry.request.method.uppercased()), uri: url.target, headers: requestHeaders)
        var requestBody: Body?
        if let post = entry.request.postData, let text = post.text, !text.isEmpty {
            requestBody = try Self.body(text, base64: post.encoding == "base64", at: "\(at).request.postData.text")
        }

        // Times: the request is sent after the connection's setup, the response ends `time` ms
        // after the start (HAR 1.2: the sum of the timings).
        let timings = entry.timings
        let phases: [(String, Double?)] = [
            ("blocked", timings?.blocked), ("dns", timings?.dns), ("connect", timings?.connect), ("send", timings?.send),
            ("wait", timings?.wait), ("receive", timings?.receive),
        ]
        var durations: [Double] = []
        for (name, value) in phases { durations.append(try Self.milliseconds(value, at: "\(at).timings.\(name)")) }
        let setup = durations[0..<4].reduce(0, +)
        let total: Double =
            if let time = entry.time, time >= 0 {
                try Self.milliseconds(time, at: "\(at).time")
            } else {
                durations.reduce(0, +)
            }
        let requestTime = started + Int64((min(setup, total) * 1000).rounded())
        var exchange = Exchange(
            index: index, origin: url.origin, request: request, requestBody: requestBody, response: nil,
            responseBody: nil, contentEncoding: nil, requestTime: requestTime,
            responseTime: max(started + Int64((total * 1000).rounded()), requestTime), closeTime: 0)

        let response = entry.response
        if response.status > 0 {
            guard response.status < 1000 else {
                throw HARImportError("\(at).response.status is not an HTTP status: \(response.status)")
            }
            var headers: [(String, String)] = []
            for header in try Self.headers(response.headers, at: "\(at).response.headers") {
                if header.name.lowercased() == "content-encoding" {
                    exchange.contentEncoding = (header.value, headers.count)
                } else {
                    headers.append((header.name, header.value))
                }
            }
            exchange.response = HTTPHead(status: response.status, headers: headers)
            if let content = response.content, let text = content.text, response.status != 101 {
                exchange.responseBody = try Self.body(
                    text, base64: content.encoding == "base64", at: "\(at).response.content.text")
            }
        }
        exchange.closeTime = exchange.responseTime
        if exchange.isWebSocket {
            // The handshake's answer comes before the first frame, whatever the timings say.
            // The messages' order in the HAR is the order on the socket; a time that says otherwise
            // (a `send` and a `receive` stamped on different threads) takes its predecessor's.
            for (m, message) in (entry.webSocketMessages ?? []).enumerated() {
                var decoded = try Self.message(message, at: "\(at)._webSocketMessages[\(m)]", default: exchange.responseTime)
                if let previous = exchange.messages.last { decoded.time = max(decoded.time, previous.time) }
                exchange.messages.append(decoded)
            }
            let first = exchange.messages.map(\.time).min() ?? exchange.responseTime
            exchange.responseTime = min(exchange.responseTime, first)
            exchange.requestTime = min(exchange.requestTime, exchange.responseTime)
            exchange.closeTime = max(exchange.messages.map(\.time).max() ?? exchange.responseTime, exchange.responseTime)
        }
        return exchange
    }

    /// A HAR's headers without HTTP/2's pseudo-headers (`:authority`), each name checked.
    private static func headers(_ headers: [HARArchive.Header]?, at: String) throws(HARImportError) -> [HARArchive.Header] {
        var kept: [HARArchive.Header] = []
        for (index, header) in (headers ?? []).enumerated() where !header.name.hasPrefix(":") {
            guard Self.isToken(header.name) else {
                throw HARImportError("\(at)[\(index)].name is not an HTTP header name: \"\(header.name.prefix(60))\"")
            }
            kept.append(header)
        }
        return kept
    }

    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(HTTP1StreamParser.isTokenByte)
    }

    /// A duration of the HAR in milliseconds: 0 when absent or negative (HAR's -1: not known); one
    /// that is not finite or longer than about four months is refused rather than trusted.
    private static func milliseconds(_ value: Double?, at: String) throws(HARImportError) -> Double {
        guard let value else { return 0 }
        guard value.isFinite, value <= 1e10 else { throw HARImportError("\(at) is out of range: \(value) ms") }
        return max(value, 0)
    }

    /// Checks a body's base64 (the bytes are made when it is fed).
    private static func body(_ text: String, base64: Bool, at: String) throws(HARImportError) -> Body {
        if base64 { _ = try Self.decodeBase64(text, at: at) }
        return Body(text: text, base64: base64)
    }

    static func decodeBase64(_ text: String, at: String) throws(HARImportError) -> ByteBuffer {
        let compact = text.utf8.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
        let decoded = compact.withUnsafeBytes { raw in Result { () throws(WireError) in try Base64.decode(raw) } }
        switch decoded {
        case .success(let bytes): return bytes
        case .failure(let error):
            throw HARImportError("\(at) is marked base64 but is not base64: \(error.reason) (at character \(error.offset))")
        }
    }

    private static func message(
        _ message: HARArchive.WebSocketMessage, at: String, default time: Int64
    ) throws(HARImportError) -> Message {
        let direction: Direction
        switch message.type {
        case "send": direction = .clientToServer
        case "receive": direction = .serverToClient
        default: throw HARImportError("\(at).type is \"\(message.type.prefix(40))\", not \"send\" or \"receive\"")
        }
        let payload: Body
        switch message.opcode {
        // Text and control frames' data is text; a binary message's is base64.
        case 1, 8, 9, 10: payload = Body(text: message.data, base64: false)
        case 2: payload = try Self.body(message.data, base64: true, at: "\(at).data")
        default: throw HARImportError("\(at).opcode is \(message.opcode): not a WebSocket data or control opcode (1, 2, 8, 9, 10)")
        }
        // Chrome writes seconds since the epoch, Playwright milliseconds: 1e11 s is the year 5138.
        guard message.time.isFinite, message.time < 1e14 else {
            throw HARImportError("\(at).time is out of range: \(message.time)")
        }
        let micros: Int64 =
            if message.time <= 0 { time }
            else if message.time < 1e11 { Int64((message.time * 1_000_000).rounded()) }
            else { Int64((message.time * 1000).rounded()) }
        return Message(time: micros, direction: direction, opcode: UInt8(message.opcode), data: payload)
    }
}
