import NIOCore

/// Replaces the values of MessagePack data with a mask string, keeping map keys and the shape of
/// containers, so a recording shows *what* a client sent (`{"token": "[redacted]"}`) but not the
/// credential. Containers keep their counts, so the masked bytes can be put back in place of the
/// original inside a larger message.
public enum MsgPackMasker {
    /// Masks one complete value: every scalar (string, number, bin, ext, bool) that is not a map
    /// key becomes the string `mask`. nil stays nil: it hides nothing, and a packet whose `data`
    /// must be nil (a DISCONNECT) stays valid.
    public static func mask(_ value: ByteBuffer, with mask: String, limits: MsgPackLimits = MsgPackLimits()) throws(WireError) -> ByteBuffer {
        var out = ByteBuffer()
        try value.withUnsafeReadableBytes { bytes throws(WireError) in
            var cursor = MsgPackCursor(bytes, limits: limits)
            try self.copy(&cursor, depth: 0, mask: mask, into: &out)
        }
        return out
    }

    /// For bytes that did not decode (kept in a `raw` record): the values before the damage are
    /// masked as by `mask`, the bytes from the damage on are left out (they cannot be told apart
    /// from a credential). Returns the masked bytes and how many bytes of the input were left out.
    public static func maskUndecodable(_ message: ByteBuffer, with mask: String) -> (ByteBuffer, droppedBytes: Int) {
        var out = ByteBuffer()
        var consumed = 0
        message.withUnsafeReadableBytes { bytes in
            var cursor = MsgPackCursor(bytes)
            do throws(WireError) {
                while !cursor.atEnd { try self.copy(&cursor, depth: 0, mask: mask, into: &out) }
                consumed = bytes.count
            } catch {
                consumed = error.offset
            }
        }
        return (out, message.readableBytes - consumed)
    }

    private static func copy(_ cursor: inout MsgPackCursor, depth: Int, mask: String, into out: inout ByteBuffer) throws(WireError) {
        let start = cursor.index
        switch try cursor.readHead() {
        case .array(let count):
            try cursor.checkDepth(depth + 1)
            out.writeBytes(UnsafeRawBufferPointer(rebasing: cursor.bytes[start..<cursor.index]))
            for _ in 0..<count { try self.copy(&cursor, depth: depth + 1, mask: mask, into: &out) }
        case .map(let count):
            try cursor.checkDepth(depth + 1)
            out.writeBytes(UnsafeRawBufferPointer(rebasing: cursor.bytes[start..<cursor.index]))
            for _ in 0..<count {
                let keyStart = cursor.index
                try cursor.skipValue(depth: depth + 1)
                out.writeBytes(UnsafeRawBufferPointer(rebasing: cursor.bytes[keyStart..<cursor.index]))
                try self.copy(&cursor, depth: depth + 1, mask: mask, into: &out)
            }
        case .null:
            MsgPackWriter.writeNil(into: &out)
        default:
            MsgPackWriter.writeString(mask, into: &out)
        }
    }
}
