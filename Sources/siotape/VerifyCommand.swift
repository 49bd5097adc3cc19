import ArgumentParser
import SIOInspect
import SIORecording

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a recording's integrity: every gzip member, checksum and line.",
        discussion: """
            Reads the whole recording, decoding every line. After damage it continues at the next gzip \
            member, so every damaged place is listed with its byte offset, and says how many records and \
            packets are readable. A recording cut off by kill -9 (or still being written) is reported as \
            truncated: it ends without the end trailer, or inside a gzip member.

            Exit status: 0 intact; 1 damaged, truncated, empty or not a recording; 2 the file cannot be \
            opened or is of a newer format version than this siotape reads.

            Examples:
              siotape verify recordings/chat-acks.siotape.gz
              siotape verify crashed.siotape.gz || echo "damaged"
            """
    )

    @Argument(help: "The recording to check.")
    var recording: String

    func run() throws {
        let report = Verifier.verify(path: self.recording)
        if report.isIntact {
            print(report.description)
            return
        }
        print(report.description)
        if let error = report.error, error.code == .cannotOpen || error.code == .newerVersion {
            throw ExitCode(2)
        }
        throw ExitCode(1)
    }
}
