import NIOCore

/// One unfragmented, unmasked WebSocket frame (RFC 6455 §5.2): how `import har` hands a HAR's
/// `_webSocketMessages` to the same frame decoder the proxy's copy goes through.
enum WebSocketFrameEncoder {
    static func frame(opcode: UInt8, payload: ByteBuffer) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.reserveCapacity(payload.readableBytes + 10)
        frame.writeInteger(0x80 | (opcode & 0x0F))
        let length = payload.readableBytes
        if length < 126 {
            frame.writeInteger(UInt8(length))
        } else if length <= 0xFFFF {
            frame.writeInteger(UInt8(126))
            frame.writeInteger(UInt16(length))
        } else {
            frame.writeInteger(UInt8(127))
            frame.writeInteger(UInt64(length))
        }
        frame.writeImmutableBuffer(payload)
        return frame
    }
}
