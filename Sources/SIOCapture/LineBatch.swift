import NIOCore
import SIORecording
import SIOWire

/// The encoded lines of one WebSocket read, for a sink that writes the recording alone
/// (`RecordSink.lineWriter`). The fast path writes a common packet's `sio` line here without
/// building a `Record`; records made the usual way are encoded in between, so the lines keep the
/// order of the records they stand for. `lines` is the recording writer's pending buffer, lent
/// for the read (under the hub's and the writer's locks).
struct LineBatch {
    var lines: ByteBuffer
    /// Lines written.
    private(set) var count = 0
    /// The latest time stamped on a line (for the recording's trailer).
    private(set) var lastTime: Int64 = 0
    private let encoder = RecordEncoder()

    init(lines: ByteBuffer) {
        self.lines = lines
    }

    /// The line of `context.socketRecord(packet, ackLatencyMicros: ackLatency)`, byte for byte
    /// (the same encoder function writes both).
    mutating func socketLine(_ packet: SocketIOPacket, context: PacketContext, ackLatency: Int64?) {
        self.encoder.encodeSocket(
            time: context.time, sid: context.sid, connection: context.connection, direction: context.direction,
            transport: context.transport, packet: packet, ackLatencyMicros: ackLatency, redacted: false,
            into: &self.lines)
        self.count += 1
        self.lastTime = max(self.lastTime, context.time)
    }

    /// The line of a polling body's `poll` record, byte for byte (the same encoder function writes
    /// both).
    mutating func pollLine(_ poll: Record.PollBody, time: Int64) {
        self.encoder.encodePoll(
            time: time, sid: poll.sid, connection: poll.connection, direction: poll.direction, encoding: poll.encoding,
            bytes: poll.bytes, packetCount: poll.packetCount, into: &self.lines)
        self.count += 1
        self.lastTime = max(self.lastTime, time)
    }

    /// The line of an `http` record (`Record.HTTPExchange`), byte for byte (the same encoder
    /// function writes both).
    mutating func httpLine(_ exchange: Record.HTTPExchange, time: Int64) {
        self.encoder.encodeHTTP(time: time, exchange, into: &self.lines)
        self.count += 1
        self.lastTime = max(self.lastTime, time)
    }

    /// Appends the lines of `other` after the lines so far and empties it (a polling body's packet
    /// lines, written before their `poll` line was known).
    mutating func append(moving other: inout LineBatch) {
        self.lines.writeBuffer(&other.lines)
        self.count += other.count
        self.lastTime = max(self.lastTime, other.lastTime)
        other.count = 0
    }

    /// Encodes `records` (already masked) after the lines so far and empties the array.
    mutating func append(encoding records: inout [Record]) {
        var index = 0
        while index < records.count {
            self.encoder.encode(records[index], into: &self.lines)
            self.lastTime = max(self.lastTime, records[index].time)
            index += 1
        }
        self.count += records.count
        records.removeAll(keepingCapacity: true)
    }
}
