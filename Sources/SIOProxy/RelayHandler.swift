import NIOCore

/// The last handler of both the client's and the upstream's pipeline: hands the bytes it reads to
/// the `ProxyConnection` and writes what the connection relays to it.
///
/// Backpressure as in swift-nio-examples' GlueHandler: a side reads only while its partner is
/// writable, so a peer that stops reading slows the other peer down instead of filling memory.
final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let side: ProxyConnection.Side
    private let connection: ProxyConnection
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// The result of the last flush's last write. NIO closes a channel without `errorCaught` when a
    /// send fails (the peer reset while it was written to) or when epoll reports a reset of a channel
    /// whose input had already ended (nothing left to read it from): it fails the pending writes with
    /// the error, then fires `channelInactive`. One promise per flush, not per write: every write still
    /// pending fails with the same error, and the last one flushed is pending if any is.
    private var lastFlushed: EventLoopFuture<Void>?

    init(side: ProxyConnection.Side, connection: ProxyConnection) {
        self.side = side
        self.connection = connection
    }

    var isWritable: Bool { self.context?.channel.isWritable ?? false }

    var allocator: ByteBufferAllocator { self.context?.channel.allocator ?? ByteBufferAllocator() }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.lastFlushed = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.connection.active(self)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.connection.received(self.unwrapInboundIn(data), from: self.side)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.connection.readComplete(from: self.side)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.connection.writabilityChanged(self.side)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            self.connection.inputClosed(self.side)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let lastFlushed = self.lastFlushed {
            self.lastFlushed = nil
            // A NIO socket fails its pending writes before it fires `channelInactive`, so a failure is
            // known now and the callback runs at once, on this loop. A channel that completes its
            // writes later (`EmbeddedChannel`) is not waited for: the close goes on as a close.
            var failure: (any Error)?
            lastFlushed.assumeIsolated().whenFailure { failure = $0 }
            if let failure {
                self.connection.writeFailed(failure, on: self.side)
            }
        }
        self.connection.inactive(self.side)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.connection.errorCaught(error, on: self.side)
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if self.connection.mayRead(self.side) {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    /// Issues the read that was held back while the partner could not take more.
    func resumeReading() {
        guard self.pendingRead, let context = self.context else { return }
        self.pendingRead = false
        context.read()
    }

    func write(_ buffer: ByteBuffer) {
        self.context?.write(self.wrapOutboundOut(buffer), promise: nil)
    }

    /// Writes and flushes; the write carries the flush's promise (`lastFlushed`).
    func writeAndFlush(_ buffer: ByteBuffer) {
        guard let context = self.context else { return }
        let promise = context.eventLoop.makePromise(of: Void.self)
        self.lastFlushed = promise.futureResult
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: promise)
    }

    /// Flushes what was written; an empty write carries the flush's promise. The executor calls
    /// `writeAndFlush` instead when the flush follows a write, as it does for every WebSocket read.
    func flush() {
        self.writeAndFlush(ByteBuffer())
    }

    /// Sends a FIN once everything written so far has gone out.
    func closeOutputAfterPendingWrites() {
        guard let context = self.context else { return }
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
    }

    /// Closes the connection once everything written so far has gone out.
    func closeAfterPendingWrites() {
        guard let context = self.context else { return }
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func close() {
        self.context?.close(promise: nil)
    }

    /// Resets the connection (RST, not FIN) once everything written so far has gone out.
    func resetAfterPendingWrites() {
        guard let context = self.context else { return }
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).whenComplete { _ in
            Self.closeWithReset(channel)
        }
    }

    /// Resets the connection at once; what was not sent yet is dropped, as by any reset.
    func reset() {
        guard let context = self.context else { return }
        Self.closeWithReset(context.channel)
    }

    /// `SO_LINGER` {on, 0} makes `close(2)` send a RST instead of a FIN, on Linux and macOS alike. Set
    /// with `SocketOptionProvider.setSoLinger` (NIOCore's `NIOLinger` is the C `struct linger` of either
    /// OS): `ChannelOptions.socketOption(.so_linger)` passes an integer, which macOS refuses (`EINVAL`)
    /// and Linux reads as a `struct linger` only by accident of layout. A channel that is not a socket
    /// (`EmbeddedChannel` in tests) is just closed.
    private static func closeWithReset(_ channel: any Channel) {
        guard let socket = channel as? any SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        socket.setSoLinger(NIOLinger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
