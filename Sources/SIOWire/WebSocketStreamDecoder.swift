import NIOCore

/// An incremental reader of one direction of a WebSocket connection's bytes, after the `101`.
/// Reassembles fragmented messages, unmasks, and inflates permessage-deflate messages on the copy
/// it was given. Control frames may arrive between fragments.
///
/// Not `Sendable`: with permessage-deflate it owns a zlib stream (a reference), so a copy of the
/// decoder shares that stream. Keep one decoder per direction, on one event loop.
public struct WebSocketStreamDecoder {
    public struct Message: Hashable, Sendable {
        public enum Kind: Hashable, Sendable { case text, binary, close, ping, pong }
        public var kind: Kind
        /// Unmasked (and inflated) payload.
        public var payload: ByteBuffer
        /// True when the message was compressed on the wire (RSV1 on its first frame).
        public var wasCompressed: Bool

        public init(kind: Kind, payload: ByteBuffer, wasCompressed: Bool = false) {
            self.kind = kind
            self.payload = payload
            self.wasCompressed = wasCompressed
        }
    }

    /// A data message whose later fragments have not arrived yet.
    private struct PartialMessage {
        var kind: Message.Kind
        var compressed: Bool
        var payload: ByteBuffer
        var streamOffset: Int
    }

    private let maxMessageSize: Int
    private let deflate: PerMessageDeflate.Parameters?
    private let inflater: WebSocketInflater?
    private var buffer = ByteBuffer()
    /// Stream offset of `buffer.readerIndex`, for error offsets.
    private var consumed = 0
    private var partial: PartialMessage?
    /// Payload bytes of an oversized frame still to be dropped as they arrive.
    private var bytesToSkip = 0
    /// The continuation frames of an oversized message are dropped too.
    private var skippingMessage = false
    private var fatalError: WireError?
    /// A close frame has been read. RFC 6455 allows no frame after it, yet clients do send some
    /// (python-socketio's sends a second close and a text frame), so they are still decoded; bytes
    /// that are not frames at all are named for what they likely are.
    private var closed = false
    /// The payloads of the current masked frame and of the whole, plain masked frames after it in
    /// the bytes at hand, unmasked in one pass into one buffer: one allocation per read (a client's
    /// read often holds many frames) instead of one per frame. `readPayload` hands out slices of it
    /// in order; `unmaskedStarts` holds each payload's stream offset, so that a payload is only
    /// taken from here when it is the one being read.
    private var unmasked = ByteBuffer()
    private var unmaskedStarts: [Int] = []
    private var unmaskedNext = 0

    /// - Parameters:
    ///   - maxMessageSize: messages (after inflation) above this are reported as damage and skipped.
    ///   - deflate: the negotiated permessage-deflate parameters for this direction, if any.
    public init(maxMessageSize: Int, deflate: PerMessageDeflate.Parameters?) {
        self.maxMessageSize = maxMessageSize
        self.deflate = deflate
        self.inflater = deflate.map { WebSocketInflater(noContextTakeover: $0.noContextTakeover) }
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: ByteBuffer) {
        // Once the stream cannot be read any more, holding on to its bytes would only cost memory.
        guard self.fatalError == nil else { return }
        var bytes = bytes
        if self.bytesToSkip > 0 && self.buffer.readableBytes == 0 {
            // Skipped payloads are dropped on arrival, never buffered.
            let dropped = min(self.bytesToSkip, bytes.readableBytes)
            bytes.moveReaderIndex(forwardBy: dropped)
            self.bytesToSkip -= dropped
            self.consumed += dropped
        }
        if self.buffer.readableBytes == 0 {
            // The common case: whole frames per read. Decode from the bytes as given, no copy.
            self.buffer = bytes
            return
        }
        if self.buffer.readerIndex > 65_536 && self.buffer.readerIndex > self.buffer.readableBytes {
            self.buffer.discardReadBytes()
        }
        self.buffer.writeBuffer(&bytes)
    }

    /// The next complete message, `nil` when more bytes are needed. A thrown error describes
    /// damage (bad frame, oversized or undecompressable message); decoding may continue after it
    /// unless the stream cannot be resynchronised (then every later call throws the same error).
    public mutating func next() throws(WireError) -> Message? {
        if let fatalError = self.fatalError { throw fatalError }
        while true {
            if self.bytesToSkip > 0 {
                let dropped = min(self.bytesToSkip, self.buffer.readableBytes)
                self.advance(by: dropped)
                self.bytesToSkip -= dropped
                if self.bytesToSkip > 0 {
                    self.releaseIfConsumed()
                    return nil
                }
            }
            guard let header = try self.readHeader() else {
                self.releaseIfConsumed()
                return nil
            }
            let frameOffset = self.consumed

            if !header.opcode.isControl {
                if self.skippingMessage {
                    // A continuation of a message already reported as oversized.
                    self.advance(by: header.length)
                    self.bytesToSkip = header.payloadLength
                    self.skippingMessage = !header.fin
                    continue
                }
                let sizeSoFar = self.partial?.payload.readableBytes ?? 0
                if header.payloadLength > self.maxMessageSize - sizeSoFar {
                    self.advance(by: header.length)
                    self.bytesToSkip = header.payloadLength
                    self.skippingMessage = !header.fin
                    let compressed = self.partial?.compressed ?? header.rsv1
                    self.partial = nil
                    // The skipped bytes were part of the compression context: start afresh.
                    if compressed { self.inflater?.reset() }
                    // In UInt64: a frame may announce up to Int.max bytes, on top of what came before.
                    let atLeast = UInt64(sizeSoFar) + UInt64(header.payloadLength)
                    throw WireError(
                        "message of at least \(atLeast) bytes exceeds the limit of \(self.maxMessageSize)",
                        at: frameOffset)
                }
            }
            guard self.buffer.readableBytes >= header.length + header.payloadLength else {
                self.ownPartialFrame()
                return nil
            }
            self.advance(by: header.length)
            let payload = self.readPayload(length: header.payloadLength, mask: header.mask)

            switch header.opcode {
            case .close:
                self.closed = true
                return Message(kind: .close, payload: payload)
            case .ping: return Message(kind: .ping, payload: payload)
            case .pong: return Message(kind: .pong, payload: payload)
            case .text, .binary:
                // The common message, one whole uncompressed frame: no partial message to go through.
                if header.fin, !header.rsv1 || self.inflater == nil {
                    return Message(kind: header.opcode == .text ? .text : .binary, payload: payload)
                }
                self.partial = PartialMessage(
                    kind: header.opcode == .text ? .text : .binary, compressed: header.rsv1, payload: payload,
                    streamOffset: frameOffset)
            case .continuation:
                var payload = payload
                self.partial!.payload.writeBuffer(&payload)
            }
            guard header.fin, let message = self.partial else { continue }
            self.partial = nil
            guard message.compressed, let inflater = self.inflater else {
                return Message(kind: message.kind, payload: message.payload)
            }
            do throws(WireError) {
                let inflated = try inflater.inflate(message.payload, limit: self.maxMessageSize)
                return Message(kind: message.kind, payload: inflated, wasCompressed: true)
            } catch {
                guard !inflater.gaveUp else {
                    // The shared context is lost: nothing later in this direction can be decoded.
                    let reason = "\(error.reason); the rest of this direction is not decoded"
                    self.fatalError = WireError(reason, at: message.streamOffset)
                    self.buffer = ByteBuffer()
                    throw self.fatalError!
                }
                throw WireError(error.reason, at: message.streamOffset)
            }
        }
    }

    private mutating func advance(by count: Int) {
        self.buffer.moveReaderIndex(forwardBy: count)
        self.consumed += count
    }

    /// Drops the reference to the bytes of the last read once all of them were decoded, so that an
    /// idle connection holds no buffer (and the channel can reuse its receive buffer).
    private mutating func releaseIfConsumed() {
        if self.buffer.readableBytes == 0 {
            self.buffer = ByteBuffer()
        } else {
            self.ownPartialFrame()
        }
    }

    /// A frame split across reads: keep a compact copy of its start rather than the whole read buffer.
    private mutating func ownPartialFrame() {
        guard self.buffer.readerIndex > 0 || self.buffer.capacity > 2 * self.buffer.readableBytes + 1_024 else { return }
        var own = ByteBuffer()
        own.reserveCapacity(max(self.buffer.readableBytes, 256))
        own.writeImmutableBuffer(self.buffer)
        self.buffer = own
    }

    private mutating func readPayload(length: Int, mask: UInt32?) -> ByteBuffer {
        guard let mask else {
            let payload = self.buffer.getSlice(at: self.buffer.readerIndex, length: length)!
            self.advance(by: length)
            return payload
        }
        if self.unmaskedNext < self.unmaskedStarts.count, self.unmaskedStarts[self.unmaskedNext] < self.consumed {
            // Payloads unmasked ahead that were not read after all (cannot happen; costs nothing to cover).
            self.dropUnmasked()
        }
        if self.unmaskedNext == self.unmaskedStarts.count { self.unmaskAhead(length: length, mask: mask) }
        if self.unmaskedNext < self.unmaskedStarts.count, self.unmaskedStarts[self.unmaskedNext] == self.consumed,
            let payload = self.unmasked.readSlice(length: length)
        {
            self.unmaskedNext += 1
            if self.unmaskedNext == self.unmaskedStarts.count { self.dropUnmasked() }
            self.advance(by: length)
            return payload
        }
        var payload = ByteBuffer()
        payload.reserveCapacity(length)
        self.buffer.withUnsafeReadableBytes { source in
            _ = payload.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                unmask(source: source, into: target, count: length, key: mask)
                return length
            }
        }
        self.advance(by: length)
        return payload
    }

    /// Unmasks the payload at the reader index (`length` bytes, key `mask`) and those of the frames
    /// that follow it in the bytes at hand and that `next()` will read in turn with no check that
    /// could stop or skip them: whole, final, text or binary, masked, no extension bit, within the
    /// size limit. Two passes over the headers: the first sizes the buffer.
    private mutating func unmaskAhead(length: Int, mask: UInt32) {
        let limit = self.maxMessageSize
        let total = self.buffer.withUnsafeReadableBytes { bytes -> Int in
            var total = length
            var index = length
            while let frame = plainMaskedFrame(bytes, at: index, limit: limit) {
                total += frame.payloadLength
                index = frame.payloadStart + frame.payloadLength
            }
            return total
        }
        guard total > length else { return }
        var unmasked = ByteBuffer()
        unmasked.reserveCapacity(total)
        let base = self.consumed
        // Moved out (not copied) while the buffer's bytes are borrowed, and back after.
        var starts: [Int] = []
        swap(&starts, &self.unmaskedStarts)
        starts.removeAll(keepingCapacity: true)
        self.buffer.withUnsafeReadableBytes { bytes in
            _ = unmasked.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { target in
                unmask(source: bytes, into: target, count: length, key: mask)
                starts.append(base)
                var written = length
                var index = length
                while let frame = plainMaskedFrame(bytes, at: index, limit: limit) {
                    unmask(
                        source: UnsafeRawBufferPointer(rebasing: bytes[frame.payloadStart...]),
                        into: UnsafeMutableRawBufferPointer(rebasing: target[written...]),
                        count: frame.payloadLength, key: frame.mask)
                    starts.append(base + frame.payloadStart)
                    written += frame.payloadLength
                    index = frame.payloadStart + frame.payloadLength
                }
                return written
            }
        }
        self.unmaskedStarts = starts
        self.unmaskedNext = 0
        self.unmasked = unmasked
    }

    /// Forgets the unmasked payloads (all handed out, or the stream failed).
    private mutating func dropUnmasked() {
        self.unmasked = ByteBuffer()
        self.unmaskedStarts.removeAll(keepingCapacity: true)
        self.unmaskedNext = 0
    }

    /// Parses the header at the reader index without consuming it; `nil` when incomplete.
    private mutating func readHeader() throws(WireError) -> FrameHeader? {
        // The header's bytes read in one borrow of the buffer (each `getInteger` was a separate
        // access to its storage): first byte, second byte, header length, payload length
        // (`-1`: a 64-bit length with its top bit set), mask key; `nil` when incomplete.
        let fields = self.buffer.withUnsafeReadableBytes { bytes -> (UInt8, UInt8, Int, Int, UInt32?)? in
            guard bytes.count >= 2 else { return nil }
            let first = bytes[0]
            let second = bytes[1]
            var length = 2
            var payloadLength = Int(second & 0x7F)
            if payloadLength == 126 {
                guard bytes.count >= 4 else { return nil }
                payloadLength = Int(bytes[2]) << 8 | Int(bytes[3])
                length = 4
            } else if payloadLength == 127 {
                guard bytes.count >= 10 else { return nil }
                var extended: UInt64 = 0
                for i in 2..<10 { extended = extended << 8 | UInt64(bytes[i]) }
                payloadLength = extended >> 63 == 0 ? Int(extended) : -1
                length = 10
            }
            var mask: UInt32?
            if second & 0x80 != 0, payloadLength >= 0 {
                guard bytes.count >= length + 4 else { return nil }
                mask =
                    UInt32(bytes[length]) << 24 | UInt32(bytes[length + 1]) << 16 | UInt32(bytes[length + 2]) << 8
                    | UInt32(bytes[length + 3])
                length += 4
            }
            return (first, second, length, payloadLength, mask)
        }
        guard let (first, _, length, payloadLength, mask) = fields else { return nil }
        guard payloadLength >= 0 else { throw self.fail("64-bit frame length has its top bit set") }
        guard let opcode = FrameHeader.Opcode(rawValue: first & 0x0F) else {
            throw self.fail("reserved opcode 0x\(String(first & 0x0F, radix: 16))")
        }
        let header = FrameHeader(
            fin: first & 0x80 != 0, rsv1: first & 0x40 != 0, opcode: opcode, mask: mask, length: length,
            payloadLength: payloadLength)
        if first & 0x30 != 0 { throw self.fail("RSV2 or RSV3 set with no extension defining them") }
        if opcode.isControl {
            if !header.fin { throw self.fail("fragmented \(opcode) frame") }
            if payloadLength > 125 { throw self.fail("\(opcode) frame payload of \(payloadLength) bytes exceeds 125") }
            if header.rsv1 { throw self.fail("RSV1 set on a \(opcode) frame") }
        } else if opcode == .continuation {
            if self.partial == nil && !self.skippingMessage {
                throw self.fail("continuation frame with no fragmented message to continue")
            }
            if header.rsv1 { throw self.fail("RSV1 set on a continuation frame") }
        } else {
            if self.partial != nil || self.skippingMessage {
                throw self.fail("new \(opcode) frame before the fragmented message was finished")
            }
            if header.rsv1 && self.deflate == nil { throw self.fail("RSV1 set but permessage-deflate was not negotiated") }
        }
        return header
    }

    /// Whether later bytes can still be decoded; false after an error the stream cannot recover from
    /// (every later `next()` throws that error again).
    public var isReadable: Bool { self.fatalError == nil }

    /// Records an error after which the stream cannot be read any more.
    private mutating func fail(_ reason: String) -> WireError {
        // Werkzeug, for one, writes an HTTP 400 onto the socket after its close frame.
        let reason = self.closed ? "bytes after the close frame are not WebSocket frames (\(reason))" : reason
        let error = WireError(reason, at: self.consumed)
        self.fatalError = error
        self.buffer = ByteBuffer()
        self.partial = nil
        self.dropUnmasked()
        return error
    }
}

/// One frame header, as parsed before its payload is read.
private struct FrameHeader {
    enum Opcode: UInt8, CustomStringConvertible {
        case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA

        var isControl: Bool { self.rawValue & 0x8 != 0 }

        var description: String {
            switch self {
            case .continuation: return "continuation"
            case .text: return "text"
            case .binary: return "binary"
            case .close: return "close"
            case .ping: return "ping"
            case .pong: return "pong"
            }
        }
    }

    var fin: Bool
    var rsv1: Bool
    var opcode: Opcode
    var mask: UInt32?
    /// Header bytes, mask key included.
    var length: Int
    var payloadLength: Int
}

/// A whole frame at `index` of `bytes` that `next()` reads with no check that could stop or skip
/// it: FIN, text or binary, no RSV bit, masked, at most `limit` payload bytes, all of it present.
private func plainMaskedFrame(
    _ bytes: UnsafeRawBufferPointer, at index: Int, limit: Int
) -> (payloadStart: Int, payloadLength: Int, mask: UInt32)? {
    guard index + 2 <= bytes.count, bytes[index] == 0x81 || bytes[index] == 0x82, bytes[index + 1] & 0x80 != 0
    else { return nil }
    var length = Int(bytes[index + 1] & 0x7F)
    var header = 2
    if length == 126 {
        guard index + 4 <= bytes.count else { return nil }
        length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
        header = 4
    } else if length == 127 {
        guard index + 10 <= bytes.count else { return nil }
        var extended: UInt64 = 0
        for i in 2..<10 { extended = extended << 8 | UInt64(bytes[index + i]) }
        guard extended >> 63 == 0, extended <= UInt64(limit) else { return nil }
        length = Int(extended)
        header = 10
    }
    guard length <= limit, index + header + 4 + length <= bytes.count else { return nil }
    let mask =
        UInt32(bytes[index + header]) << 24 | UInt32(bytes[index + header + 1]) << 16
        | UInt32(bytes[index + header + 2]) << 8 | UInt32(bytes[index + header + 3])
    return (index + header + 4, length, mask)
}

/// XORs `count` bytes with the 4-byte masking key (big-endian `key`, as read from the frame), eight
/// bytes at a time.
@inline(__always)
private func unmask(source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer, count: Int, key: UInt32) {
    let keyBytes = (
        UInt8(truncatingIfNeeded: key >> 24), UInt8(truncatingIfNeeded: key >> 16), UInt8(truncatingIfNeeded: key >> 8),
        UInt8(truncatingIfNeeded: key)
    )
    // The key's bytes in wire order, twice, as one machine word.
    var key64: UInt64 = 0
    withUnsafeMutableBytes(of: &key64) { word in
        for i in 0..<8 {
            switch i & 3 {
            case 0: word[i] = keyBytes.0
            case 1: word[i] = keyBytes.1
            case 2: word[i] = keyBytes.2
            default: word[i] = keyBytes.3
            }
        }
    }
    var index = 0
    while index + 8 <= count {
        let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        target.storeBytes(of: word ^ key64, toByteOffset: index, as: UInt64.self)
        index += 8
    }
    while index < count {
        switch index & 3 {
        case 0: target[index] = source[index] ^ keyBytes.0
        case 1: target[index] = source[index] ^ keyBytes.1
        case 2: target[index] = source[index] ^ keyBytes.2
        default: target[index] = source[index] ^ keyBytes.3
        }
        index += 1
    }
}
