/// What `replay serve` did, for the summary printed at the end.
public struct ServeSummary: Hashable, Sendable {
    /// Recorded sessions selected for serving.
    public var recordedSessions = 0
    /// Recorded sessions a live client was paired with.
    public var sessionsServed = 0
    /// Live client sessions that connected.
    public var liveSessions = 0
    /// Live client sessions for which no recorded session was left.
    public var liveSessionsUnpaired = 0
    public var clientPacketsMatched = 0
    public var clientPacketsUnmatched = 0
    public var serverPacketsSent = 0
    /// Recorded server actions not carried out because their session had no live client (yet or any more).
    public var serverActionsUndelivered = 0
    /// Plain HTTP requests answered from the recording.
    public var httpAnswered = 0
    /// Plain HTTP requests the recording has no (more) exchanges for (answered 404).
    public var httpUnknown = 0

    public init() {}

    /// One line for stderr.
    public var description: String {
        var parts = [
            "\(self.sessionsServed)/\(self.recordedSessions) recorded session(s) served to \(self.liveSessions) client session(s)",
            "\(self.clientPacketsMatched) client packet(s) matched, \(self.clientPacketsUnmatched) unmatched",
            "\(self.serverPacketsSent) server packet(s) sent",
        ]
        if self.serverActionsUndelivered > 0 {
            parts.append("\(self.serverActionsUndelivered) server action(s) not delivered (no live client for their session)")
        }
        if self.liveSessionsUnpaired > 0 {
            parts.append("\(self.liveSessionsUnpaired) client session(s) without a recorded counterpart")
        }
        if self.httpAnswered + self.httpUnknown > 0 {
            parts.append("\(self.httpAnswered) HTTP request(s) answered, \(self.httpUnknown) not in the recording (404)")
        }
        return parts.joined(separator: "; ")
    }
}
