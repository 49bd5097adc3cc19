import CompressNIO
import NIOCore

/// Undoes the `Content-Encoding` of a whole HTTP body (gzip, deflate), for decoding only.
///
/// python-engineio compresses long-polling answers over 1 KiB when the client accepts gzip, as
/// browsers do; the proxy relays the compressed bytes and decodes an inflated copy. Inflation is
/// capped: a body that inflates beyond `limit` is reported, never allocated (gzip bombs).
public enum HTTPContentCoding {
    /// The inflated body, or `nil` when the body is not encoded (no header, `identity`).
    /// Throws for an encoding it does not know, corrupt or truncated data, or more than `limit` bytes.
    public static func decode(
        _ body: ByteBuffer, contentEncoding: String?, limit: Int
    ) throws(WireError) -> ByteBuffer? {
        guard let contentEncoding else { return nil }
        let coding = contentEncoding.trimmingSpaces().lowercased()
        switch coding {
        case "", "identity":
            return nil
        case "gzip", "x-gzip":
            return try self.inflate(body, algorithm: .gzip, coding: coding, limit: limit)
        case "deflate":
            // RFC 9110 says zlib-wrapped; some servers send raw deflate.
            do throws(WireError) {
                return try self.inflate(body, algorithm: .zlib, coding: coding, limit: limit)
            } catch {
                if error.reason.contains("limit") { throw error }
                return try self.inflate(body, algorithm: .deflate, coding: coding, limit: limit)
            }
        default:
            throw WireError("body with Content-Encoding '\(contentEncoding)', which siotape does not decode", at: 0)
        }
    }

    private static func inflate(
        _ body: ByteBuffer, algorithm: ZlibAlgorithm, coding: String, limit: Int
    ) throws(WireError) -> ByteBuffer {
        let decompressor: ZlibDecompressor
        do {
            decompressor = try ZlibDecompressor(algorithm: algorithm, windowSize: 15)
        } catch {
            throw WireError("cannot start a zlib stream: \(error)", at: 0)
        }
        // zlib says "stream end" and "need more input" alike when all input is used. A sentinel byte
        // after the body tells them apart: a complete stream leaves it unread.
        var input = body
        input.writeInteger(UInt8(0))
        let consumed = { body.readableBytes + 1 - input.readableBytes }
        var output = ByteBuffer()
        output.reserveCapacity(min(limit + 1, max(4096, body.readableBytes * 4)))
        while true {
            do {
                try decompressor.inflate(from: &input, to: &output)
                if input.readableBytes == 0 {
                    throw WireError(
                        "\(coding) body ends before its compressed stream does (\(output.readableBytes) bytes inflated)",
                        at: body.readableBytes)
                }
                return output  // end of the compressed stream
            } catch let error as WireError {
                throw error
            } catch let error as CompressNIOError where error == .bufferOverflow {
                if output.readableBytes > limit {
                    throw WireError("\(coding) body inflates to more than the limit of \(limit) bytes", at: 0)
                }
                output.reserveCapacity(min(limit + 1, output.capacity * 2))
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                throw WireError(
                    "\(coding) body ends before its compressed stream does (\(output.readableBytes) bytes inflated)",
                    at: body.readableBytes)
            } catch {
                if consumed() > body.readableBytes {
                    throw WireError(
                        "\(coding) body ends before its compressed stream does (\(output.readableBytes) bytes inflated)",
                        at: body.readableBytes)
                }
                throw WireError(
                    "\(coding) body could not be inflated (corrupt data after \(consumed()) bytes)", at: consumed())
            }
        }
    }
}
