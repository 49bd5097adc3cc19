/// What `replay serve` did, for the summary printed at the end.
package struct ServeSummary: Hashable, Sendable {
    /// Recorded sessions selected for serving.
    package var recordedSessions = 0
    /// Recorded sessions a live client was paired with.
    package var sessionsServed = 0
    /// Live client sessions that connected.
    package var liveSessions = 0
    /// Live client sessions for which no recorded session was left.
    package var liveSessionsUnpaired = 0
    package var clientPacketsMatched = 0
    package var clientPacketsUnmatched = 0
    /// Of the unmatched: client messages that were not valid Engine.IO or Socket.IO at all.
    package var clientPacketsMalformed = 0
    package var serverPacketsSent = 0
    /// Recorded server actions not carried out because their session had no live client (yet or any more).
    package var serverActionsUndelivered = 0
    /// Plain HTTP requests answered from the recording.
    package var httpAnswered = 0
    /// Plain HTTP requests the recording has no (more) exchanges for (answered 404).
    package var httpUnknown = 0

    /// How late each server packet was handed to its transport, µs after its scheduled time
    /// (the first 100,000 packets): the mock server's own timing error, network not included.
    package private(set) var latenessMicros: [Int64] = []

    package init() {}

    mutating func recordLateness(_ micros: Int64) {
        if self.latenessMicros.count < 100_000 { self.latenessMicros.append(max(0, micros)) }
    }

    /// The `fraction` quantile of `latenessMicros` (nearest rank), nil when nothing was sent.
    package func latenessQuantile(_ fraction: Double) -> Int64? {
        guard !self.latenessMicros.isEmpty else { return nil }
        let sorted = self.latenessMicros.sorted()
        let rank = min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[rank]
    }

    /// One line for stderr.
    package var description: String {
        var parts = [
            "\(self.sessionsServed)/\(self.recordedSessions) recorded session(s) served to \(self.liveSessions) client session(s)",
            "\(self.clientPacketsMatched) client packet(s) matched, \(self.clientPacketsUnmatched) unmatched"
                + (self.clientPacketsMalformed > 0 ? " (\(self.clientPacketsMalformed) malformed)" : ""),
            "\(self.serverPacketsSent) server packet(s) sent",
        ]
        if let p50 = self.latenessQuantile(0.5), let p99 = self.latenessQuantile(0.99) {
            parts.append("timing error p50 \(p50) µs, p99 \(p99) µs")
        }
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
