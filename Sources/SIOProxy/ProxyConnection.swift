#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOSSL
import SIOCapture

/// One client TCP connection and its twin connection to the upstream: the executor of a
/// `ProxyConnectionStateMachine`.
///
/// The handlers of both channels report their events here; each event is given to the machine and
/// the actions it returns are performed after it has returned. An event that arrives while actions
/// are being performed (a flush whose write fails closes its channel at once, and the close is
/// reported from inside the flush) is queued and handled after them, so the machine, its parsers
/// and the tap are never re-entered.
///
/// Lives on the client channel's event loop; the upstream channel is opened on the same loop, so
/// nothing here needs a lock.
final class ProxyConnection {
    typealias Side = ProxyConnectionStateMachine.Side

    private enum Event {
        case active(Side)
        case connectFailed(reason: String)
        /// Bytes read from `side`, at `time` on the capture's clock.
        case read(ByteBuffer, Side, time: Int64)
        case readComplete(Side)
        case writabilityChanged(Side)
        case inputClosed(Side)
        case error(ProxyConnectionStateMachine.Failure, Side)
        case inactive(Side)
        case shutdown

        var readTime: Int64? {
            if case .read(_, _, let time) = self { time } else { nil }
        }
    }

    let id: UInt64
    private let configuration: ProxyConfiguration
    private let tap: ConnectionTap
    private let capture: CaptureQueue
    private let logger: Logger
    private let onClose: (ProxyConnection) -> Void

    private var machine: ProxyConnectionStateMachine
    private var clientHandler: RelayHandler?
    private var upstreamHandler: RelayHandler?
    /// Whether actions are being performed; events that arrive meanwhile wait in `queued`.
    private var performing = false
    private var queued: [Event] = []
    /// The actions array of the last event, kept empty for the next one: no allocation per read.
    private var spareActions: [ProxyConnectionStateMachine.Action] = []

    init(
        id: UInt64, configuration: ProxyConfiguration, tap: ConnectionTap, capture: CaptureQueue, clientIP: String,
        logger: Logger, onClose: @escaping (ProxyConnection) -> Void
    ) {
        self.id = id
        self.configuration = configuration
        self.tap = tap
        self.capture = capture
        self.logger = logger
        self.onClose = onClose
        self.machine = ProxyConnectionStateMachine(configuration: configuration, clientIP: clientIP)
    }

    // MARK: - Events from the handlers

    func active(_ handler: RelayHandler) {
        switch handler.side {
        case .client: self.clientHandler = handler
        case .upstream: self.upstreamHandler = handler
        }
        self.handle(.active(handler.side))
    }

    /// The upstream could not be reached: the client's first request is answered `502`.
    func upstreamConnectFailed(_ error: any Error) {
        self.handle(.connectFailed(reason: "cannot reach the upstream \(self.configuration.upstream): \(error)"))
    }

    func mayRead(_ side: Side) -> Bool {
        Self.mayRead(side, partnerWritable: self.handler(side.partner)?.isWritable ?? false, machine: &self.machine)
    }

    /// Asks the machine in place: `self.machine.mayRead(…)` copied the whole machine (parsers and
    /// buffers: a dozen retains and releases) on every read of every connection.
    private static func mayRead(
        _ side: Side, partnerWritable: Bool, machine: inout ProxyConnectionStateMachine
    ) -> Bool {
        machine.mayRead(side, partnerWritable: partnerWritable)
    }

    func writabilityChanged(_ side: Side) {
        self.handle(.writabilityChanged(side))
    }

    func readComplete(from side: Side) {
        self.handle(.readComplete(side))
    }

    func inputClosed(_ side: Side) {
        self.handle(.inputClosed(side))
    }

    func errorCaught(_ error: any Error, on side: Side) {
        self.logger.debug(
            "connection error",
            metadata: ["connection": "\(self.id)", "side": "\(side == .client ? "client" : "upstream")", "error": "\(error)"])
        self.handle(.error(Self.failure(error), side))
    }

    /// A write to `side` failed, reported just before the side's `channelInactive`: NIO closes a
    /// channel whose send fails (the peer reset: `ECONNRESET`, or `EPIPE`) without `errorCaught`, and
    /// the failed write says why (`RelayHandler.lastFlushed`). Only socket errors count: a write
    /// cancelled because the proxy closed the channel fails with a `ChannelError`, and NIOSSL's errors
    /// were reported by `errorCaught`.
    func writeFailed(_ error: any Error, on side: Side) {
        guard error is IOError else { return }
        self.errorCaught(error, on: side)
    }

    /// What the machine is told of a channel's error.
    ///
    /// `EPIPE` is a reset too: a send meets it on a connection the peer reset, once the
    /// `ECONNRESET` was taken by an earlier call, or at once when the peer had half-closed first (a
    /// RST in CLOSE_WAIT sets `EPIPE` on Linux). The proxy never writes to a side whose output it shut
    /// down itself (NIO fails such writes with `ChannelError.outputClosed`, before any send), so on a
    /// connected TCP socket nothing else gives it.
    static func failure(_ error: any Error) -> ProxyConnectionStateMachine.Failure {
        if let error = error as? IOError, error.errnoCode == ECONNRESET || error.errnoCode == EPIPE {
            return .reset
        }
        if error is NIOSSLError {
            return .tls("\(error)")
        }
        return .other("\(error)")
    }

    func inactive(_ side: Side) {
        self.handle(.inactive(side))
    }

    func received(_ buffer: ByteBuffer, from side: Side) {
        // Stamped now, before the bytes are relayed: the records of a read keep the time it happened,
        // not the time the capture was told, after the relay and its flush (`perform`).
        self.handle(.read(buffer, side, time: self.capture.now()))
    }

    /// Closes both sides (shutdown of the proxy).
    func close() {
        self.handle(.shutdown)
    }

    // MARK: - The executor

    private func handle(_ event: Event) {
        guard !self.performing else {
            self.queued.append(event)
            return
        }
        self.performing = true
        defer { self.performing = false }
        var event = event
        while true {
            var actions = self.spareActions
            self.spareActions = []
            self.collectActions(for: event, into: &actions)
            self.perform(actions, readAt: event.readTime)
            actions.removeAll(keepingCapacity: true)
            if actions.capacity <= 64 { self.spareActions = actions }
            guard !self.queued.isEmpty else { return }
            event = self.queued.removeFirst()
        }
    }

    private func collectActions(for event: Event, into actions: inout [ProxyConnectionStateMachine.Action]) {
        switch event {
        case .active(let side): actions += self.machine.channelActive(side)
        case .connectFailed(let reason): actions += self.machine.upstreamConnectFailed(reason: reason)
        case .read(let buffer, let side, _): self.machine.received(buffer, from: side, into: &actions)
        case .readComplete(let side): actions += self.machine.readComplete(side)
        case .writabilityChanged(let side): actions += self.machine.writabilityChanged(side)
        case .inputClosed(let side): actions += self.machine.inputClosed(side)
        case .error(let failure, let side): actions += self.machine.errorCaught(failure, on: side)
        case .inactive(let side): actions += self.machine.channelInactive(side)
        case .shutdown: actions += self.machine.shutdown()
        }
    }

    /// Performs `actions` in order. Taps of a read are told with the read's time (`readAt`), the
    /// others with the time they are told.
    private func perform(_ actions: [ProxyConnectionStateMachine.Action], readAt readTime: Int64?) {
        var index = actions.startIndex
        while index < actions.endIndex {
            let action = actions[index]
            index += 1
            switch action {
            case .write(let bytes, let side):
                if index < actions.endIndex, case .flush(side) = actions[index] {
                    // The write carries the flush's promise, which says whether a send met a reset.
                    index += 1
                    self.handler(side)?.writeAndFlush(bytes)
                } else {
                    self.handler(side)?.write(bytes)
                }
            case .flush(let side):
                self.handler(side)?.flush()
            case .tap(let event):
                self.capture.tell(self.tap, .event(event), at: readTime ?? self.capture.now())
            case .resumeReading(let side):
                self.handler(side)?.resumeReading()
            case .closeOutput(let side):
                self.handler(side)?.closeOutputAfterPendingWrites()
            case .close(let side):
                self.handler(side)?.closeAfterPendingWrites()
            case .closeNow(let side):
                self.handler(side)?.close()
            case .resetAfterPendingWrites(let side):
                self.handler(side)?.resetAfterPendingWrites()
            case .resetNow(let side):
                self.handler(side)?.reset()
            case .badGateway(let reason):
                self.logger.warning("\(reason)", metadata: ["connection": "\(self.id)"])
                guard let client = self.clientHandler else { continue }
                client.write(ProxyConnectionStateMachine.badGatewayResponse(reason: reason, allocator: client.allocator))
                client.closeAfterPendingWrites()
            case .release:
                self.clientHandler = nil
                self.upstreamHandler = nil
                self.onClose(self)
            }
        }
    }

    private func handler(_ side: Side) -> RelayHandler? {
        side == .client ? self.clientHandler : self.upstreamHandler
    }
}
