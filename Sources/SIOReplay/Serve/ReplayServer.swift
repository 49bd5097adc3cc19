import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SIOWire
import ServiceLifecycle

/// `replay serve` as a service: a mock Socket.IO server that listens, serves the recorded sessions
/// to the clients that connect, and stops on graceful shutdown or, when configured, once every
/// recorded session has been served and every client has gone.
package final class ReplayServer: Service, Sendable {
    private let configuration: ServeConfiguration
    private let group: any EventLoopGroup
    private let room: ReplayRoom
    private let onListening: @Sendable (SocketAddress) -> Void
    private let finished: EventLoopPromise<Void>

    /// - Parameters:
    ///   - report: lines for the operator (unmatched packets, unknown HTTP requests).
    ///   - onListening: called once bound, with the real address.
    package init(
        plan: ServePlan, configuration: ServeConfiguration, group: any EventLoopGroup, logger: Logger,
        report: @escaping @Sendable (String) -> Void, onListening: @escaping @Sendable (SocketAddress) -> Void
    ) {
        // One loop for every connection: the room's state is confined to it.
        let eventLoop = group.next()
        let finished = eventLoop.makePromise(of: Void.self)
        self.configuration = configuration
        self.group = group
        self.finished = finished
        self.onListening = onListening
        self.room = ReplayRoom(
            plan: plan, configuration: configuration, eventLoop: eventLoop, logger: logger, report: report,
            onFinished: { finished.succeed() })
    }

    /// What happened so far.
    package var summary: ServeSummary {
        get async throws { try await self.room.eventLoop.submit { self.room.summary }.get() }
    }

    package func run() async throws {
        let room = self.room
        let maxBody = self.configuration.maxPayload
        let headTimeout = TimeAmount.milliseconds(self.configuration.headTimeoutMillis)
        let server: any Channel
        let address = "\(self.configuration.host):\(self.configuration.port)"
        do {
            server = try await ServerBootstrap(group: room.eventLoop)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // A client that sends (pings, requests) but never reads the answers must not
                        // make the server queue them without bound: stop reading until it can write.
                        try channel.pipeline.syncOperations.addHandler(BackPressureHandler())
                        let httpHandler = ServeHTTPHandler(room: room, maxBody: maxBody)
                        let headTimeout = RequestHeadTimeout(timeout: headTimeout)
                        let bound = NIOLoopBound((httpHandler, headTimeout), eventLoop: channel.eventLoop)
                        let completion: @Sendable (ChannelHandlerContext) -> Void = { context in
                            // Frames must not pass through the HTTP handlers.
                            context.pipeline.syncOperations.removeHandler(bound.value.0, promise: nil)
                            context.pipeline.syncOperations.removeHandler(bound.value.1, promise: nil)
                        }
                        let operations = channel.pipeline.syncOperations
                        try operations.configureHTTPServerPipeline(
                            withServerUpgrade: (
                                upgraders: [Self.webSocketUpgrader(room: room, maxFrame: maxBody)],
                                completionHandler: completion
                            ))
                        try operations.addHandlers(headTimeout, httpHandler)
                        // NIO's upgrade handler looks at the first request of a connection only and
                        // then leaves; clients that keep the connection of their polling handshake
                        // alive for the upgrade (python-socketio's AsyncClient, on aiohttp) need it
                        // again for every request: it is put back after each one.
                        let encoder = try operations.handler(type: HTTPResponseEncoder.self)
                        var extras: [any RemovableChannelHandler] = [
                            try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self),
                            try operations.handler(type: HTTPServerPipelineHandler.self),
                            try operations.handler(type: NIOHTTPResponseHeadersValidator.self),
                        ]
                        let errorHandler = try operations.handler(type: HTTPServerProtocolErrorHandler.self)
                        extras.append(errorHandler)
                        let rearm = NIOLoopBound((encoder, extras, errorHandler), eventLoop: channel.eventLoop)
                        httpHandler.onRequestEnd = { context in
                            let operations = context.pipeline.syncOperations
                            guard (try? operations.handler(type: HTTPServerUpgradeHandler.self)) == nil else { return }
                            let (encoder, extras, errorHandler) = rearm.value
                            let upgradeHandler = HTTPServerUpgradeHandler(
                                upgraders: [Self.webSocketUpgrader(room: room, maxFrame: maxBody)], httpEncoder: encoder,
                                extraHTTPHandlers: extras, upgradeCompletionHandler: completion)
                            try? operations.addHandler(upgradeHandler, position: .after(errorHandler))
                        }
                    }
                }
                .bind(host: self.configuration.host, port: self.configuration.port)
                .get()
        } catch {
            try? await room.eventLoop.submit { room.shutdown() }.get()
            throw ReplayServeError.bindFailed(address, underlying: error)
        }
        room.eventLoop.execute { room.start() }
        if let local = server.localAddress { self.onListening(local) }
        self.finished.futureResult.whenSuccess { server.close(promise: nil) }
        try await withGracefulShutdownHandler {
            try await server.closeFuture.get()
        } onGracefulShutdown: {
            server.close(promise: nil)
        }
        try await room.eventLoop.submit { room.shutdown() }.get()
    }

    private static func webSocketUpgrader(room: ReplayRoom, maxFrame: Int) -> NIOWebSocketServerUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: max(maxFrame, 1 << 16), automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let target = EngineIORequestTarget(uri: head.uri)
                guard target.version != nil, target.transport == .websocket, room.acceptsWebSocket(sid: target.sid) else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
            },
            upgradePipelineHandler: { channel, head in
                let target = EngineIORequestTarget(uri: head.uri)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(WebSocketFrameGuard())
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024,
                            maxAccumulatedFrameSize: max(maxFrame, 1 << 16)))
                    try channel.pipeline.syncOperations.addHandler(
                        ServeWebSocketHandler(room: room, version: target.version ?? .v4, sid: target.sid))
                }
            })
    }
}

/// Why `replay serve` could not run.
package struct ReplayServeError: Error, CustomStringConvertible, Sendable {
    package var description: String

    static func bindFailed(_ address: String, underlying: any Error) -> ReplayServeError {
        ReplayServeError(description: "cannot listen on \(address): \(underlying)")
    }
}
