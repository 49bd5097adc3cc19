/// Where and how a recording is damaged. Everything before `offset` was read.
public struct RecordingDamage: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The file ends early: inside a gzip member, or without the `end` trailer (the recorder
        /// was killed or is still writing).
        case truncated
        /// The bytes are wrong: bad gzip data, or a line that is not valid recording JSON.
        case corrupt
    }

    public var kind: Kind
    /// Byte offset in the file where the damage starts: the start of the gzip member that could
    /// not be read completely, or the position of the bad bytes.
    public var offset: Int
    /// Records read (and returned or skipped) before the damage.
    public var recordsRead: Int
    /// What is wrong, for people.
    public var reason: String

    public init(kind: Kind, offset: Int, recordsRead: Int, reason: String) {
        self.kind = kind
        self.offset = offset
        self.recordsRead = recordsRead
        self.reason = reason
    }

    public var description: String {
        let what = self.kind == .truncated ? "truncated" : "corrupt"
        return "\(what) at byte \(self.offset) after \(self.recordsRead) records: \(self.reason)"
    }
}
