import CompressNIO
import NIOCore

/// Inflates the permessage-deflate messages of one direction (RFC 7692 §7.2.2).
///
/// The inflater always uses a 32 KB window: a window at least as large as the sender's decodes
/// any stream, whatever `*_max_window_bits` was negotiated.
final class WebSocketInflater {
    private let noContextTakeover: Bool
    private var decompressor: ZlibDecompressor?
    /// Reused to run the stream past an oversized message, so the shared context stays in step.
    private var scratch = ByteBuffer()
    /// Set when a message with a shared context inflated past the work budget: the context was
    /// given up, so no later message of the direction can be inflated.
    private(set) var gaveUp = false

    /// How far past the limit a message is inflated (into a reused scratch buffer, nothing kept)
    /// to keep a shared context in step: that many times the limit. A deflate bomb (a small frame
    /// inflating to gigabytes) would otherwise hold the event loop for seconds.
    static let budgetPerLimit = 4

    /// The empty stored block that the sender stripped from the end of every message.
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    init(noContextTakeover: Bool) {
        self.noContextTakeover = noContextTakeover
    }

    /// Forgets the context (after damage, or per message without context takeover).
    func reset() {
        try? self.decompressor?.reset()
    }

    /// Inflates one whole message; more than `limit` inflated bytes is reported, never allocated.
    func inflate(_ compressed: ByteBuffer, limit: Int) throws(WireError) -> ByteBuffer {
        defer { if self.noContextTakeover { self.reset() } }
        let decompressor: ZlibDecompressor
        do {
            decompressor = try self.decompressor ?? ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        } catch {
            throw WireError("cannot start a zlib stream: \(error)", at: 0)
        }
        self.decompressor = decompressor

        var input = ByteBuffer()
        input.reserveCapacity(compressed.readableBytes + 4)
        input.writeImmutableBuffer(compressed)
        input.writeBytes(Self.tail)

        let capacityCap = limit < Int.max ? limit + 1 : limit
        var output = ByteBuffer()
        output.reserveCapacity(min(capacityCap, max(1024, compressed.readableBytes * 4)))
        var inflatedCount = 0
        var overLimit = false
        while input.readableBytes > 0 {
            let inputBefore = input.readableBytes
            let outputBefore = inflatedCount
            do {
                if overLimit {
                    if inflatedCount / Self.budgetPerLimit > limit {
                        self.gaveUp = true
                        self.scratch = ByteBuffer()
                        self.reset()
                        throw WireError(
                            "message inflates to more than \(Self.budgetPerLimit) times the limit of \(limit) bytes "
                                + "(a deflate bomb?): later compressed messages cannot be inflated", at: 0)
                    }
                    self.scratch.clear()
                    if self.scratch.capacity < 65_536 { self.scratch.reserveCapacity(65_536) }
                    defer { inflatedCount += self.scratch.readableBytes }
                    try decompressor.inflate(from: &input, to: &self.scratch)
                } else {
                    if output.writableBytes == 0 {
                        if output.readableBytes > limit {
                            overLimit = true
                            if self.noContextTakeover { break }
                            continue
                        }
                        output.reserveCapacity(min(capacityCap, output.capacity * 2))
                    }
                    let before = output.readableBytes
                    defer { inflatedCount += output.readableBytes - before }
                    try decompressor.inflate(from: &input, to: &output)
                }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                continue
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                // Every input byte was used and zlib waits for more: the message is complete.
                break
            } catch let error as WireError {
                throw error
            } catch {
                self.reset()
                throw WireError("permessage-deflate data could not be inflated (\(error))", at: 0)
            }
            if input.readableBytes == inputBefore && inflatedCount == outputBefore { break }
            if input.readableBytes > 0 {
                // zlib returned without needing more room or input: the sender ended the deflate
                // stream (BFINAL), and whatever follows starts a new one.
                try? decompressor.reset()
            }
        }
        if !overLimit && output.readableBytes > limit { overLimit = true }
        if overLimit {
            self.scratch = ByteBuffer()
            throw WireError(
                "message inflates to more than the limit of \(limit) bytes (\(inflatedCount) bytes or more)", at: 0)
        }
        return output
    }
}
