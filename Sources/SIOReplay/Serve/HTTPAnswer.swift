import NIOCore
import SIORecording

/// What `replay serve` answers to a plain HTTP request: the recorded status, headers and body.
struct HTTPAnswer: Equatable {
    var status: Int
    var body: ByteBuffer
    /// The recorded response headers fit to send again; `nil` when the recording has none (made
    /// before bodies were kept, or an `--http` body): the content type is then guessed.
    var headers: [Record.KeyValue]?

    init(status: Int, body: ByteBuffer, headers: [Record.KeyValue]? = nil) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// Headers that belong to one connection or one encoding of the body (hop-by-hop ones,
    /// `Content-Length` and `Transfer-Encoding`, which the mock server sets itself, and
    /// `Content-Encoding`, since the recording keeps gzip/deflate bodies inflated), and
    /// redacted values, are left out.
    static func replayable(_ headers: [Record.KeyValue]) -> [Record.KeyValue] {
        let dropped: Set<String> = [
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
            "transfer-encoding", "upgrade", "content-length", "content-encoding",
        ]
        return headers.filter { !dropped.contains($0.name.lowercased()) && $0.value != "[redacted]" }
    }
}
