/// Why bytes on the wire could not be decoded, and where.
///
/// Decoders report damage instead of dropping input: the proxy still forwards the bytes and the
/// recording stores them raw together with this reason.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A short human reason, e.g. `"length prefix 12 exceeds the 7 remaining units"`.
    public var reason: String
    /// Byte offset of the damage within the decoded unit (packet, payload or frame stream).
    public var offset: Int

    public init(_ reason: String, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(self.reason) (at byte \(self.offset))" }
}
