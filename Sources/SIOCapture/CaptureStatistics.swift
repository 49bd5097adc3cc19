/// Counters over one proxy run, for the summary printed at shutdown.
public struct CaptureStatistics: Hashable, Sendable {
    /// Engine.IO sessions whose handshake was seen.
    public var sessionsOpened: Int = 0
    /// Sessions that ended (close packet, WebSocket close, HTTP 400, transport closed, eviction).
    public var sessionsClosed: Int = 0
    /// Sessions currently tracked.
    public var activeSessions: Int = 0
    /// Socket.IO packets recorded (a binary packet and its attachments count once).
    public var socketIOPackets: Int = 0
    /// Engine.IO packets decoded, Socket.IO messages and attachments included.
    public var engineIOPackets: Int = 0
    /// Namespace connections accepted by the server (`40` from the server).
    public var namespaceConnects: Int = 0
    /// Namespace connections refused (`44`).
    public var namespaceConnectErrors: Int = 0
    /// `41` disconnects from either side.
    public var namespaceDisconnects: Int = 0
    /// Acks matched to the event that asked for them.
    public var acksPaired: Int = 0
    /// Body and WebSocket bytes seen from the client.
    public var bytesClientToServer: Int = 0
    /// Body and WebSocket bytes seen from the server.
    public var bytesServerToClient: Int = 0
    /// `raw` records written (input that did not decode).
    public var undecodable: Int = 0
    /// HTTP exchanges seen (every request, Engine.IO or not).
    public var httpExchanges: Int = 0

    public init() {}
}
