import NIOCore

/// The bytes libFuzzer hands a target, read as: a few control bytes (which variant of the
/// decoder, where to cut the input into chunks), then the data itself.
public struct FuzzInput {
    private var bytes: ByteBuffer

    public init(_ start: UnsafeRawPointer?, _ count: Int) {
        if let start, count > 0 {
            self.bytes = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
        } else {
            self.bytes = ByteBuffer()
        }
    }

    /// The next control byte, 0 when the input is used up.
    public mutating func byte() -> UInt8 {
        self.bytes.readInteger(as: UInt8.self) ?? 0
    }

    /// Everything not read yet.
    public var rest: ByteBuffer { self.bytes }

    /// Cuts `data` into chunks whose sizes cycle through `1 + seed % 7`, `1 + seed / 7 % 13`, ...:
    /// the same data arriving in different reads, as from a socket.
    public static func chunks(of data: ByteBuffer, seed: UInt8) -> [ByteBuffer] {
        guard seed != 0 else { return [data] }
        let sizes = [1 + Int(seed) % 7, 1 + Int(seed) / 7 % 13, 1 + Int(seed) % 31, 64]
        var data = data
        var chunks: [ByteBuffer] = []
        var index = 0
        while data.readableBytes > 0 {
            let size = min(sizes[index % sizes.count], data.readableBytes)
            chunks.append(data.readSlice(length: size)!)
            index += 1
        }
        return chunks
    }
}

/// Stops the fuzzer with a message: a property of the decoder does not hold for this input.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fatalError("property violated: \(message())")
    }
}
