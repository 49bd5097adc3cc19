import NIOCore
import SIORecording
import SIOWire

/// The recording's copy of one HTTP body of an exchange that is not Engine.IO: pieces in, `body`
/// records out. The relay never waits for it; it keeps at most `limit` bytes (the `--body-limit`),
/// counts the rest, and says so on the last piece.
///
/// A streamed body (chunked, read until the connection closes, or `text/event-stream`) gives a
/// piece per read, so server-sent events and downloads keep their times; any other body is written
/// whole when it ends. A gzip or deflate body is inflated on the copy when it ends (its pieces are
/// not written before, as a compressed piece alone means nothing); other encodings are kept as sent.
struct BodyCapture {
    let connection: UInt64
    let direction: Direction
    let limit: Int
    let contentType: String?
    let contentEncoding: String?
    let streamed: Bool
    let redactor: BodyRedactor
    /// Bytes of the body on the wire (after de-chunking), every byte counted.
    private(set) var size = 0
    /// Bytes kept so far (never more than `limit`).
    private var kept = 0
    private var pending = ByteBuffer()
    private var sequence = 0
    /// Values of body members that were masked, for the known secrets; the tap takes them.
    var secrets: [String] = []

    init(
        connection: UInt64, direction: Direction, headers: HTTPHead.Headers, limit: Int, streamed: Bool,
        redactor: BodyRedactor
    ) {
        self.connection = connection
        self.direction = direction
        self.limit = limit
        self.contentType = headers.first(name: "Content-Type")
        let coding = headers.first(name: "Content-Encoding")
        self.contentEncoding = coding
        self.streamed = streamed
        self.redactor = redactor
    }

    /// Whether the copy is inflated when the body ends.
    var inflates: Bool {
        switch self.contentEncoding?.lowercased().filter({ $0 != " " && $0 != "\t" }) {
        case "gzip", "x-gzip", "deflate": return true
        default: return false
        }
    }

    /// Whether a message with these headers is streamed (its pieces recorded as they come). A JSON
    /// or form body whose members are redacted is kept whole instead: a credential member cut
    /// between two reads would not be recognised.
    static func isStreamed(_ headers: HTTPHead.Headers, isResponse: Bool, redactor: BodyRedactor) -> Bool {
        if redactor.needsWholeBody(contentType: headers.first(name: "Content-Type")) { return false }
        if headers.hasToken("chunked", name: "Transfer-Encoding") { return true }
        if let type = headers.first(name: "Content-Type"), type.lowercased().hasPrefix("text/event-stream") {
            return true
        }
        // A response without a length is read until the connection closes.
        return isResponse && headers.first(name: "Content-Length") == nil
    }

    /// A piece as relayed; returns a record when the body is streamed.
    mutating func append(_ piece: ByteBuffer) -> Record.HTTPBody? {
        self.size += piece.readableBytes
        let room = self.limit - self.kept
        if room > 0 {
            let take = min(room, piece.readableBytes)
            self.pending.writeImmutableBuffer(piece.getSlice(at: piece.readerIndex, length: take)!)
            self.kept += take
        }
        guard self.streamed, !self.inflates, self.pending.readableBytes > 0 else { return nil }
        // A UTF-8 sequence cut by the read waits for its end, so text pieces stay text.
        let held = Self.incompleteUTF8Suffix(self.pending.readableBytesView)
        guard held < self.pending.readableBytes else { return nil }
        let out = self.pending.readSlice(length: self.pending.readableBytes - held)!
        self.pending = self.pending.readableBytes > 0 ? ByteBuffer(bytes: self.pending.readableBytesView) : ByteBuffer()
        return self.piece(out, last: false, note: nil)
    }

    /// The body ended (or was cut short); the last record, or `nil` for a body that never had a byte.
    mutating func finish() -> Record.HTTPBody? {
        guard self.size > 0 || self.sequence > 0 else { return nil }
        var bytes = self.pending
        self.pending = ByteBuffer()
        var notes: [String] = []
        var inflated = false
        if self.size > self.kept {
            notes.append(
                "body of \(self.size) bytes is over the body limit of \(self.limit) bytes; its first \(self.kept) are kept")
        }
        if self.inflates {
            if self.size > self.kept {
                notes.append("kept as sent (\(self.contentEncoding ?? "")): only its head is here")
            } else {
                do throws(WireError) {
                    if let copy = try HTTPContentCoding.decode(
                        bytes, contentEncoding: self.contentEncoding, limit: self.limit)
                    {
                        bytes = copy
                        inflated = true
                    }
                } catch {
                    notes.append("kept as sent: \(error.reason)")
                }
            }
        }
        var record = self.piece(bytes, last: true, note: notes.isEmpty ? nil : notes.joined(separator: "; "))
        record.inflated = inflated
        return record
    }

    private mutating func piece(_ bytes: ByteBuffer, last: Bool, note: String?) -> Record.HTTPBody {
        let first = self.sequence == 0
        var data = RecordedData(textBytes: bytes)
        if case .text = data, let masked = self.redactor.mask(bytes, contentType: self.contentType) {
            data = RecordedData(textBytes: masked.bytes)
            self.secrets.append(contentsOf: masked.secrets)
        }
        let record = Record.HTTPBody(
            connection: self.connection, direction: self.direction, sequence: self.sequence, data: data,
            contentType: first ? self.contentType : nil, contentEncoding: first ? self.contentEncoding : nil,
            inflated: false, last: last, size: last ? self.size : nil, note: note)
        self.sequence += 1
        return record
    }

    /// How many bytes at the end start a UTF-8 sequence that is not complete yet (0 to 3).
    static func incompleteUTF8Suffix(_ bytes: ByteBufferView) -> Int {
        var count = 0
        var index = bytes.endIndex
        while index > bytes.startIndex, count < 4 {
            index -= 1
            count += 1
            let byte = bytes[index]
            if byte & 0x80 == 0 { return 0 }  // ASCII: complete
            if byte & 0xC0 == 0xC0 {  // a lead byte: how long is its sequence?
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                return length > count ? count : 0
            }
        }
        return 0
    }
}
