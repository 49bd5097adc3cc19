import NIOCore

/// One Socket.IO client over a direct Engine.IO v4 WebSocket, written by hand on raw bytes so
/// that the load generator costs little: the upgrade request, masked client frames, unmasked
/// server frames.
///
/// Handshake: `0{...}` → sends `40`; `40{...}` → ready, then keeps `window` events with acks in
/// flight until the run stops, then waits for what is in flight and reports.
final class WebSocketLoadClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State { case upgrading, handshaking, connecting, running, finished }

    private let run: LoadRun
    private let host: String
    private var state = State.upgrading
    private var buffer = ByteBuffer()
    private var inFlight: InFlight
    private var mask: (UInt8, UInt8, UInt8, UInt8)
    private var scratch = ByteBuffer()
    /// Where this connection starts in the list of payloads.
    private let payloadOffset: UInt64
    /// The timer of a rate-limited run.
    private var pacer: RepeatedTask?

    init(run: LoadRun, host: String, seed: UInt64) {
        self.run = run
        self.host = host
        self.inFlight = InFlight(window: run.window)
        var random = SplitMix64(seed: seed)
        let key = random.next()
        self.mask = (UInt8(truncatingIfNeeded: key), UInt8(truncatingIfNeeded: key >> 8),
                     UInt8(truncatingIfNeeded: key >> 16), UInt8(truncatingIfNeeded: key >> 24))
        self.payloadOffset = random.next()
    }

    func channelActive(context: ChannelHandlerContext) {
        let request =
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: \(self.host)\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        if self.buffer.readableBytes == 0 {
            self.buffer = bytes
        } else {
            self.buffer.writeBuffer(&bytes)
        }
        if self.state == .upgrading {
            let view = self.buffer.readableBytesView
            guard let end = view.firstRange(of: [13, 10, 13, 10]) else { return }
            guard view.starts(with: Array("HTTP/1.1 101".utf8)) else {
                return self.fail(context, "no 101: \(String(decoding: view.prefix(80), as: UTF8.self))")
            }
            self.buffer.moveReaderIndex(to: end.upperBound)
            self.state = .handshaking
        }
        while let (opcode, payload) = self.nextFrame() {
            if opcode == 0x8 { return self.fail(context, "server closed the WebSocket") }
            guard opcode == 0x1 else { continue }
            self.handle(payload.readableBytesView, context: context)
            if self.state == .finished { return }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.state != .finished { self.fail(context, "connection closed") }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(context, "\(error)")
    }

    private func handle(_ text: ByteBufferView, context: ChannelHandlerContext) {
        guard let first = text.first else { return }
        switch (self.state, first) {
        case (.handshaking, UInt8(ascii: "0")):
            self.state = .connecting
            self.send(context) { $0.writeStaticString("40") }
        case (.connecting, UInt8(ascii: "4")) where text.count >= 2 && text[text.startIndex + 1] == UInt8(ascii: "0"):
            self.state = .running
            self.run.connectionReady()
            guard !self.run.idle else { return }
            if let pacing = self.run.pacing {
                self.startPacing(every: pacing, context: context)
            } else {
                for _ in 0..<self.run.window { self.sendEvent(context) }
            }
        case (.running, UInt8(ascii: "4")):
            guard let id = ackID(of: text) else { return }
            let now = LoadRun.now()
            self.inFlight.acked(id, at: now, run: self.run)
            if !self.run.isStopped {
                if self.pacer == nil { self.sendEvent(context, at: now) }
            } else if self.inFlight.count == 0 {
                self.finish(context, failure: nil)
            }
        case (_, UInt8(ascii: "2")):
            self.send(context) { $0.writeStaticString("3") }
        default:
            break
        }
    }

    /// Sends one event per `interval`, the first after a part of it that differs per connection
    /// (so that the connections' sends spread over the interval).
    private func startPacing(every interval: TimeAmount, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let offset = TimeAmount.nanoseconds(Int64(self.payloadOffset % UInt64(max(interval.nanoseconds, 1))))
        self.pacer = context.eventLoop.scheduleRepeatedTask(initialDelay: offset, delay: interval) { _ in
            let (client, context) = bound.value
            client.tick(context)
        }
    }

    private func tick(_ context: ChannelHandlerContext) {
        guard self.state == .running else { return }
        if self.run.isStopped {
            if self.inFlight.count == 0 { self.finish(context, failure: nil) }
            return
        }
        // At most `window` in flight: a target that falls behind gets no more than it can answer.
        guard self.inFlight.count < self.run.window else { return }
        self.sendEvent(context)
        context.flush()
    }

    private func sendEvent(_ context: ChannelHandlerContext, at time: UInt64 = LoadRun.now()) {
        let id = self.inFlight.sent(at: time)
        let payloads = self.run.payloads
        let offset = self.payloadOffset
        self.send(context) { payloads.writeEvent(id: id, offset: offset, into: &$0) }
    }

    /// Sends one masked text frame whose payload `write` produces.
    private func send(_ context: ChannelHandlerContext, _ write: (inout ByteBuffer) -> Void) {
        self.scratch.clear()
        write(&self.scratch)
        let length = self.scratch.readableBytes
        var frame = context.channel.allocator.buffer(capacity: length + 14)
        frame.writeInteger(UInt8(0x81))
        if length < 126 {
            frame.writeInteger(UInt8(0x80) | UInt8(length))
        } else if length <= 0xFFFF {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(length))
        } else {
            frame.writeInteger(UInt8(0x80 | 127))
            frame.writeInteger(UInt64(length))
        }
        let mask = self.mask
        frame.writeMultipleIntegers(mask.0, mask.1, mask.2, mask.3)
        self.scratch.withUnsafeReadableBytes { source in
            _ = frame.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                var index = 0
                while index < length {
                    switch index & 3 {
                    case 0: target[index] = source[index] ^ mask.0
                    case 1: target[index] = source[index] ^ mask.1
                    case 2: target[index] = source[index] ^ mask.2
                    default: target[index] = source[index] ^ mask.3
                    }
                    index += 1
                }
                return length
            }
        }
        context.write(self.wrapOutboundOut(frame), promise: nil)
    }

    /// The next complete server frame (servers do not mask), or `nil`.
    private func nextFrame() -> (UInt8, ByteBuffer)? {
        let base = self.buffer.readerIndex
        guard let first = self.buffer.getInteger(at: base, as: UInt8.self),
            let second = self.buffer.getInteger(at: base + 1, as: UInt8.self)
        else { return nil }
        var header = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = self.buffer.getInteger(at: base + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            header = 4
        } else if length == 127 {
            guard let extended = self.buffer.getInteger(at: base + 2, as: UInt64.self) else { return nil }
            length = Int(extended)
            header = 10
        }
        guard self.buffer.readableBytes >= header + length else { return nil }
        let payload = self.buffer.getSlice(at: base + header, length: length)!
        self.buffer.moveReaderIndex(forwardBy: header + length)
        return (first & 0x0F, payload)
    }

    private func finish(_ context: ChannelHandlerContext, failure: String?) {
        guard self.state != .finished else { return }
        if self.state != .running { self.run.connectionReady() }
        self.state = .finished
        self.pacer?.cancel()
        self.pacer = nil
        self.run.connectionDone(
            acks: self.inFlight.acks, windowAcks: self.inFlight.windowAcks, latencies: self.inFlight.latencies,
            failure: failure)
        context.close(promise: nil)
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        self.finish(context, failure: reason)
    }
}
