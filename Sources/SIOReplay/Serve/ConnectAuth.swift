import Foundation
import NIOCore

/// CONNECT payloads: comparing a live client's `auth` with a recorded one, and putting a fresh
/// socket id into a recorded server reply. Only at connect time, never on the packet path.
enum ConnectAuth {
    /// Same keys; same values too unless the recording redacted them.
    static func compatible(recorded: ByteBuffer?, redacted: Bool, live: ByteBuffer?) -> Bool {
        guard let recorded, let live else { return recorded == nil && live == nil }
        guard let recordedObject = Self.object(recorded), let liveObject = Self.object(live) else {
            return recorded == live
        }
        guard Set(recordedObject.keys) == Set(liveObject.keys) else { return false }
        if redacted { return true }
        return recordedObject.allSatisfy { key, value in
            (value as? NSObject)?.isEqual(liveObject[key]) ?? false
        }
    }

    /// The recorded reply (`{"sid":"<old>",...}`) with the `sid` value replaced, keeping the rest
    /// verbatim; nil when it has no string `sid`.
    static func replacingSid(in json: ByteBuffer, with fresh: String) -> ByteBuffer? {
        let text = String(buffer: json)
        guard let key = text.range(of: "\"sid\"") else { return nil }
        var index = key.upperBound
        while index < text.endIndex, text[index] == " " || text[index] == ":" { index = text.index(after: index) }
        guard index < text.endIndex, text[index] == "\"" else { return nil }
        let valueStart = text.index(after: index)
        guard let valueEnd = text[valueStart...].firstIndex(of: "\"") else { return nil }
        return ByteBuffer(string: text[..<valueStart] + fresh + text[valueEnd...])
    }

    private static func object(_ json: ByteBuffer) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(json.readableBytesView))) as? [String: Any]
    }
}
