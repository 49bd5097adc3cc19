import FuzzInput
import FuzzRoundTrip
import Logging
import NIOCore
import NIOHTTP1
import SIOCapture
import SIORecording
import SIOWire

/// The capture tap end to end: an Engine.IO session opened by a fixed handshake, then fuzzed
/// long-polling bodies or WebSocket messages in both directions, through session tracking, ack
/// pairing, binary assembly and redaction, to records.
///
/// Input: a mode byte (bit 0 WebSocket, bit 1 Engine.IO v3, bit 2 permessage-deflate), then
/// pieces separated by 0x1F; the first byte of a piece says its direction (bit 0) and, on a
/// WebSocket, whether it is a binary message (bit 1); the rest is the body or message payload.
/// Property: every record the tap emits is written by the encoder in a form the decoder reads
/// back as the same record.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptureTap(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let mode = input.byte()
    let webSocket = mode & 1 != 0
    let version = mode & 2 != 0 ? "3" : "4"
    let pieces = input.rest.readableBytesView.split(separator: 0x1F, omittingEmptySubsequences: false)

    let sink = RoundTripSink()
    var configuration = CaptureConfiguration()
    configuration.maxBodyBytes = 64 * 1024
    configuration.maxWebSocketMessageBytes = 64 * 1024
    let hub = CaptureHub(configuration: configuration, sink: sink, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
    let tap = hub.makeTap(connection: 1, peer: "127.0.0.1:1")

    let handshake = #"0{"sid":"fuzz","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
    let handshakeBody = version == "4" ? handshake : "\(handshake.utf16.count):\(handshake)"
    exchange(tap, uri: "/socket.io/?EIO=\(version)&transport=polling", method: .GET, request: nil, response: ByteBuffer(string: handshakeBody))

    if webSocket {
        tap.requestHead(
            HTTPHead(
                method: .GET, uri: "/socket.io/?EIO=\(version)&transport=websocket&sid=fuzz",
                headers: [("Upgrade", "websocket"), ("Connection", "Upgrade")]))
        var response = [("Upgrade", "websocket"), ("Connection", "Upgrade")]
        if mode & 4 != 0 { response.append(("Sec-WebSocket-Extensions", "permessage-deflate")) }
        tap.webSocketAccepted(HTTPHead(status: 101, headers: response))
        for piece in pieces {
            guard let flags = piece.first else { continue }
            let direction: Direction = flags & 1 == 0 ? .clientToServer : .serverToClient
            tap.webSocketBytes(frame(piece.dropFirst(), binary: flags & 2 != 0, masked: direction == .clientToServer), direction: direction)
        }
    } else {
        for piece in pieces {
            guard let flags = piece.first else { continue }
            let body = ByteBuffer(bytes: piece.dropFirst())
            let uri = "/socket.io/?EIO=\(version)&transport=polling&sid=fuzz"
            if flags & 1 == 0 {
                exchange(tap, uri: uri, method: .POST, request: body, response: ByteBuffer(string: "ok"))
            } else {
                exchange(tap, uri: uri, method: .GET, request: nil, response: body)
            }
        }
    }
    tap.connectionClosed(cause: "client")
    return 0
}

private func exchange(_ tap: ConnectionTap, uri: String, method: HTTPMethod, request: ByteBuffer?, response: ByteBuffer) {
    tap.requestHead(
        HTTPHead(method: method, uri: uri, headers: request.map { [("Content-Length", String($0.readableBytes))] } ?? []))
    if let request { tap.requestBody(request) }
    tap.requestEnd()
    tap.responseHead(
        HTTPHead(
            status: 200,
            headers: [("Content-Type", "text/plain; charset=UTF-8"), ("Content-Length", String(response.readableBytes))]))
    tap.responseBody(response)
    tap.responseEnd()
}

/// One unfragmented WebSocket frame (masked from the client, as RFC 6455 requires).
private func frame(_ payload: ByteBufferView, binary: Bool, masked: Bool) -> ByteBuffer {
    var frame = ByteBuffer()
    frame.writeInteger(UInt8(binary ? 0x82 : 0x81))
    let maskBit: UInt8 = masked ? 0x80 : 0
    if payload.count < 126 {
        frame.writeInteger(maskBit | UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
        frame.writeInteger(maskBit | 126)
        frame.writeInteger(UInt16(payload.count))
    } else {
        frame.writeInteger(maskBit | 127)
        frame.writeInteger(UInt64(payload.count))
    }
    let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
    if masked { frame.writeBytes(mask) }
    for (index, byte) in payload.enumerated() {
        frame.writeInteger(masked ? byte ^ mask[index % 4] : byte)
    }
    return frame
}
