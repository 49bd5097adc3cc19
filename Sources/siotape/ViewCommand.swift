import ArgumentParser
import Logging
import SIOView
import ServiceLifecycle

struct ViewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Look at recordings in a browser: sessions, sequence diagrams, filters, plots.",
        discussion: """
            Reads the recordings (merged by time, as inspect merges them) and serves a page on --listen, \
            127.0.0.1 by default; the URL is printed on stderr when it is ready. Filtering and paging happen \
            in siotape: the page only receives the rows it shows. Requests whose Host is not the listening \
            address are refused (DNS rebinding); a non-loopback --listen needs the token printed in the URL. \
            The page shows what the recording holds, redacted unless it was recorded with --keep-credentials. \
            Stop with Ctrl-C. See docs/view.md.

            Examples:
              siotape view recordings/chat-acks.siotape.gz
              siotape view a.siotape.gz b.siotape.gz --listen 127.0.0.1:9000
            """
    )

    @Argument(help: "Recordings to show (merged by time).")
    var recordings: [String]

    @Option(help: "Where to serve the page, HOST:PORT (port 0 picks a free one).")
    var listen: String = "127.0.0.1:8090"

    func validate() throws {
        guard !self.recordings.isEmpty else { throw ValidationError("give at least one recording") }
        _ = try RecordCommand.parseListen(self.listen)
    }

    func run() async throws {
        let logger = RecordCommand.makeLogger()
        let (host, port) = try RecordCommand.parseListen(self.listen)
        let model: ViewModel
        do {
            model = try ViewModel(paths: self.recordings)
        } catch {
            RecordCommand.fail("\(error)")
        }
        let server: ViewServer
        do {
            server = try await ViewServer(model: model, configuration: .init(host: host, port: port))
        } catch {
            RecordCommand.fail("cannot listen on \(self.listen): \(error)")
        }
        let counts = model.counts
        RecordCommand.printErr(
            "siotape: view of \(counts.sessions) session(s), \(counts.lines) record(s) at \(server.url)")
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: ViewService(server: server))], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await services.run()
    }
}

/// Serves until a shutdown signal, then closes the server.
struct ViewService: Service {
    let server: ViewServer

    func run() async throws {
        // Returns at SIGINT/SIGTERM (or throws when cancelled); either way the server closes.
        try? await gracefulShutdown()
        await self.server.close()
    }
}
