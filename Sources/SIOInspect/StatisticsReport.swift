import NIOCore
import SIORecording
import SIOWire

/// Renders a `StatisticsSummary`: aligned text for people, one JSON object for machines.
public enum StatisticsReport {
    public static func text(_ s: StatisticsSummary) -> String {
        var out = ""
        func line(_ text: String) { out += text + "\n" }
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
        func right(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
        }
        let span = (s.last ?? 0) - (s.first ?? 0)
        line("records     \(s.records) over \(duration(span))")
        let transports = s.transports.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        line("sessions    \(s.sessions)" + (transports.isEmpty ? "" : " (\(transports))"))
        if s.durations.count > 0 {
            line(
                "  duration  p50 \(duration(s.durations.percentile(0.5))), p90 \(duration(s.durations.percentile(0.9))), "
                    + "max \(duration(s.durations.max))"
            )
        }
        for (name, table) in [("  closed", s.closeCauses), ("  ws close", s.webSocketCloses), ("  tcp close", s.connectionCloses)]
        where !table.isEmpty {
            line(pad(name, 12) + table.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", "))
        }
        line("")
        line(pad("packets", 22) + right("c2s", 10) + right("bytes", 12) + right("s2c", 10) + right("bytes", 12))
        func traffic(_ label: String, _ t: [Direction: Traffic]) {
            let c = t[.clientToServer] ?? Traffic()
            let v = t[.serverToClient] ?? Traffic()
            line(
                pad(label, 22) + right(String(c.packets), 10) + right(String(c.bytes), 12) + right(String(v.packets), 10)
                    + right(String(v.bytes), 12)
            )
        }
        traffic("  Socket.IO", s.socketIO)
        traffic("  Engine.IO", s.engineIO)
        if !s.httpBodies.isEmpty { traffic("  HTTP bodies", s.httpBodies) }
        for (nsp, t) in s.namespaces.sorted(by: { $0.key < $1.key }) { traffic("  nsp \(nsp)", t) }
        if !s.socketTypes.isEmpty {
            line("  types     " + SocketIOPacketType.allCases.compactMap { t in s.socketTypes[t.name].map { "\(t.name) \($0)" } }
                .joined(separator: ", "))
        }
        if !s.engineTypes.isEmpty {
            line("  eio types " + s.engineTypes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !s.events.isEmpty {
            line("")
            line(
                pad("events", 30) + right("c2s", 8) + right("s2c", 8) + right("acks", 8) + right("p50", 10) + right("p90", 10)
                    + right("p99", 10) + right("max", 10)
            )
            let sorted = s.events.sorted {
                let a = $0.value.emitted.values.reduce(0, +)
                let b = $1.value.emitted.values.reduce(0, +)
                return a != b ? a > b : $0.key < $1.key
            }
            for (name, e) in sorted {
                var row = pad("  " + name, 30) + right(String(e.emitted[.clientToServer] ?? 0), 8)
                row += right(String(e.emitted[.serverToClient] ?? 0), 8) + right(String(e.acks.count), 8)
                if e.acks.count > 0 {
                    for p in [0.5, 0.9, 0.99] { row += right(duration(e.acks.percentile(p)), 10) }
                    row += right(duration(e.acks.max), 10)
                }
                line(row)
            }
            if s.unpairedAcks > 0 { line("  (\(s.unpairedAcks) acks without their event)") }
        }
        line("")
        if s.errors.isEmpty {
            line("errors      none")
        } else {
            line("errors")
            for (what, n) in s.errors.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                line(right(String(n), 8) + "  " + what)
            }
        }
        return out
    }

    /// One JSON object; field names documented in docs/inspect.md.
    public static func json(_ s: StatisticsSummary) -> ByteBuffer {
        var b = ByteBuffer()
        func key(_ k: String) {
            b.writeJSONString(k)
            b.writeStaticString(":")
        }
        func counts(_ table: [String: Int]) {
            b.writeStaticString("{")
            for (i, (k, v)) in table.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { b.writeStaticString(",") }
                key(k)
                b.writeString(String(v))
            }
            b.writeStaticString("}")
        }
        func traffic(_ t: [Direction: Traffic]) {
            let c = t[.clientToServer] ?? Traffic()
            let v = t[.serverToClient] ?? Traffic()
            b.writeString(
                "{\"c2s\":{\"packets\":\(c.packets),\"bytes\":\(c.bytes)},\"s2c\":{\"packets\":\(v.packets),\"bytes\":\(v.bytes)}}"
            )
        }
        func latency(_ h: LatencyHistogram) {
            b.writeString(
                "{\"count\":\(h.count),\"p50_us\":\(h.percentile(0.5)),\"p90_us\":\(h.percentile(0.9)),"
                    + "\"p99_us\":\(h.percentile(0.99)),\"max_us\":\(h.max)}"
            )
        }
        b.writeString("{\"records\":\(s.records),")
        if let first = s.first, let last = s.last { b.writeString("\"first_wall_us\":\(first),\"last_wall_us\":\(last),") }
        b.writeString("\"sessions\":{\"count\":\(s.sessions),\"transports\":")
        counts(s.transports)
        b.writeStaticString(",\"duration\":")
        latency(s.durations)
        b.writeStaticString(",\"close_causes\":")
        counts(s.closeCauses)
        b.writeStaticString(",\"ws_closes\":")
        counts(s.webSocketCloses)
        b.writeStaticString(",\"tcp_closes\":")
        counts(s.connectionCloses)
        b.writeStaticString("},\"sio\":")
        traffic(s.socketIO)
        b.writeStaticString(",\"eio\":")
        traffic(s.engineIO)
        b.writeStaticString(",\"http_bodies\":")
        traffic(s.httpBodies)
        b.writeStaticString(",\"namespaces\":{")
        for (i, (nsp, t)) in s.namespaces.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { b.writeStaticString(",") }
            key(nsp)
            traffic(t)
        }
        b.writeStaticString("},\"sio_types\":")
        counts(s.socketTypes)
        b.writeStaticString(",\"eio_types\":")
        counts(s.engineTypes)
        b.writeStaticString(",\"events\":{")
        for (i, (name, e)) in s.events.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { b.writeStaticString(",") }
            key(name)
            b.writeString(
                "{\"c2s\":\(e.emitted[.clientToServer] ?? 0),\"s2c\":\(e.emitted[.serverToClient] ?? 0),\"acks\":"
            )
            latency(e.acks)
            b.writeStaticString("}")
        }
        b.writeString("},\"unpaired_acks\":\(s.unpairedAcks),\"errors\":")
        counts(s.errors)
        b.writeStaticString("}\n")
        return b
    }

    /// `850µs`, `12.3ms`, `4.21s`.
    static func duration(_ micros: Int64) -> String {
        if micros < 1000 { return "\(micros)µs" }
        if micros < 1_000_000 { return "\(micros / 1000).\(micros % 1000 / 100)ms" }
        let centis = micros / 10_000
        return "\(centis / 100).\(centis % 100 < 10 ? "0" : "")\(centis % 100)s"
    }
}
