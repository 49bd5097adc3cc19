import ArgumentParser
import SIORecording

@main
struct Siotape: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "siotape",
        abstract: "Record, inspect and replay Socket.IO sessions.",
        discussion: """
            Put `siotape record` in front of a Socket.IO server: clients connect to it as if it were the \
            server, every byte passes through untouched, and every Engine.IO / Socket.IO packet is decoded, \
            shown live and written to a gzip recording of JSON lines.

            Example:
              siotape record --upstream http://127.0.0.1:5000 --listen 127.0.0.1:8080
            """,
        version: Siotape.version,
        subcommands: [RecordCommand.self, InspectCommand.self, ViewCommand.self, VerifyCommand.self, ReplayCommand.self]
    )

    /// ArgumentParser's own `main`, except that usage errors exit 2 (siotape's convention: 0 ok,
    /// 1 differences or damage, 2 usage or environment error) instead of 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                RecordCommand.printErr(fullMessage(for: error))
                Platform.exit(2)
            }
            exit(withError: error)
        }
    }
}
