import NIOCore

/// The Socket.IO events the load generator sends: `42<ack id><JSON array>`.
///
/// `fixed` is the issue's workload (an `echo` event whose argument is a 100-byte string); `chat` is a
/// realistic one for the recorded-bytes figure: varied JSON chat messages (rooms, users, texts of
/// different lengths, numbers), deterministic from run to run.
enum PayloadKind: String, Sendable, CaseIterable {
    case fixed
    case chat
}

struct Payloads: Sendable {
    /// The JSON arrays, one picked per event in turn.
    let arrays: [[UInt8]]

    init(kind: PayloadKind) {
        switch kind {
        case .fixed:
            self.arrays = [Array("[\"echo\",\"\(String(repeating: "x", count: 100))\"]".utf8)]
        case .chat:
            var random = SplitMix64(seed: 0x5107_a9e5)
            self.arrays = (0..<512).map { index in Array(Self.chatMessage(index: index, random: &random).utf8) }
        }
    }

    /// Appends the text of event `id` of a connection (Engine.IO `4` + Socket.IO `2<id>` + JSON) to
    /// `buffer`. Each connection starts at its own place in the list (`offset`): if all started at
    /// the first message, connections in step would send the same text at the same moment, and the
    /// recording would compress better than real traffic does.
    func writeEvent(id: UInt64, offset: UInt64, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("42")
        buffer.writeString(String(id))
        buffer.writeBytes(self.arrays[Int((id &+ offset) % UInt64(self.arrays.count))])
    }

    private static let words = [
        "the", "build", "is", "green", "again", "can", "you", "review", "my", "pull", "request", "lunch", "at",
        "noon", "deploy", "failed", "on", "staging", "rollback", "done", "meeting", "moved", "to", "tomorrow",
        "thanks", "👍", "great", "work", "everyone", "ticket", "closed", "who", "owns", "this", "service", "café",
        "latency", "spiked", "after", "release", "looks", "fine", "now", "ping", "me", "when", "ready", "ok",
    ]
    private static let users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
    private static let rooms = ["general", "random", "ops", "release-2026", "support", "design"]

    private static func chatMessage(index: Int, random: inout SplitMix64) -> String {
        let wordCount = 3 + Int(random.next() % 18)
        var text = ""
        for position in 0..<wordCount {
            if position > 0 { text += " " }
            text += self.words[Int(random.next() % UInt64(self.words.count))]
        }
        if random.next() % 5 == 0 { text += " \\\"quoted\\\"" }
        let user = self.users[Int(random.next() % UInt64(self.users.count))]
        let room = self.rooms[Int(random.next() % UInt64(self.rooms.count))]
        let timestamp = 1_795_000_000_000 + index * 1_733 + Int(random.next() % 997)
        var message = "[\"chat\",{\"room\":\"\(room)\",\"user\":\"\(user)\",\"text\":\"\(text)\",\"ts\":\(timestamp)"
        if random.next() % 3 == 0 {
            message += ",\"mentions\":[\"\(self.users[Int(random.next() % UInt64(self.users.count))])\"]"
        }
        if random.next() % 4 == 0 { message += ",\"edited\":true" }
        message += ",\"seq\":\(index)}]"
        return message
    }
}

/// A small deterministic generator (the payloads must be the same in every run).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
