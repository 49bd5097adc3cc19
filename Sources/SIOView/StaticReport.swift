import NIOCore

/// `inspect --format html`: one HTML file holding the page, its script and stylesheet, and the
/// recording's rows as the API would serve them. It opens from `file://` with no server (CI
/// artifacts, bug reports); filters run in the page over the embedded rows.
public enum StaticReport {
    /// Rows embedded at most: a report is for reading, not for a whole day of traffic.
    public static let maxPackets = 200_000

    /// The report of `model` (loaded from recordings, filtered as `inspect` was asked).
    public static func render(_ model: ViewModel) -> ByteBuffer {
        model.withAPI { api, meta in
            var data = ByteBuffer()
            var reportMeta = meta
            reportMeta.mode = "report"
            data.writeStaticString("{\"meta\":")
            var metaJSON = api.meta(reportMeta)
            data.writeBuffer(&metaJSON)
            data.writeStaticString(",\"stats\":")
            var stats = api.stats()
            // The summary ends with a newline (it is a JSON line).
            if stats.readableBytes > 0 { stats.moveWriterIndex(to: stats.writerIndex - 1) }
            data.writeBuffer(&stats)
            data.writeStaticString(",\"plots\":")
            var plots = api.plots(ViewQuery())
            data.writeBuffer(&plots)
            data.writeStaticString(",\"sessions\":[")
            for (i, row) in api.store.sessions.rows.enumerated() {
                if i > 0 { data.writeStaticString(",") }
                api.writeSession(row, into: &data)
            }
            data.writeStaticString("],\"packets\":[")
            var everything = ViewQuery()
            everything.filter.engine = true
            let store = api.store
            let all = api.matches(everything)
            let sequences = all.prefix(Self.maxPackets)
            var wires: [(Int64, String)] = []
            for (i, sequence) in sequences.enumerated() {
                guard let entry = store.entry(sequence) else { continue }
                if i > 0 { data.writeStaticString(",") }
                api.writePacket(entry, sequence: sequence, into: &data)
                if let wire = api.wire(of: entry) { wires.append((sequence, wire)) }
            }
            // How many there were: past the cap the page says how many it holds.
            data.writeString("],\"matched\":\(all.count),\"wire\":{")
            for (i, (sequence, wire)) in wires.enumerated() {
                data.writeString(i > 0 ? ",\"\(sequence)\":" : "\"\(sequence)\":")
                data.writeJSONString(wire)
            }
            data.writeStaticString("}}")
            var out = ByteBuffer()
            let page = ViewAsset.page(
                head: "<style>\n\(ViewStyle.css)\n</style>",
                tail: "<script id=\"siotape-data\" type=\"application/json\">\(Self.scriptSafe(data))</script>\n"
                    + "<script>\nwindow.SIOTAPE_REPORT = JSON.parse(document.getElementById(\"siotape-data\").textContent);\n"
                    + "\(ViewScript.all)\n</script>")
            out.writeString(page)
            return out
        }
    }

    /// JSON inside `<script>`: every `<` written as `\u003c` (only inside strings can it occur), so
    /// nothing in a payload can close the element.
    static func scriptSafe(_ json: ByteBuffer) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(json.readableBytes + 64)
        json.withUnsafeReadableBytes { raw in
            for b in raw {
                if b == UInt8(ascii: "<") {
                    bytes.append(contentsOf: Array("\\u003c".utf8))
                } else {
                    bytes.append(b)
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
