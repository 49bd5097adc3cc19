import NIOCore
import SIORecording
import SIOWire

/// HAR entries for the HTTP exchanges that are not Engine.IO: headers, bodies and timings, as a
/// browser exports a page's requests.
extension HARWriter {
    /// The kept pieces of one body, until its exchange's `http` record.
    struct PendingBody {
        var bytes = ByteBuffer()
        var binary = false
        var contentType: String?
        var inflated = false
        var size: Int?
        var note: String?

        mutating func add(_ piece: Record.HTTPBody) {
            switch piece.data {
            case .text(let text): self.bytes.writeString(text)
            case .binary(let bytes):
                self.binary = true
                self.bytes.writeImmutableBuffer(bytes)
            }
            if piece.sequence == 0 { self.contentType = piece.contentType }
            self.inflated = self.inflated || piece.inflated
            if let size = piece.size { self.size = size }
            if let note = piece.note { self.note = note }
        }

        /// Text when the kept bytes are UTF-8 (pieces that were base64 alone may still join into text).
        var data: RecordedData { RecordedData(textBytes: self.bytes) }
    }

    mutating func addBody(_ piece: Record.HTTPBody) {
        let key = PendingKey(connection: piece.connection, direction: piece.direction)
        self.pendingBodies[key, default: PendingBody()].add(piece)
    }

    /// An `http` record of an exchange that is not Engine.IO (`req_headers` present): one entry.
    mutating func addExchange(_ e: Record.HTTPExchange, wall: Int64, into out: inout ByteBuffer) {
        let request = self.pendingBodies.removeValue(forKey: PendingKey(connection: e.connection, direction: .clientToServer))
        let response = self.pendingBodies.removeValue(forKey: PendingKey(connection: e.connection, direction: .serverToClient))
        guard let requestHeaders = e.requestHeaders else { return }
        if self.entries > 0 { out.writeStaticString(",\n") }
        self.entries += 1
        let start = wall - e.durationMicros
        let milliseconds = Double(e.durationMicros) / 1000
        let responseHeaders = e.responseHeaders ?? []
        func header(_ headers: [Record.KeyValue], _ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
        out.writeStaticString("{\"startedDateTime\":")
        out.writeJSONString(Self.iso8601(start))
        out.writeString(",\"time\":\(milliseconds),\"request\":{\"method\":")
        out.writeJSONString(e.method)
        out.writeStaticString(",\"url\":")
        out.writeJSONString("http://" + self.host + e.path)
        out.writeStaticString(",\"httpVersion\":\"HTTP/1.1\",\"cookies\":[],\"headers\":")
        Self.pairs(requestHeaders, "name", into: &out)
        out.writeStaticString(",\"queryString\":")
        Self.pairs(Self.query(of: e.path), "name", into: &out)
        if let request {
            out.writeStaticString(",\"postData\":{\"mimeType\":")
            out.writeJSONString(request.contentType ?? header(requestHeaders, "content-type") ?? "")
            out.writeStaticString(",\"params\":[],\"text\":")
            switch request.data {
            case .text(let text):
                out.writeJSONString(text)
            case .binary(let bytes):
                // HAR 1.2 has no encoding for postData: the base64 text is marked the way
                // Chrome-compatible tools read it.
                out.writeJSONBase64(bytes)
                out.writeStaticString(",\"_encoding\":\"base64\"")
            }
            if let note = request.note {
                out.writeStaticString(",\"comment\":")
                out.writeJSONString(note)
            }
            out.writeStaticString("}")
        }
        out.writeString(",\"headersSize\":-1,\"bodySize\":\(e.requestBytes)},")
        let status = e.status ?? 0
        out.writeString("\"response\":{\"status\":\(status),\"statusText\":")
        out.writeJSONString(Self.reason(status))
        out.writeStaticString(",\"httpVersion\":\"HTTP/1.1\",\"cookies\":[],\"headers\":")
        Self.pairs(responseHeaders, "name", into: &out)
        out.writeStaticString(",\"content\":{")
        let mimeType = response?.contentType ?? header(responseHeaders, "content-type") ?? "x-unknown"
        if let response {
            let decoded = response.bytes.readableBytes
            let complete = response.note == nil
            // `size` is the length of the content as returned (decoded); `compression` what the
            // encoding saved (HAR 1.2 §content).
            let size = complete && response.inflated ? decoded : e.responseBytes
            out.writeString("\"size\":\(size)")
            if complete, response.inflated, decoded > e.responseBytes {
                out.writeString(",\"compression\":\(decoded - e.responseBytes)")
            }
            out.writeStaticString(",\"mimeType\":")
            out.writeJSONString(mimeType)
            out.writeStaticString(",\"text\":")
            switch response.data {
            case .text(let text): out.writeJSONString(text)
            case .binary(let bytes):
                out.writeJSONBase64(bytes)
                out.writeStaticString(",\"encoding\":\"base64\"")
            }
            if let note = response.note {
                out.writeStaticString(",\"comment\":")
                out.writeJSONString(note)
            }
        } else {
            out.writeString("\"size\":\(e.responseBytes),\"mimeType\":")
            out.writeJSONString(mimeType)
        }
        out.writeStaticString("},\"redirectURL\":")
        out.writeJSONString(header(responseHeaders, "location") ?? "")
        out.writeString(",\"headersSize\":-1,\"bodySize\":\(e.status == nil ? -1 : e.responseBytes)},")
        out.writeString(
            "\"cache\":{},\"timings\":{\"blocked\":-1,\"dns\":-1,\"ssl\":-1,\"connect\":-1,\"send\":0,"
                + "\"wait\":\(milliseconds),\"receive\":0}")
        if e.status == nil { out.writeStaticString(",\"comment\":\"no response\"") }
        out.writeStaticString("}")
    }

    /// `?a=1&b=2` of a path as name/value pairs (percent-decoded, as HAR's queryString is).
    static func query(of path: String) -> [Record.KeyValue] {
        guard let question = path.firstIndex(of: "?") else { return [] }
        return path[path.index(after: question)...].split(separator: "&").map { pair in
            guard let eq = pair.firstIndex(of: "=") else { return Record.KeyValue(decode(pair), "") }
            return Record.KeyValue(decode(pair[..<eq]), decode(pair[pair.index(after: eq)...]))
        }
        func decode(_ text: Substring) -> String { FormDecoding.percentDecoded(text) }
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 0: return ""
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return ""
        }
    }
}

struct PendingKey: Hashable {
    var connection: UInt64
    var direction: Direction
}
