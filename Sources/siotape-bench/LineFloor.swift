import ArgumentParser
import NIOCore
import SIORecording

/// The floor of a recording proxy on this design (`siotape-bench relay --lines`): the plain relay,
/// plus, for every WebSocket message it relays, one line of a real recording of the same load
/// handed to a `RecordingWriter`, which compresses and writes it as `record`'s writer does.
///
/// No decoding, no encoding, no session table, no queue: a capture whose only cost is its output,
/// which every design that writes DESIGN.md's recording must produce and deflate. What this costs
/// above the plain relay is what compressing the recording costs at the least; what it reaches
/// against nginx bounds what any recording proxy on SwiftNIO and zlib can reach on the machine
/// (tools/bench/RESULTS.md, issue 17, session 13).
final class LineFeed: Sendable {
    /// The lines of one direction, in one buffer, and where each ends.
    struct Pool: Sendable {
        fileprivate var bytes = ByteBuffer()
        fileprivate var ends: [Int] = []

        var count: Int { self.ends.count }

        fileprivate mutating func append(_ line: ByteBuffer) {
            self.bytes.writeImmutableBuffer(line)
            self.bytes.writeInteger(UInt8(ascii: "\n"))
            self.ends.append(self.bytes.writerIndex)
        }

        fileprivate func line(_ index: Int) -> ByteBuffer {
            let start = index == 0 ? 0 : self.ends[index - 1]
            return self.bytes.getSlice(at: start, length: self.ends[index] - start)!
        }
    }

    let writer: RecordingWriter
    /// The client's messages' lines (`"dir":"c2s"`), and the server's (`"dir":"s2c"`).
    let client: Pool
    let server: Pool

    /// Reads the client's and the server's packet lines of a recording (`"dir":"c2s"` and
    /// `"dir":"s2c"`) and opens the recording the floor writes to.
    init(linesOf source: String, recordingTo path: String) throws {
        let reader = try RecordingReader(path: source)
        var client = Pool()
        var server = Pool()
        while let line = try reader.nextRecordLine() {
            if line.readableBytesView.firstRange(of: #""dir":"c2s""#.utf8) != nil {
                client.append(line)
            } else if line.readableBytesView.firstRange(of: #""dir":"s2c""#.utf8) != nil {
                server.append(line)
            }
        }
        guard client.count > 0, server.count > 0 else {
            throw ValidationError("\(source) has no client and server packet lines (\"dir\":\"c2s\", \"dir\":\"s2c\")")
        }
        self.client = client
        self.server = server
        self.writer = try RecordingWriter(
            path: path, header: RecordingHeader(startedAtMicros: 0, tool: "siotape-bench relay --lines"))
    }

    /// Appends `count` lines of `pool`, from `cursor` on (wrapping), in one append.
    func write(_ count: Int, of pool: Pool, cursor: inout Int) {
        self.writer.appendLines { buffer in
            for _ in 0..<count {
                buffer.writeImmutableBuffer(pool.line(cursor))
                cursor = cursor + 1 == pool.count ? 0 : cursor + 1
            }
            return (count, 0)
        }
    }
}

/// Counts the complete WebSocket messages in one direction of a connection's bytes: the HTTP head
/// (the upgrade request, or its `101` answer) is skipped, then each frame's header is read and its
/// payload skipped. A data frame with FIN set ends a message; control frames are not counted.
struct WebSocketMessageCounter {
    /// Bytes of the head's closing `\r\n\r\n` matched so far; 4 once the head is over.
    private var headEnd = 0
    /// Bytes of the current frame's payload still to skip.
    private var skip = 0
    /// The current frame's header, as far as it has arrived.
    private var header: [UInt8] = []

    /// The messages that `bytes` completes.
    mutating func count(_ bytes: ByteBuffer) -> Int {
        bytes.withUnsafeReadableBytes { self.count($0) }
    }

    private mutating func count(_ bytes: UnsafeRawBufferPointer) -> Int {
        var messages = 0
        var index = 0
        while index < bytes.count {
            if self.headEnd < 4 {
                let byte = bytes[index]
                index += 1
                let expected: UInt8 = self.headEnd % 2 == 0 ? 13 : 10
                self.headEnd = byte == expected ? self.headEnd + 1 : (byte == 13 ? 1 : 0)
                continue
            }
            if self.skip > 0 {
                let taken = min(self.skip, bytes.count - index)
                self.skip -= taken
                index += taken
                continue
            }
            self.header.append(bytes[index])
            index += 1
            guard let (length, ends) = Self.frame(self.header) else { continue }
            self.header.removeAll(keepingCapacity: true)
            self.skip = length
            if ends { messages += 1 }
        }
        return messages
    }

    /// The payload length of a complete frame header, and whether the frame ends a data message;
    /// nil while the header is incomplete.
    private static func frame(_ header: [UInt8]) -> (length: Int, endsMessage: Bool)? {
        guard header.count >= 2 else { return nil }
        let masked = header[1] & 0x80 != 0
        let short = Int(header[1] & 0x7F)
        let extended = short == 126 ? 2 : short == 127 ? 8 : 0
        guard header.count == 2 + extended + (masked ? 4 : 0) else { return nil }
        var length = short
        if extended > 0 {
            length = 0
            for byte in header[2..<(2 + extended)] { length = length << 8 | Int(byte) }
        }
        let opcode = header[0] & 0x0F
        return (length, header[0] & 0x80 != 0 && opcode < 8)
    }
}
