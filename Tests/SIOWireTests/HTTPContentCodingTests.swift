import CompressNIO
import NIOCore
import SIOWire
import Testing

/// Content-Encoding of polling bodies: inflated for decoding, capped, damage reported.
@Suite struct HTTPContentCodingTests {
    static let payload = ByteBuffer(string: #"42["gzipped",""# + String(repeating: "g", count: 5000) + #""]"#)

    static func compressed(_ algorithm: CompressionAlgorithm, _ body: ByteBuffer = payload) throws -> ByteBuffer {
        var input = body
        return try input.compress(with: algorithm)
    }

    @Test func noEncodingOrIdentityIsLeftAlone() throws {
        #expect(try HTTPContentCoding.decode(Self.payload, contentEncoding: nil, limit: 1 << 20) == nil)
        #expect(try HTTPContentCoding.decode(Self.payload, contentEncoding: "identity", limit: 1 << 20) == nil)
    }

    @Test(arguments: ["gzip", "x-gzip", " GZIP "])
    func gzipIsInflated(coding: String) throws {
        let body = try Self.compressed(.gzip())
        #expect(try HTTPContentCoding.decode(body, contentEncoding: coding, limit: 1 << 20) == Self.payload)
    }

    @Test(arguments: ["zlib", "raw"])
    func deflateIsInflatedWrappedOrRaw(wrapping: String) throws {
        let body = try Self.compressed(wrapping == "zlib" ? .zlib() : .deflate())
        #expect(try HTTPContentCoding.decode(body, contentEncoding: "deflate", limit: 1 << 20) == Self.payload)
    }

    @Test func aBombIsStoppedAtTheLimit() throws {
        let zeros = ByteBuffer(repeating: 0, count: 8 << 20)
        let body = try Self.compressed(.gzip(), zeros)
        #expect(body.readableBytes < 64 << 10)
        #expect(throws: WireError.self) {
            try HTTPContentCoding.decode(body, contentEncoding: "gzip", limit: 1 << 20)
        }
        do {
            _ = try HTTPContentCoding.decode(body, contentEncoding: "gzip", limit: 1 << 20)
        } catch {
            #expect(error.reason.contains("more than the limit of 1048576"))
        }
    }

    @Test func truncatedAndCorruptBodiesAreReported() throws {
        let body = try Self.compressed(.gzip())
        let truncated = body.getSlice(at: body.readerIndex, length: body.readableBytes / 2)!
        do {
            _ = try HTTPContentCoding.decode(truncated, contentEncoding: "gzip", limit: 1 << 20)
            Issue.record("a truncated body decoded")
        } catch {
            #expect(error.reason.contains("ends before"))
        }
        #expect(throws: WireError.self) {
            try HTTPContentCoding.decode(ByteBuffer(string: "\u{1F}\u{8B}\u{08}\u{00}garbage"), contentEncoding: "gzip", limit: 1 << 20)
        }
        #expect(throws: WireError.self) {
            try HTTPContentCoding.decode(Self.payload, contentEncoding: "br", limit: 1 << 20)
        }
    }
}
