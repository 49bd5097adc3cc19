import ArgumentParser

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a recording back: as a mock server, or against a live server.",
        subcommands: [ReplayServeCommand.self, ReplayRunCommand.self]
    )
}
