import NIOCore
import NIOHTTP1
import SIORecording
import SIOWire

/// Answers one HTTP request of the mock server: a long-poll GET (now or later), a POST, a plain
/// HTTP request, an error.
struct PollResponder {
    let channel: any Channel
    let version: HTTPVersion
    let keepAlive: Bool
    let origin: String?

    init(channel: any Channel, head: HTTPRequestHead) {
        self.channel = channel
        self.version = head.version
        self.keepAlive = head.isKeepAlive
        self.origin = head.headers.first(name: "Origin")
    }

    /// Answers with Engine.IO packets framed as a long-polling body.
    func respond(packets: [EngineIOPacket], version: EngineIOVersion, base64: Bool) {
        let encoding: EngineIOPayloadEncoding
        switch version {
        case .v4: encoding = .v4Text
        // Like python-engineio 3: XHR2 framing unless the client asked for base64 (its lengths are
        // bytes, so non-ASCII text survives clients that count either way).
        case .v3: encoding = base64 ? .v3Text : .v3Binary
        }
        let body = EngineIOPayload.encode(packets, encoding: encoding)
        let contentType = encoding == .v3Binary ? "application/octet-stream" : "text/plain; charset=UTF-8"
        self.respond(status: .ok, contentType: contentType, body: body)
    }

    /// An Engine.IO error as the reference server words it: `{"code":N,"message":"..."}`.
    func respondError(status: Int, message: String) {
        let code =
            switch message {
            case _ where message.hasPrefix("Transport unknown"): 0
            case _ where message.hasPrefix("Session ID unknown"): 1
            case _ where message.hasPrefix("Bad handshake method"): 2
            case _ where message.hasPrefix("Unsupported protocol version"): 5
            default: 3
            }
        let json = "{\"code\":\(code),\"message\":\"\(message)\"}"
        self.respond(
            status: HTTPResponseStatus(statusCode: status), contentType: "application/json",
            body: ByteBuffer(string: json))
    }

    func respond(status: HTTPResponseStatus, contentType: String?, body: ByteBuffer) {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        self.respond(status: status, headers: headers, body: body)
    }

    /// A recorded plain HTTP answer: its headers (already without hop-by-hop ones), its body.
    func respond(status: HTTPResponseStatus, headers recorded: [Record.KeyValue], body: ByteBuffer) {
        var headers = HTTPHeaders()
        for header in recorded { headers.add(name: header.name, value: header.value) }
        self.respond(status: status, headers: headers, body: body)
    }

    private func respond(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        var headers = headers
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if let origin = self.origin, !headers.contains(name: "Access-Control-Allow-Origin") {
            headers.add(name: "Access-Control-Allow-Origin", value: origin)
            headers.add(name: "Access-Control-Allow-Credentials", value: "true")
        }
        headers.add(name: "Connection", value: self.keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: self.version, status: status, headers: headers)
        let channel = self.channel
        let keepAlive = self.keepAlive
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
