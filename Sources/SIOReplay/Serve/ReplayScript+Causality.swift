import NIOCore
import SIORecording
import SIOWire

/// Something a client did in the recording that a recorded server action may have answered.
package enum ServeTrigger: Hashable, Sendable {
    /// The client opened the session (the Engine.IO handshake request).
    case sessionOpened(session: Int)
    /// The client sent `sessions[session].packets[packet]`.
    case clientPacket(session: Int, packet: Int)
    /// The client made the `index`-th recorded plain HTTP request (not Engine.IO).
    case httpRequest(index: Int)
}

/// One thing the recorded server did in a session, and what it answered.
package struct ServeStep: Hashable, Sendable {
    package enum Kind: Hashable, Sendable {
        /// A Socket.IO packet to the client (`packet` indexes the session's `packets`).
        case packet(Int)
        /// The server ended the session with a close packet.
        case closePacket
        /// The server dropped the transport without a close packet (the client may reconnect).
        case dropTransport
    }

    package var session: Int
    package var time: Int64
    package var kind: Kind
    package var trigger: ServeTrigger
    /// Recorded microseconds between the trigger and this step.
    package var delay: Int64
}

/// A recorded plain HTTP exchange (not Engine.IO): what `replay serve` answers for its method and path.
package struct RecordedHTTPExchange: Hashable, Sendable {
    package var method: String
    /// Path with query, as recorded.
    package var path: String
    package var status: Int?
    /// When the request started, µs since the recording's start.
    package var time: Int64
    /// The request body as recorded (`body` records), when there was one.
    package var requestBody: ByteBuffer?
    /// The response body as recorded (inflated when it was sent gzip/deflate), when there was one.
    package var responseBody: ByteBuffer?
    /// The recorded response headers (recordings made before bodies were kept have none).
    package var responseHeaders: [Record.KeyValue]?
    /// True when the kept response body is not the whole body (over the body limit).
    package var responseBodyCut = false
    /// The recorded request headers, credential values redacted (recordings made before bodies
    /// were kept have none).
    package var requestHeaders: [Record.KeyValue]?
    /// True when the kept request body is not the whole body (over the body limit).
    package var requestBodyCut = false
    /// When the response ended (the `http` record), µs since the recording's start.
    package var endTime: Int64?

    package init(
        method: String, path: String, status: Int?, time: Int64, requestBody: ByteBuffer? = nil,
        responseBody: ByteBuffer? = nil, responseHeaders: [Record.KeyValue]? = nil
    ) {
        self.method = method
        self.path = path
        self.status = status
        self.time = time
        self.requestBody = requestBody
        self.responseBody = responseBody
        self.responseHeaders = responseHeaders
    }

    /// The first recorded request header with this name (case-insensitive).
    package func requestHeader(_ name: String) -> String? {
        self.requestHeaders?.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The first recorded response header with this name (case-insensitive).
    package func responseHeader(_ name: String) -> String? {
        self.responseHeaders?.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Reads the plain HTTP exchanges of a recording (requests without an Engine.IO sid and not to
    /// an Engine.IO path), in the order their requests started.
    package static func load(path: String) throws -> [RecordedHTTPExchange] {
        let reader = try RecordingReader(path: path)
        var exchanges: [RecordedHTTPExchange] = []
        // `body` records come before their exchange's `http` record, per connection and direction.
        var bodies: [UInt64: (request: ByteBuffer?, response: ByteBuffer?, cut: Bool, requestCut: Bool)] = [:]
        while let record = try reader.next() {
            if case .body(let piece) = record.event {
                var entry = bodies[piece.connection] ?? (nil, nil, false, false)
                var bytes = (piece.direction == .clientToServer ? entry.request : entry.response) ?? ByteBuffer()
                switch piece.data {
                case .text(let text): bytes.writeString(text)
                case .binary(let binary): bytes.writeImmutableBuffer(binary)
                }
                if piece.direction == .clientToServer {
                    entry.request = bytes
                    entry.requestCut = entry.requestCut || piece.note != nil
                } else {
                    entry.response = bytes
                    entry.cut = entry.cut || piece.note != nil
                }
                bodies[piece.connection] = entry
                continue
            }
            guard case .http(let http) = record.event else { continue }
            let kept = bodies.removeValue(forKey: http.connection)
            guard http.sid == nil, EngineIORequestTarget(uri: http.path).version == nil else { continue }
            var exchange = RecordedHTTPExchange(
                method: http.method, path: http.path, status: http.status, time: record.time - http.durationMicros,
                requestBody: kept?.request, responseBody: kept?.response, responseHeaders: http.responseHeaders)
            exchange.responseBodyCut = kept?.cut ?? false
            exchange.requestBodyCut = kept?.requestCut ?? false
            exchange.requestHeaders = http.requestHeaders
            exchange.endTime = record.time
            exchanges.append(exchange)
        }
        return exchanges.sorted { $0.time < $1.time }
    }
}

/// The causality rule of `replay serve`.
///
/// Every server action of the recording (a Socket.IO packet to a client, or the server ending a
/// session) is attributed to one trigger, a thing a client did:
///
/// 1. an ACK / BINARY_ACK answers the latest earlier EVENT of its session with the same namespace
///    and ack id;
/// 2. a CONNECT / CONNECT_ERROR answers the latest earlier client CONNECT of its session to that
///    namespace (a Socket.IO v4 server's own `40` for `/` answers the session's opening);
/// 3. an EVENT whose payload is byte for byte the payload of a client EVENT of another session at
///    most `window` before it relays that event (the latest such): a forwarded `offer`;
/// 4. anything else answers the latest client action before it, in *any* session, if that came at
///    most `window` before it: a client packet, a session opening, or a plain HTTP request (so a
///    viewer's `offer` forwarded to the camera fires when the viewer sends it, and an admin
///    `POST` that makes the server drop a connection fires the drop);
/// 5. with nothing in the window the action is unprompted: its trigger is its own session's opening.
///
/// Replay sends each action when its trigger has happened live, after the recorded delay.
package struct ServePlan: Hashable, Sendable {
    package var script: ReplayScript
    package var http: [RecordedHTTPExchange]
    /// Every server action, in recorded time order.
    package var steps: [ServeStep]
    /// Indices into `steps` for each trigger, in recorded order.
    package var stepsByTrigger: [ServeTrigger: [Int]]

    package static let defaultWindowMicros: Int64 = 1_000_000

    package init(script: ReplayScript, http: [RecordedHTTPExchange] = [], windowMicros: Int64 = Self.defaultWindowMicros) {
        self.script = script
        self.http = http
        var triggers: [(time: Int64, trigger: ServeTrigger)] = []
        var steps: [ServeStep] = []
        for session in script.sessions {
            triggers.append((session.openedAt, .sessionOpened(session: session.index)))
            for packet in session.packets where packet.direction == .clientToServer {
                triggers.append((packet.time, .clientPacket(session: session.index, packet: packet.index)))
            }
        }
        for (index, exchange) in http.enumerated() {
            triggers.append((exchange.time, .httpRequest(index: index)))
        }
        triggers.sort { $0.time < $1.time }
        let times = triggers.map(\.time)

        func latestTrigger(session: ScriptSession, at time: Int64) -> (ServeTrigger, Int64) {
            // The latest trigger at or before `time`: binary search for the first one after it.
            var low = 0
            var high = times.count
            while low < high {
                let middle = (low + high) / 2
                if times[middle] <= time { low = middle + 1 } else { high = middle }
            }
            if low > 0, time - times[low - 1] <= windowMicros {
                return (triggers[low - 1].trigger, time - times[low - 1])
            }
            return (.sessionOpened(session: session.index), time - session.openedAt)
        }

        // Client events by payload, for rule 3.
        var eventsByPayload: [String: [(time: Int64, session: Int, packet: Int)]] = [:]
        for session in script.sessions {
            for packet in session.packets where packet.direction == .clientToServer && packet.isEvent {
                guard let text = packet.dataText else { continue }
                eventsByPayload[text, default: []].append((packet.time, session.index, packet.index))
            }
        }
        for key in eventsByPayload.keys { eventsByPayload[key]!.sort { $0.time < $1.time } }
        func relayed(_ packet: ScriptPacket, in session: ScriptSession) -> (ServeTrigger, Int64)? {
            guard packet.isEvent, let text = packet.dataText, let sources = eventsByPayload[text] else { return nil }
            // The last source at or before the packet, then back through the window.
            var low = 0
            var high = sources.count
            while low < high {
                let middle = (low + high) / 2
                if sources[middle].time <= packet.time { low = middle + 1 } else { high = middle }
            }
            var position = low - 1
            while position >= 0, packet.time - sources[position].time <= windowMicros {
                let source = sources[position]
                if source.session != session.index {
                    return (.clientPacket(session: source.session, packet: source.packet), packet.time - source.time)
                }
                position -= 1
            }
            return nil
        }

        for session in script.sessions {
            for packet in session.packets where packet.direction == .serverToClient {
                let (cause, delay) =
                    Self.directCause(of: packet, in: session) ?? relayed(packet, in: session)
                    ?? latestTrigger(session: session, at: packet.time)
                steps.append(
                    ServeStep(
                        session: session.index, time: packet.time, kind: .packet(packet.index), trigger: cause,
                        delay: max(0, delay)))
            }
            if let closedAt = session.closedAt, let cause = session.closeCause, Self.isServerClose(cause) {
                let (trigger, delay) = latestTrigger(session: session, at: closedAt)
                steps.append(
                    ServeStep(
                        session: session.index, time: closedAt,
                        kind: cause.contains("close packet") ? .closePacket : .dropTransport,
                        trigger: trigger, delay: max(0, delay)))
            }
        }
        steps.sort { ($0.time, $0.session) < ($1.time, $1.session) }
        self.steps = steps
        var byTrigger: [ServeTrigger: [Int]] = [:]
        for (index, step) in steps.enumerated() { byTrigger[step.trigger, default: []].append(index) }
        self.stepsByTrigger = byTrigger
    }

    /// Rules 1 and 2: answers bound to a client packet of the same session.
    static func directCause(of packet: ScriptPacket, in session: ScriptSession) -> (ServeTrigger, Int64)? {
        let earlier = session.packets[..<packet.index].reversed().lazy.filter { $0.direction == .clientToServer }
        switch packet.type {
        case .ack, .binaryAck:
            guard let id = packet.ackID,
                let event = earlier.first(where: { $0.isEvent && $0.ackID == id && $0.namespace == packet.namespace })
            else { return nil }
            return (.clientPacket(session: session.index, packet: event.index), packet.time - event.time)
        case .connect, .connectError:
            guard let connect = earlier.first(where: { $0.type == .connect && $0.namespace == packet.namespace }) else {
                return (.sessionOpened(session: session.index), packet.time - session.openedAt)
            }
            return (.clientPacket(session: session.index, packet: connect.index), packet.time - connect.time)
        case .event, .binaryEvent, .disconnect:
            return nil
        }
    }

    /// Close causes that mean the server ended the session (`server close packet`, `websocket closed
    /// by server`, ...), as opposed to the client or a timeout.
    static func isServerClose(_ cause: String) -> Bool {
        cause.contains("server")
    }
}
