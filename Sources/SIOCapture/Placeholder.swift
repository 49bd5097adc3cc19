// TEMPORARY stand-in for the capture interface until the capture branch lands.
import Logging
import NIOCore
import NIOHTTP1
import SIORecording
import SIOWire

public protocol RecordSink: Sendable { func receive(_ record: Record) }

public struct CaptureConfiguration: Sendable {
    public var redactCredentials: Bool = true
    public var maxBodyBytes: Int = 16 << 20
    public var maxWebSocketMessageBytes: Int = 16 << 20
    public init() {}
}

public struct CaptureStatistics: Sendable {
    public var sessions = 0
    public var socketIOPackets = 0
    public var engineIOPackets = 0
}

public final class CaptureHub: Sendable {
    public init(configuration: CaptureConfiguration, sink: any RecordSink, logger: Logger) {}
    public func makeTap(connection: UInt64, peer: String) -> ConnectionTap { ConnectionTap() }
    public var statistics: CaptureStatistics { CaptureStatistics() }
}

public final class ConnectionTap {
    public func requestHead(_ head: HTTPRequestHead) {}
    public func requestBody(_ bytes: ByteBuffer) {}
    public func requestEnd() {}
    public func responseHead(_ head: HTTPResponseHead) {}
    public func responseBody(_ bytes: ByteBuffer) {}
    public func responseEnd() {}
    public func webSocketBytes(_ bytes: ByteBuffer, direction: Direction) {}
    public func upstreamUnreachable(reason: String) {}
    public func connectionClosed(cause: String) {}
}
