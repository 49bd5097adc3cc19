import ArgumentParser
import SIORecording

@main
struct Siotape: AsyncParsableCommand {
    /// The semantic version (see `BuildInfo`).
    static let version = BuildInfo.version
    /// What a recording's header names as the tool that wrote it: `siotape 0.3.0 (commit ...)`,
    /// the same as `siotape --version`, so a recording says which build made it.
    static let tool = "siotape \(BuildInfo.description)"

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
        version: BuildInfo.description,
        subcommands: [RecordCommand.self, InspectCommand.self, ViewCommand.self, VerifyCommand.self, ReplayCommand.self, ImportCommand.self]
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
