import NIOCore
import SIOWire

extension Record {
    /// One piece of the body of an HTTP exchange that is not Engine.IO (`body`), as it was relayed.
    ///
    /// The `body` records of a connection that come before its next `http` record belong to that
    /// exchange (requests on a connection are sequential): `c2s` pieces are the request body, `s2c`
    /// pieces the response body, each numbered from 0 in `sequence`. A streamed body (chunked or
    /// read until the connection closes: server-sent events, downloads) gets a record per piece as
    /// it arrives, so the pieces keep their times; other bodies are written whole when they end.
    public struct HTTPBody: Hashable, Sendable {
        public var connection: UInt64
        /// `c2s` for the request body, `s2c` for the response body.
        public var direction: Direction
        /// The index of this piece within its body, from 0.
        public var sequence: Int
        /// The bytes of the piece: text when UTF-8, binary otherwise. A body sent with
        /// `Content-Encoding: gzip` or `deflate` is kept inflated (`inflated`); other encodings as sent.
        public var data: RecordedData
        /// The body's `Content-Type`, on the first piece.
        public var contentType: String?
        /// The body's `Content-Encoding` as sent, on the first piece.
        public var contentEncoding: String?
        /// True when the kept bytes are the inflated copy of a gzip or deflate body.
        public var inflated: Bool
        /// True on the last piece of the body.
        public var last: Bool
        /// On the last piece: the body's size on the wire (after de-chunking), every byte counted.
        public var size: Int?
        /// On the last piece, when not every byte was kept: why (the `--body-limit` was reached, the
        /// body could not be inflated, ...).
        public var note: String?

        public init(
            connection: UInt64, direction: Direction, sequence: Int, data: RecordedData, contentType: String? = nil,
            contentEncoding: String? = nil, inflated: Bool = false, last: Bool = false, size: Int? = nil,
            note: String? = nil
        ) {
            self.connection = connection
            self.direction = direction
            self.sequence = sequence
            self.data = data
            self.contentType = contentType
            self.contentEncoding = contentEncoding
            self.inflated = inflated
            self.last = last
            self.size = size
            self.note = note
        }
    }
}
