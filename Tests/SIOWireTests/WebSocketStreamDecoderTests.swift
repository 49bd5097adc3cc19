import CompressNIO
import NIOCore
import SIOWire
import Testing

/// Builds one frame. `mask` masks the payload as a client would.
func frame(
    _ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false, mask: [UInt8]? = nil
) -> ByteBuffer {
    var out = ByteBuffer()
    out.writeInteger((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode)
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    if payload.count < 126 {
        out.writeInteger(maskBit | UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
        out.writeInteger(maskBit | 126)
        out.writeInteger(UInt16(payload.count))
    } else {
        out.writeInteger(maskBit | 127)
        out.writeInteger(UInt64(payload.count))
    }
    if let mask {
        out.writeBytes(mask)
        out.writeBytes(payload.enumerated().map { $0.element ^ mask[$0.offset & 3] })
    } else {
        out.writeBytes(payload)
    }
    return out
}

func drain(_ decoder: inout WebSocketStreamDecoder) throws -> [WebSocketStreamDecoder.Message] {
    var messages: [WebSocketStreamDecoder.Message] = []
    while let message = try decoder.next() { messages.append(message) }
    return messages
}

/// Compresses like a permessage-deflate sender: sync flush, without the trailing `00 00 ff ff`.
final class DeflateSender {
    let compressor: ZlibCompressor
    init() throws { self.compressor = try ZlibCompressor(algorithm: .deflate) }

    func message(_ bytes: [UInt8]) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        var output = ByteBuffer()
        output.reserveCapacity(self.compressor.maxSize(from: input))
        try self.compressor.deflate(from: &input, to: &output, flush: .sync)
        #expect(input.readableBytes == 0)
        var result = output.readBytes(length: output.readableBytes)!
        #expect(Array(result.suffix(4)) == [0, 0, 0xFF, 0xFF])
        result.removeLast(4)
        return result
    }
}

@Suite struct WebSocketStreamDecoderTests {
    @Test func lengthsMasksAndDripFeeding() throws {
        let big = [UInt8](repeating: 0x61, count: 300)
        let huge = (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }
        var stream = frame(1, Array("4hello".utf8), mask: [1, 2, 3, 4])
        stream.writeImmutableBuffer(frame(2, big))
        stream.writeImmutableBuffer(frame(2, huge, mask: [0xAC, 0x32, 0x67, 0x2C]))
        stream.writeImmutableBuffer(frame(8, [0x03, 0xE8], mask: [9, 9, 9, 9]))
        // Byte by byte, then all at once: the same messages.
        for chunkSize in [1, 7, stream.readableBytes] {
            var decoder = WebSocketStreamDecoder(maxMessageSize: 100_000, deflate: nil)
            var messages: [WebSocketStreamDecoder.Message] = []
            var rest = stream
            while let chunk = rest.readSlice(length: min(chunkSize, rest.readableBytes)) , chunk.readableBytes > 0 {
                decoder.append(chunk)
                messages += try drain(&decoder)
            }
            #expect(messages.map(\.kind) == [.text, .binary, .binary, .close])
            #expect(messages[0].payload == buf("4hello"))
            #expect(messages[1].payload == bytes(big))
            #expect(messages[2].payload == bytes(huge))
            #expect(messages[3].payload == bytes([0x03, 0xE8]))
        }
    }

    @Test func maskedPayloadsOfEveryLengthAroundTheWordSize() throws {
        let key: [UInt8] = [0x9D, 0x01, 0xF0, 0x37]
        for length in 0...21 {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            var stream = frame(2, payload, mask: key)
            stream.writeImmutableBuffer(frame(2, payload.reversed(), mask: key))
            for chunkSize in [1, 5, stream.readableBytes] {
                var decoder = WebSocketStreamDecoder(maxMessageSize: 1_000, deflate: nil)
                var messages: [WebSocketStreamDecoder.Message] = []
                var rest = stream
                while let chunk = rest.readSlice(length: min(chunkSize, rest.readableBytes)), chunk.readableBytes > 0 {
                    decoder.append(chunk)
                    messages += try drain(&decoder)
                }
                #expect(messages.map(\.payload) == [bytes(payload), bytes(payload.reversed())], "length \(length)")
            }
        }
    }

    /// A client's read of many masked frames (unmasked together into one buffer) gives the same
    /// messages as the frames fed one at a time, whatever stops the run of plain frames: a
    /// fragmented message, a ping, an oversized frame (skipped), a frame cut at the end of the read.
    @Test func manyMaskedFramesInOneRead() throws {
        let keys: [[UInt8]] = [[1, 2, 3, 4], [0xFF, 0, 0x80, 7], [0x37, 0xFA, 0x21, 0x3D]]
        var frames: [ByteBuffer] = []
        var expected: [WebSocketStreamDecoder.Message] = []
        func add(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, message: WebSocketStreamDecoder.Message? = nil) {
            frames.append(frame(opcode, payload, fin: fin, mask: keys[frames.count % keys.count]))
            if let message { expected.append(message) }
        }
        for i in 0..<5 { add(1, Array("42[\"event\",\(i)]".utf8), message: .init(kind: .text, payload: buf("42[\"event\",\(i)]"))) }
        add(2, [1, 2, 3, 4, 5, 6, 7, 8, 9], message: .init(kind: .binary, payload: bytes([1, 2, 3, 4, 5, 6, 7, 8, 9])))
        add(1, Array("4par".utf8), fin: false)
        add(9, Array("ping".utf8), message: .init(kind: .ping, payload: buf("ping")))
        add(0, Array("tial".utf8), message: .init(kind: .text, payload: buf("4partial")))
        for i in 0..<3 { add(1, Array("3\(i)[]".utf8), message: .init(kind: .text, payload: buf("3\(i)[]"))) }
        add(2, [UInt8](repeating: 7, count: 200))  // over the limit: skipped
        let long = [UInt8](repeating: 0x61, count: 130)
        add(1, long, message: .init(kind: .text, payload: bytes(long)))
        add(1, Array("4after".utf8), message: .init(kind: .text, payload: buf("4after")))
        var all = ByteBuffer()
        for f in frames { all.writeImmutableBuffer(f) }
        // One read, the same with its last frame cut in two reads, and one frame per read.
        let cut = all.readableBytes - 3
        let reads: [[ByteBuffer]] = [
            [all], [all.getSlice(at: 0, length: cut)!, all.getSlice(at: cut, length: 3)!], frames,
        ]
        for split in reads {
            var decoder = WebSocketStreamDecoder(maxMessageSize: 150, deflate: nil)
            var messages: [WebSocketStreamDecoder.Message] = []
            var errors = 0
            for read in split {
                decoder.append(read)
                while true {
                    do {
                        guard let message = try decoder.next() else { break }
                        messages.append(message)
                    } catch {
                        errors += 1
                    }
                }
            }
            #expect(messages == expected)
            #expect(errors == 1)
        }
    }

    @Test func fragmentsWithControlFramesBetween() throws {
        var decoder = WebSocketStreamDecoder(maxMessageSize: 100, deflate: nil)
        decoder.append(frame(1, Array("42[\"a\",".utf8), fin: false, mask: [1, 2, 3, 4]))
        decoder.append(frame(9, Array("hi".utf8), mask: [5, 6, 7, 8]))
        decoder.append(frame(0, Array("\"b\",".utf8), fin: false))
        decoder.append(frame(10, []))
        decoder.append(frame(0, Array("1]".utf8), mask: [0, 0, 0, 1]))
        let messages = try drain(&decoder)
        #expect(messages == [
            .init(kind: .ping, payload: buf("hi")), .init(kind: .pong, payload: ByteBuffer()),
            .init(kind: .text, payload: buf("42[\"a\",\"b\",1]")),
        ])
    }

    @Test(arguments: [
        (frame(3, []), "reserved opcode 0x3"),
        (frame(0, [1]), "continuation frame with no fragmented message to continue"),
        (frame(9, [], fin: false), "fragmented ping frame"),
        (frame(9, [UInt8](repeating: 0, count: 126)), "ping frame payload of 126 bytes exceeds 125"),
        (frame(1, [0x31], rsv1: true), "RSV1 set but permessage-deflate was not negotiated"),
        (bytes([0xA1, 0x00]), "RSV2 or RSV3 set with no extension defining them"),
    ])
    func fatalProtocolErrorsKeepThrowing(bad: ByteBuffer, reason: String) throws {
        var decoder = WebSocketStreamDecoder(maxMessageSize: 1000, deflate: nil)
        decoder.append(frame(1, Array("2".utf8)))
        decoder.append(bad)
        decoder.append(frame(1, Array("3".utf8)))
        #expect(try decoder.next()?.payload == buf("2"))
        #expect(throws: WireError(reason, at: 3)) { try decoder.next() }
        #expect(throws: WireError(reason, at: 3)) { try decoder.next() }
    }

    @Test func newMessageInsideFragmentedOneIsFatal() throws {
        var decoder = WebSocketStreamDecoder(maxMessageSize: 1000, deflate: nil)
        decoder.append(frame(1, [0x34], fin: false))
        decoder.append(frame(1, [0x34]))
        #expect(throws: WireError("new text frame before the fragmented message was finished", at: 3)) {
            try decoder.next()
        }
    }

    @Test func framesAfterACloseAreStillDecodedButOtherBytesAreNamed() throws {
        var decoder = WebSocketStreamDecoder(maxMessageSize: 1000, deflate: nil)
        decoder.append(frame(8, [0x03, 0xE8]))
        decoder.append(frame(1, Array("1".utf8), mask: [1, 2, 3, 4]))
        #expect(try decoder.next()?.kind == .close)
        #expect(try decoder.next() == .init(kind: .text, payload: ByteBuffer(string: "1")))
        #expect(decoder.isReadable)
        decoder.append(ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\n\r\n"))
        do {
            _ = try decoder.next()
            Issue.record("HTTP bytes after the close frame decoded as a frame")
        } catch {
            #expect(error.reason.hasPrefix("bytes after the close frame are not WebSocket frames"))
        }
        #expect(!decoder.isReadable)
    }

    @Test func oversizedMessagesAreSkippedWithoutBuffering() throws {
        var decoder = WebSocketStreamDecoder(maxMessageSize: 10, deflate: nil)
        decoder.append(frame(1, Array("2".utf8)))
        var big = frame(2, [UInt8](repeating: 7, count: 5000))
        // The header only: the decoder reports as soon as it knows the size.
        decoder.append(big.readSlice(length: 4)!)
        #expect(try decoder.next()?.payload == buf("2"))
        #expect(throws: WireError("message of at least 5000 bytes exceeds the limit of 10", at: 3)) { try decoder.next() }
        decoder.append(big)
        decoder.append(frame(1, [0x34, 0x35], fin: false))
        decoder.append(frame(0, [UInt8](repeating: 0x35, count: 9), fin: false))
        decoder.append(frame(0, [0x35]))
        decoder.append(frame(1, Array("3".utf8)))
        #expect(throws: WireError.self) { try decoder.next() }
        #expect(try decoder.next()?.payload == buf("3"))
        #expect(try decoder.next() == nil)
    }

    /// Found by FuzzWebSocket: a continuation announcing Int.max bytes after a first fragment made the
    /// error message's size overflow, which trapped (and would have killed the proxy).
    @Test func aContinuationAnnouncingIntMaxBytesAfterAFragmentIsAnErrorNotATrap() throws {
        var decoder = WebSocketStreamDecoder(maxMessageSize: 100, deflate: nil)
        decoder.append(frame(1, Array("42".utf8), fin: false))
        // A masked continuation frame (FIN) whose 64-bit length is Int.max: only its header arrives.
        var header = ByteBuffer(bytes: [0x80, 0xFF])
        header.writeInteger(UInt64(Int.max))
        header.writeBytes([1, 2, 3, 4])
        decoder.append(header)
        #expect(throws: WireError("message of at least \(UInt64(Int.max) + 2) bytes exceeds the limit of 100", at: 4)) {
            try decoder.next()
        }
        // The rest of the stream is the skipped payload: nothing more is reported for it.
        decoder.append(ByteBuffer(bytes: [UInt8](repeating: 0, count: 64)))
        #expect(try decoder.next() == nil)
    }

    @Test func inflatesWithContextTakeover() throws {
        let sender = try DeflateSender()
        let text = Array("42[\"echo\",{\"hello\":\"wörld\",\"n\":[1,2.5,null,true]}]".utf8)
        let first = try sender.message(text)
        let second = try sender.message(text)  // refers back to the first message's window
        #expect(second.count < first.count)
        let parameters = PerMessageDeflate.Parameters(windowBits: 15, noContextTakeover: false)
        var decoder = WebSocketStreamDecoder(maxMessageSize: 1000, deflate: parameters)
        decoder.append(frame(1, first, rsv1: true))
        decoder.append(frame(1, Array(second.prefix(3)), fin: false, rsv1: true, mask: [1, 2, 3, 4]))
        decoder.append(frame(0, Array(second.dropFirst(3)), mask: [4, 3, 2, 1]))
        decoder.append(frame(1, Array("3".utf8)))
        let messages = try drain(&decoder)
        #expect(messages == [
            .init(kind: .text, payload: bytes(text), wasCompressed: true),
            .init(kind: .text, payload: bytes(text), wasCompressed: true),
            .init(kind: .text, payload: buf("3")),
        ])
    }

    @Test func deflateBombIsReportedAndTheWorkStaysBounded() throws {
        let sender = try DeflateSender()
        // 20 MB of zeros deflate to about 20 KB: far past the inflation budget of 4 x 64 KiB.
        let bomb = try sender.message([UInt8](repeating: 0, count: 20_000_000))
        #expect(bomb.count < 40_000)
        let after = try sender.message(Array("4after".utf8))
        var decoder = WebSocketStreamDecoder(
            maxMessageSize: 64 * 1024, deflate: .init(windowBits: 15, noContextTakeover: false))
        decoder.append(frame(2, bomb, rsv1: true))
        decoder.append(frame(1, after, rsv1: true))
        #expect {
            try decoder.next()
        } throws: { error in
            (error as? WireError)?.reason.contains("the rest of this direction is not decoded") == true
        }
        // The shared context was given up: later messages of the direction cannot be inflated.
        #expect(!decoder.isReadable)
        #expect(throws: WireError.self) { try decoder.next() }
    }

    @Test func aMessageSomewhatOverTheLimitIsSkippedAndTheContextKept() throws {
        let sender = try DeflateSender()
        // Three times the limit: inside the budget, so the stream is run past it and kept in step.
        let large = try sender.message([UInt8](repeating: UInt8(ascii: "x"), count: 3 * 64 * 1024))
        let after = try sender.message(Array("4after".utf8))
        var decoder = WebSocketStreamDecoder(
            maxMessageSize: 64 * 1024, deflate: .init(windowBits: 15, noContextTakeover: false))
        decoder.append(frame(2, large, rsv1: true))
        decoder.append(frame(1, after, rsv1: true))
        #expect(throws: WireError.self) { try decoder.next() }
        #expect(decoder.isReadable)
        #expect(try decoder.next()?.payload == buf("4after"))
    }

    @Test func bombErrorNamesTheLimit() throws {
        let sender = try DeflateSender()
        let bomb = try sender.message([UInt8](repeating: 0, count: 1_000_000))
        var decoder = WebSocketStreamDecoder(maxMessageSize: 1000, deflate: .init(noContextTakeover: true))
        decoder.append(frame(2, bomb, rsv1: true))
        #expect {
            try decoder.next()
        } throws: { error in
            (error as? WireError)?.reason.hasPrefix("message inflates to more than the limit of 1000 bytes") == true
        }
    }

    @Test func corruptDeflateIsReported() throws {
        var decoder = WebSocketStreamDecoder(maxMessageSize: 1000, deflate: .init())
        decoder.append(frame(1, [0xFF, 0xFF, 0xFF, 0xFF], rsv1: true))
        decoder.append(frame(1, Array("3".utf8)))
        #expect(throws: WireError.self) { try decoder.next() }
        #expect(try decoder.next()?.payload == buf("3"))
    }

    @Test func negotiation() throws {
        let both = try #require(
            PerMessageDeflate.negotiated(
                responseHeader: "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"))
        #expect(both.serverToClient == .init(windowBits: 15, noContextTakeover: true))
        #expect(both.clientToServer == .init(windowBits: 10, noContextTakeover: false))
        let other = try #require(
            PerMessageDeflate.negotiated(
                responseHeader: "x-webkit-deflate-frame, permessage-deflate;client_no_context_takeover;server_max_window_bits=\"9\""))
        #expect(other.clientToServer == .init(windowBits: 15, noContextTakeover: true))
        #expect(other.serverToClient == .init(windowBits: 9, noContextTakeover: false))
        let plain = try #require(PerMessageDeflate.negotiated(responseHeader: "permessage-deflate"))
        #expect(plain.clientToServer == .init() && plain.serverToClient == .init())
        #expect(PerMessageDeflate.negotiated(responseHeader: "") == nil)
        #expect(PerMessageDeflate.negotiated(responseHeader: "x-webkit-deflate-frame") == nil)
    }
}
