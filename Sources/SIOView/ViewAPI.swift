import NIOCore
import SIOInspect
import SIORecording
import SIOWire

/// The JSON answers of the API, computed from a `ViewStore`: filtering, sorting and paging
/// happen here, so a page only ever receives the rows it shows. No sockets: called by the
/// server under the store's lock, and by `StaticReport`.
package final class ViewAPI {
    package let store: ViewStore
    /// The sequence numbers matching the last filter asked for, and how far they were computed
    /// (a live store grows: the list is extended, not recomputed). Paging through a million
    /// packets costs one scan, then a slice per page.
    private var cache: (key: String, matches: [Int64], upTo: Int64)?
    private let fields = RecordLine()

    package init(store: ViewStore) {
        self.store = store
    }

    // MARK: Sessions

    /// `{"total":N,"offset":O,"rows":[session...]}`, sorted by `sort` (`start`, `packets`,
    /// `duration`, `p99`, `errors`), filtered by `q` and by `session`.
    package func sessions(_ query: ViewQuery) -> ByteBuffer {
        var rows = self.store.sessions.rows
        let search = query.search.lowercased()
        if !search.isEmpty {
            rows = rows.filter {
                self.sidString($0.sid).lowercased().contains(search) || ($0.peer ?? "").contains(search)
            }
        }
        if !query.filter.sessions.isEmpty {
            rows = rows.filter { row in
                let sid = self.sidString(row.sid)
                return query.filter.sessions.contains { sid.hasPrefix($0) }
            }
        }
        // Each row's key computed once (a percentile walks the histogram), then a stable sort.
        let key: ((SessionTable.Row) -> Int64)? =
            switch query.sort {
            case "packets": { Int64($0.packets) }
            case "duration": { $0.duration }
            case "p99": { $0.acks.percentile(0.99) }
            case "errors": { Int64($0.errorCount) }
            default: nil
            }
        if let key {
            let keys = rows.map(key)
            rows = rows.indices.sorted { keys[$0] != keys[$1] ? keys[$0] > keys[$1] : $0 < $1 }.map { rows[$0] }
        }
        var out = ByteBuffer()
        out.writeString("{\"total\":\(rows.count),\"offset\":\(query.offset),\"rows\":[")
        let page = rows.dropFirst(query.offset).prefix(query.limit)
        for (i, row) in page.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            self.writeSession(row, into: &out)
        }
        out.writeStaticString("]}")
        return out
    }

    package func writeSession(_ row: SessionTable.Row, into out: inout ByteBuffer) {
        let start = self.store.start
        out.writeStaticString("{\"sid\":\"")
        out.writeBytes(self.store.indexer.sessionBytes(Int(row.sid)))
        out.writeStaticString("\",\"peer\":")
        if let peer = row.peer { out.writeJSONString(peer) } else { out.writeStaticString("null") }
        out.writeString(
            ",\"first_us\":\(row.first - start),\"last_us\":\(row.last - start),\"duration_us\":\(row.duration)"
                + ",\"transport\":\"\(row.transport)\",\"transports\":[")
        for (i, t) in row.transports.enumerated() {
            out.writeString(i > 0 ? "," : "")
            out.writeString("[\(t.wall - start),\"\(t.name)\"]")
        }
        out.writeStaticString("],\"namespaces\":[")
        for (i, nsp) in row.namespaces.enumerated() {
            out.writeStaticString(i > 0 ? ",\"" : "\"")
            out.writeBytes(self.store.indexer.namespaceBytes(Int(nsp)))
            out.writeStaticString("\"")
        }
        out.writeString(
            "],\"c2s\":\(row.clientPackets),\"s2c\":\(row.serverPackets),\"eio\":\(row.enginePackets)"
                + ",\"acks\":\(row.acks.count),\"p50_us\":\(row.acks.percentile(0.5)),\"p99_us\":\(row.acks.percentile(0.99))"
                + ",\"closed\":\(row.closed != nil),\"close\":")
        if let cause = row.closeCause { out.writeJSONString(cause) } else { out.writeStaticString("null") }
        out.writeString(",\"error_count\":\(row.errorCount),\"errors\":[")
        for (i, error) in row.errors.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            out.writeJSONString(error)
        }
        out.writeString("],\"seq\":\(row.firstSequence)}")
    }

    // MARK: Packets

    /// `{"total":N,"offset":O,"next":S,"rows":[packet...]}`: the page `offset..<offset+limit` of
    /// the lines matching the query.
    package func packets(_ query: ViewQuery) -> ByteBuffer {
        let matches = self.matches(query)
        var out = ByteBuffer()
        out.writeString("{\"total\":\(matches.count),\"offset\":\(query.offset),\"next\":\(self.store.nextSequence),\"rows\":[")
        var first = true
        for sequence in matches.dropFirst(query.offset).prefix(query.limit) {
            guard let entry = self.store.entry(sequence) else { continue }
            if !first { out.writeStaticString(",") }
            first = false
            self.writePacket(entry, sequence: sequence, into: &out)
        }
        out.writeStaticString("]}")
        return out
    }

    /// Live: the matching lines from sequence `after` on (at most `limit`, the newest), with how
    /// many matching lines were skipped to stay within it.
    package func live(_ query: ViewQuery) -> ByteBuffer {
        let matches = self.matches(query)
        // The matches are in sequence order: find the first at or after `after`.
        var low = 0
        var high = matches.count
        while low < high {
            let mid = (low + high) / 2
            if matches[mid] < query.after { low = mid + 1 } else { high = mid }
        }
        let fresh = matches.count - low
        let skipped = max(0, fresh - query.limit)
        var out = ByteBuffer()
        out.writeString(
            "{\"next\":\(self.store.nextSequence),\"skipped\":\(skipped),\"forgotten\":\(self.store.forgotten),\"total\":\(matches.count),\"rows\":[")
        var first = true
        for sequence in matches[(low + skipped)...] {
            guard let entry = self.store.entry(sequence) else { continue }
            if !first { out.writeStaticString(",") }
            first = false
            self.writePacket(entry, sequence: sequence, into: &out)
        }
        out.writeStaticString("]}")
        return out
    }

    /// `{"seq":S,"rel_us":R,"pair":P,["ack_event":"e",]"line":{the recording's line}}`.
    package func writePacket(_ entry: ViewStore.Entry, sequence: Int64, into out: inout ByteBuffer) {
        out.writeString("{\"seq\":\(sequence),\"rel_us\":\(entry.wall - self.store.start),\"pair\":\(entry.pair)")
        if entry.source > 0 { out.writeString(",\"file\":\(entry.source)") }
        if entry.event >= 0, entry.socketType == SocketIOPacketType.ack.rawValue
            || entry.socketType == SocketIOPacketType.binaryAck.rawValue
        {
            out.writeStaticString(",\"ack_event\":\"")
            out.writeBytes(self.store.indexer.eventBytes(Int(entry.event)))
            out.writeStaticString("\"")
        }
        out.writeStaticString(",\"line\":")
        self.store.withLine(entry) { out.writeBytes($0) }
        out.writeStaticString("}")
    }

    /// One packet with its wire form: `{"seq":..,"line":{..},"wire":"42[\"chat\",..]"}`.
    package func packet(_ query: ViewQuery) -> ByteBuffer? {
        guard let sequence = query.sequence, let entry = self.store.entry(sequence) else { return nil }
        var out = ByteBuffer()
        out.writeStaticString("{\"packet\":")
        self.writePacket(entry, sequence: sequence, into: &out)
        out.writeStaticString(",\"wire\":")
        if let wire = self.wire(of: entry) { out.writeJSONString(wire) } else { out.writeStaticString("null") }
        out.writeStaticString("}")
        return out
    }

    /// A Socket.IO packet as it travelled: Engine.IO `4` (message) and the Socket.IO text (its
    /// attachments follow as binary frames); a msgpack-parser packet as `b` + the base64 of its
    /// binary message. `nil` for other records.
    package func wire(of entry: ViewStore.Entry) -> String? {
        guard entry.kind == .sio else { return nil }
        var line = ByteBuffer()
        self.store.withLine(entry) { line.writeBytes($0) }
        var decoder = RecordDecoder()
        guard case .record(let record)? = try? decoder.decode(line), case .socket(let socket) = record.event else {
            return nil
        }
        if socket.packet.parser == .msgpack {
            // One binary message: as Engine.IO v4 polling writes it, `b` + base64 of the msgpack.
            guard let message = try? socket.packet.encodeMsgPack() else { return nil }
            var text = ByteBuffer(staticString: "b")
            Base64.encode(message, into: &text)
            return String(buffer: text)
        }
        return "4" + String(buffer: socket.packet.encodeText(version: .v5))
    }

    // MARK: Matching

    /// The sequence numbers of the lines matching `query`, in order.
    package func matches(_ query: ViewQuery) -> [Int64] {
        let key = query.filterKey
        var matches: [Int64] = []
        var from = self.store.base
        if self.cache?.key == key {
            // Taken out of the cache first, so that appending does not copy the whole list (a
            // page following the live view asks four times a second, with up to a million lines held).
            matches = self.cache!.matches
            from = max(self.cache!.upTo, self.store.base)
            self.cache = nil
            // Forgotten lines leave the front of the list.
            if let first = matches.first, first < self.store.base {
                matches.removeFirst(matches.firstIndex { $0 >= self.store.base } ?? matches.count)
            }
        }
        let filter = query.resolvedFilter(start: self.store.start)
        var matcher = PacketMatcher(filter)
        let everything = filter.isEmpty
        let needsFields = !filter.types.isEmpty || filter.grep != nil
        // `text`: a line without the text anywhere cannot have it in a payload field; most lines
        // are ruled out by one scan of their bytes before any parse.
        let grep = Array((filter.grep ?? "").utf8)
        let entries = self.store.entries, base = self.store.base
        let end = base + Int64(entries.count)
        var sequence = from
        while sequence < end {
            let entry = entries[Int(sequence - base)]
            defer { sequence += 1 }
            if everything {
                if !filter.engine && entry.kind.isEngineLevel { continue }
            } else {
                if !grep.isEmpty, !self.store.withLine(entry, { PacketMatcher.find(grep, in: $0) }) { continue }
                if needsFields { self.store.parse(entry, into: self.fields) }
                let matched = self.store.withLine(entry) { bytes in
                    matcher.matches(entry.info, self.fields, bytes, indexer: self.store.indexer, hideEngine: true)
                }
                if !matched { continue }
            }
            matches.append(sequence)
        }
        self.cache = (key, matches, end)
        return matches
    }

    private func sidString(_ sid: Int32) -> String {
        String(decoding: self.store.indexer.sessionBytes(Int(sid)), as: UTF8.self)
    }
}
