import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP/1 server of the browser view: the compiled-in page and the JSON API over a
/// `ViewModel`, on one event loop of its own (the proxy's loops never serve a browser). Live
/// mode moves the feed into the store every 50 ms from this loop.
public final class ViewServer: Sendable {
    /// How the server was asked to listen.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// A token is required for a non-loopback address; `nil` there makes a random one.
        public var token: String?

        public init(host: String = "127.0.0.1", port: Int = 0, token: String? = nil) {
            self.host = host
            self.port = port
            self.token = token
        }
    }

    private let model: ViewModel
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The URL to open: `http://HOST:PORT/`, with `?token=` when one is needed. Print it once.
    public let url: String

    /// Binds and starts serving.
    public init(model: ViewModel, configuration: Configuration) async throws {
        let loopback = ViewRequestHandler.isLoopback(configuration.host.lowercased())
        let token = loopback ? nil : (configuration.token ?? ViewRequestHandler.makeToken())
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // The rules need the bound port (with port 0): set right after the bind; a request that
        // comes before is refused.
        let decisions = DecisionBox()
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(
                            ViewHTTPHandler(model: model, decisions: decisions.value))
                    }
                }
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let port = channel.localAddress?.port ?? configuration.port
        decisions.value = ViewRequestHandler(boundHost: configuration.host, port: port, token: token)
        self.model = model
        self.group = group
        self.channel = channel
        let shown = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        self.url = "http://\(shown):\(port)/" + (token.map { "?token=\($0)" } ?? "")
        if model.isLive {
            channel.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { _ in
                model.pump()
            }
        }
    }

    /// The port bound (useful with port 0).
    public var port: Int { self.channel.localAddress?.port ?? 0 }

    /// Stops listening and serving.
    public func close() async {
        try? await self.channel.close()
        try? await self.group.shutdownGracefully()
    }
}

/// The request rules, set once the port is known.
final class DecisionBox: Sendable {
    private let box = NIOLockedValueBox<ViewRequestHandler?>(nil)

    var value: ViewRequestHandler? {
        get { self.box.withLockedValue { $0 } }
        set { self.box.withLockedValue { $0 = newValue } }
    }
}
