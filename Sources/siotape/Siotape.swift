import ArgumentParser

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
        subcommands: [RecordCommand.self, ReplayCommand.self]
    )
}
