import FuzzInput
import NIOCore
import SIOWire

/// The WebSocket stream decoder, with and without permessage-deflate, fed in chunks.
/// Properties: no message exceeds the cap (a deflate bomb is stopped), and how the stream is cut
/// into reads does not change what it decodes to.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocket(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let flags = input.byte()
    let seed = input.byte()
    let deflate: PerMessageDeflate.Parameters? =
        flags & 1 == 0 ? nil : PerMessageDeflate.Parameters(windowBits: 9 + Int(flags >> 1) % 7, noContextTakeover: flags & 0x80 != 0)
    let maxMessageSize = 64 * 1024

    let whole = decode([input.rest], deflate: deflate, maxMessageSize: maxMessageSize)
    let chunked = decode(FuzzInput.chunks(of: input.rest, seed: seed), deflate: deflate, maxMessageSize: maxMessageSize)
    fuzzCheck(whole.messages.allSatisfy { $0.payload.readableBytes <= maxMessageSize }, "message above the cap")
    fuzzCheck(whole.messages == chunked.messages, "chunking changed the messages")
    fuzzCheck(whole.error == chunked.error, "chunking changed the error: \(String(describing: whole.error)) vs \(String(describing: chunked.error))")
    return 0
}

private func decode(
    _ chunks: [ByteBuffer], deflate: PerMessageDeflate.Parameters?, maxMessageSize: Int
) -> (messages: [WebSocketStreamDecoder.Message], error: WireError?) {
    var decoder = WebSocketStreamDecoder(maxMessageSize: maxMessageSize, deflate: deflate)
    var messages: [WebSocketStreamDecoder.Message] = []
    for chunk in chunks {
        decoder.append(chunk)
        while decoder.isReadable {
            do {
                guard let message = try decoder.next() else { break }
                messages.append(message)
            } catch {
                if !decoder.isReadable { return (messages, error) }
            }
        }
    }
    return (messages, nil)
}
