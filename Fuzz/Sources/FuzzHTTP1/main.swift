import FuzzInput
import NIOCore
import NIOHTTP1
import SIOWire

/// The byte-exact HTTP/1 stream parser, request and response role, fed in chunks.
/// Properties: every input byte comes back out exactly once (head, body or opaque bytes), and how
/// the stream is cut into reads does not change the events.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let flags = input.byte()
    let seed = input.byte()
    let data = input.rest
    let whole = parse([data], flags: flags)
    let chunked = parse(FuzzInput.chunks(of: data, seed: seed), flags: flags)
    fuzzCheck(whole == chunked, "chunking changed the events")
    return 0
}

private struct Parsed: Equatable {
    var heads: [ByteBuffer] = []
    var content = ByteBuffer()
    var forwarded = ByteBuffer()
    var ends = 0
    var error: String?
}

private func parse(_ chunks: [ByteBuffer], flags: UInt8) -> Parsed {
    let role: HTTP1StreamParser.Role = flags & 1 == 0 ? .request : .response
    var parser = HTTP1StreamParser(role: role, maxHeadBytes: 4096)
    if case .response = role {
        for bit in 1..<7 { parser.expectResponse(to: flags & (1 << bit) == 0 ? .GET : .HEAD) }
    }
    var parsed = Parsed()
    let emit: (HTTP1StreamParser.Event) -> Void = { event in
        switch event {
        case .head(let head): parsed.heads.append(head.raw)
        case .content(var bytes): parsed.content.writeBuffer(&bytes)
        case .forward(var bytes): parsed.forwarded.writeBuffer(&bytes)
        case .end: parsed.ends += 1
        }
    }
    for chunk in chunks { parser.parse(chunk, emit) }
    parser.inputClosed(emit)
    parsed.error = parser.error.map { String(describing: $0) }
    return parsed
}
