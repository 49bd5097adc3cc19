import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SIOCapture
import ServiceLifecycle
import Synchronization

/// The reverse proxy of `siotape record` as a service: listens, relays every connection to the
/// upstream, feeds the capture hub, and on graceful shutdown stops accepting and closes what is open.
public final class RecordingProxy: Service, Sendable {
    private let configuration: ProxyConfiguration
    private let hub: CaptureHub
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) -> Void
    private let tlsContext: NIOSSLContext?
    private let nextConnectionID = Atomic<UInt64>(1)
    private let open = Mutex<[UInt64: NIOLoopBound<ProxyConnection>]>([:])
    /// Where the connections' taps run: a capture thread, off the event loops.
    private let capture: CaptureQueue

    /// - Parameter onListening: called once the listening socket is bound, with its address
    ///   (the port is the real one when 0 was asked for).
    public init(
        configuration: ProxyConfiguration, hub: CaptureHub, group: any EventLoopGroup, logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void
    ) throws(ProxyError) {
        if configuration.upstream.scheme == .https {
            var tls = TLSConfiguration.makeClientConfiguration()
            if configuration.insecureTLS {
                tls.certificateVerification = .none
            }
            do {
                self.tlsContext = try NIOSSLContext(configuration: tls)
            } catch {
                throw ProxyError.tls(error)
            }
        } else {
            self.tlsContext = nil
        }
        self.configuration = configuration
        self.hub = hub
        self.capture = CaptureQueue(hub: hub)
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let server: any Channel
        let address = "\(self.configuration.listenHost):\(self.configuration.listenPort)"
        do {
            server = try await ServerBootstrap(group: self.group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.accept(channel)
                    }
                }
                .bind(host: self.configuration.listenHost, port: self.configuration.listenPort)
                .get()
        } catch {
            throw ProxyError.bindFailed(address, underlying: error)
        }
        if let local = server.localAddress {
            self.onListening(local)
        }
        try await withGracefulShutdownHandler {
            try await server.closeFuture.get()
        } onGracefulShutdown: {
            server.close(promise: nil)
        }
        self.closeOpenConnections()
    }

    private func accept(_ channel: any Channel) throws {
        let id = self.nextConnectionID.wrappingAdd(1, ordering: .relaxed).oldValue
        let peer = channel.remoteAddress
        let peerText = peer.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        let logger = self.logger
        let tap = self.hub.makeTap(connection: id)
        self.capture.tell(tap, .opened(peer: peerText))
        let connection = ProxyConnection(
            id: id, configuration: self.configuration, tap: tap, capture: self.capture,
            clientIP: peer?.ipAddress ?? "unknown", logger: logger
        ) { [weak self] connection in
            _ = self?.open.withLock { $0.removeValue(forKey: connection.id) }
        }
        let bound = NIOLoopBound(connection, eventLoop: channel.eventLoop)
        self.open.withLock { $0[id] = bound }
        try channel.pipeline.syncOperations.addHandler(RelayHandler(side: .client, connection: connection))
        self.connectUpstream(for: bound, on: channel.eventLoop)
    }

    /// Records what the capture thread has not recorded yet, and stops it. Call after the event
    /// loops have shut down (every connection has told its taps all), before the recording is closed.
    public func finishCapture() {
        self.capture.finish()
    }

    private func connectUpstream(for connection: NIOLoopBound<ProxyConnection>, on eventLoop: any EventLoop) {
        let upstream = self.configuration.upstream
        let tlsContext = self.tlsContext
        ClientBootstrap(group: eventLoop)
            .connectTimeout(self.configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        let isAddress = (try? SocketAddress(ipAddress: upstream.host, port: 0)) != nil
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: isAddress ? nil : upstream.host))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        RelayHandler(side: .upstream, connection: connection.value))
                }
            }
            .connect(host: upstream.host, port: upstream.port)
            .whenFailure { error in
                connection.value.upstreamConnectFailed(error)
            }
    }

    private func closeOpenConnections() {
        let connections = self.open.withLock { Array($0.values) }
        for connection in connections {
            connection.eventLoop.execute {
                connection.value.close()
            }
        }
    }
}
