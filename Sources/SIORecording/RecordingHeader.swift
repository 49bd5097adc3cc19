/// The first line of every recording: what it is, which format version, and when it started.
public struct RecordingHeader: Hashable, Sendable {
    /// The value of the `format` field; a file whose first line lacks it is not a recording.
    public static let formatName = "siotape"
    /// The newest format version this build reads and the one it writes.
    public static let currentVersion = 1

    public var version: Int
    /// Wall-clock time of the start (time 0 of every record), microseconds since the Unix epoch.
    public var startedAtMicros: Int64
    /// The tool that wrote it, e.g. `siotape 0.3.0 (commit 1f0c…)` (`siotape --version`).
    public var tool: String
    /// The upstream URL the proxy forwarded to.
    public var upstream: String?
    /// The address the proxy listened on.
    public var listen: String?
    /// Whether credentials were redacted.
    public var redacted: Bool

    public init(
        version: Int = RecordingHeader.currentVersion, startedAtMicros: Int64, tool: String,
        upstream: String? = nil, listen: String? = nil, redacted: Bool = true
    ) {
        self.version = version
        self.startedAtMicros = startedAtMicros
        self.tool = tool
        self.upstream = upstream
        self.listen = listen
        self.redacted = redacted
    }
}
