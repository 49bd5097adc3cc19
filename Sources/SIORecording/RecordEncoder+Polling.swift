import NIOCore
import SIOWire

extension RecordEncoder {
    /// The `poll` line of a `Record.PollBody` given by its fields: what `encode` writes for a
    /// `.poll` record, byte for byte, in one write (a line of separate keys and values cost ~4,000
    /// instructions, and every long-polling body has one). The capture's fast path calls it
    /// without building a `Record`.
    public func encodePoll(
        time: Int64, sid: String, connection: UInt64, direction: Direction, encoding: EngineIOPayloadEncoding,
        bytes: Int, packetCount: Int, into buffer: inout ByteBuffer
    ) {
        // 130 bytes of constant text and numbers at most, with room to spare.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 160 + RawLineWriter.bound(jsonString: sid)) { out in
            var line = RawLineWriter(out)
            // The keys of `RecordLine.Field` in runs of constant text, one copy per run.
            line.ascii("{\"t\":")
            line.decimal(time)
            line.ascii(",\"k\":\"poll\",\"sid\":")
            line.jsonString(sid)
            line.ascii(",\"conn\":")
            line.decimal(unsigned: connection)
            switch direction {
            case .clientToServer: line.ascii(",\"dir\":\"c2s\",\"enc\":")
            case .serverToClient: line.ascii(",\"dir\":\"s2c\",\"enc\":")
            }
            switch encoding {
            case .v4Text: line.ascii("\"v4\",\"bytes\":")
            case .v3Text: line.ascii("\"v3-text\",\"bytes\":")
            case .v3Binary: line.ascii("\"v3-binary\",\"bytes\":")
            }
            line.decimal(Int64(bytes))
            line.ascii(",\"n\":")
            line.decimal(Int64(packetCount))
            line.ascii("}\n")
            return line.count
        }
    }

    /// The `http` line of an exchange: what `encode` writes for an `.http` record, byte for byte.
    /// Everything but an error body and headers (an exchange that is not Engine.IO's) goes in one
    /// write: the line of every long-polling request.
    public func encodeHTTP(time: Int64, _ exchange: Record.HTTPExchange, into buffer: inout ByteBuffer) {
        // 150 bytes of constant text and numbers at most, with room to spare.
        var bound =
            200 + RawLineWriter.bound(jsonString: exchange.method) + RawLineWriter.bound(jsonString: exchange.path)
        if let sid = exchange.sid { bound += RawLineWriter.bound(jsonString: sid) }
        let isWhole = exchange.errorBody == nil && exchange.requestHeaders == nil && exchange.responseHeaders == nil
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            var line = RawLineWriter(out)
            line.ascii("{\"t\":")
            line.decimal(time)
            if let sid = exchange.sid {
                line.ascii(",\"k\":\"http\",\"sid\":")
                line.jsonString(sid)
                line.ascii(",\"conn\":")
            } else {
                line.ascii(",\"k\":\"http\",\"conn\":")
            }
            line.decimal(unsigned: exchange.connection)
            line.ascii(",\"method\":")
            line.jsonString(exchange.method)
            line.ascii(",\"path\":")
            line.jsonString(exchange.path)
            if let status = exchange.status {
                line.ascii(",\"status\":")
                line.decimal(Int64(status))
            }
            line.ascii(",\"req_bytes\":")
            line.decimal(Int64(exchange.requestBytes))
            line.ascii(",\"resp_bytes\":")
            line.decimal(Int64(exchange.responseBytes))
            line.ascii(",\"dur_us\":")
            line.decimal(exchange.durationMicros)
            if isWhole { line.ascii("}\n") }
            return line.count
        }
        guard !isWhole else { return }
        if let body = exchange.errorBody {
            buffer.writeJSONKey(.errorBody)
            buffer.writeJSONString(body)
        }
        if let headers = exchange.requestHeaders {
            buffer.writeJSONKey(.reqHeaders)
            self.pairs(headers, into: &buffer)
        }
        if let headers = exchange.responseHeaders {
            buffer.writeJSONKey(.respHeaders)
            self.pairs(headers, into: &buffer)
        }
        buffer.writeStaticString("}\n")
    }
}
