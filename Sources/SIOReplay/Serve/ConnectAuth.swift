import Foundation
import NIOCore

/// CONNECT payloads: comparing a live client's `auth` with a recorded one (`--match auth`). Only at
/// connect time, never on the packet path.
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

    private static func object(_ json: ByteBuffer) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(json.readableBytesView))) as? [String: Any]
    }
}
