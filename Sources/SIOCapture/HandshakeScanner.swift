import NIOCore

/// Finds the sid in an Engine.IO handshake object without parsing it into a dictionary: the
/// handshake is produced by servers in a fixed shape, and `"sid":"<ascii>"` is all we need.
enum HandshakeScanner {
    /// The value of the first `"sid"` key of the JSON object, or `nil` when there is none.
    static func sid(in json: ByteBuffer) -> String? {
        let bytes = json.readableBytesView
        let key = Array("\"sid\"".utf8)
        var index = bytes.startIndex
        while index + key.count <= bytes.endIndex {
            if bytes[index] == key[0], bytes[index..<(index + key.count)].elementsEqual(key) {
                var cursor = index + key.count
                cursor = Self.skipSpaces(bytes, cursor)
                guard cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: ":") else { return nil }
                cursor = Self.skipSpaces(bytes, cursor + 1)
                guard cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: "\"") else { return nil }
                let start = cursor + 1
                var end = start
                while end < bytes.endIndex, bytes[end] != UInt8(ascii: "\"") {
                    // Sids are URL-safe; an escape means this is not a sid we can use as-is.
                    if bytes[end] == UInt8(ascii: "\\") { return nil }
                    end += 1
                }
                guard end < bytes.endIndex, end > start else { return nil }
                return String(decoding: bytes[start..<end], as: UTF8.self)
            }
            index += 1
        }
        return nil
    }

    private static func skipSpaces(_ bytes: ByteBufferView, _ index: Int) -> Int {
        var index = index
        while index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
            index += 1
        }
        return index
    }
}
