import ArgumentParser
import Foundation
import SIOCapture
import SIORecording

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn another tool's capture into a siotape recording.",
        subcommands: [ImportHARCommand.self]
    )
}

struct ImportHARCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "har",
        abstract: "Turn a HAR (Chrome, Firefox, Playwright) into a siotape recording.",
        discussion: """
            Every entry goes through the same capture as `siotape record`: plain HTTP exchanges are \
            kept with their bodies, Engine.IO long-polling bodies become sessions and packets, Chrome's \
            and Playwright's `_webSocketMessages` become WebSocket frames, acks are paired and \
            credentials redacted (unless --keep-credentials), at the HAR's timestamps. inspect, verify, \
            view and both replay commands read the result. See docs/inspect.md.

            The HAR is read whole (it is one JSON document). A file that is not JSON, not a HAR, lacks \
            a field the import needs or holds bad base64 is refused with what is wrong and where \
            (exit status 2); nothing is written then.

            Examples:
              siotape import har session.har                      (writes session.siotape.gz)
              siotape import har session.har --out recordings/bug-1234.siotape.gz
            """
    )

    @Argument(help: "The HAR file.")
    var file: String

    @Option(help: "The recording to write (default: FILE with .har replaced by .siotape.gz); never overwritten.")
    var out: String?

    @OptionGroup var capture: CaptureOptions

    func run() throws {
        let data: Data
        do {
            // Mapped, not read: the file's pages are the kernel's to drop while the entries are made.
            data = try Data(contentsOf: URL(fileURLWithPath: self.file), options: .alwaysMapped)
        } catch {
            RecordCommand.fail("cannot read \(self.file): \(error.localizedDescription)")
        }
        let importer: HARImporter
        do {
            importer = try HARImporter(try HARArchive.decode(data))
        } catch {
            RecordCommand.fail("\(self.file): \(error)")
        }
        let path = self.out ?? Self.defaultOut(self.file)
        let header = RecordingHeader(
            startedAtMicros: importer.startedAtMicros, tool: "\(Siotape.tool) import har",
            upstream: importer.upstream, redacted: !self.capture.keepCredentials)
        let writer: RecordingWriter
        do {
            var configuration = RecordingWriter.Configuration()
            configuration.backgroundFlushing = false
            writer = try RecordingWriter(path: path, header: header, configuration: configuration)
        } catch {
            RecordCommand.fail("cannot create the recording \(path): \(error)")
        }
        let capture = try self.capture.configuration()
        let statistics = importer.run(configuration: capture, sink: ImportSink(writer: writer))
        do {
            try writer.close()
        } catch {
            RecordCommand.fail("the recording \(path) is incomplete: \(error)")
        }
        RecordCommand.printErr(
            "siotape: imported \(importer.entryCount) HAR entr\(importer.entryCount == 1 ? "y" : "ies")"
                + (importer.cachedCount > 0 ? " (\(importer.cachedCount) answered from the browser's cache left out)" : "")
                + ": "
                + "\(statistics.sessionsOpened) session(s), \(statistics.socketIOPackets) Socket.IO and "
                + "\(statistics.engineIOPackets) Engine.IO packet(s), \(statistics.acksPaired) ack(s) paired; "
                + "recording \(path) (\(writer.statistics.records) records)")
    }

    /// `dir/session.har` → `dir/session.siotape.gz`.
    static func defaultOut(_ file: String) -> String {
        let base = file.lowercased().hasSuffix(".har") ? String(file.dropLast(4)) : file
        return base + RecordingPath.fileExtension
    }
}

/// The import's records go to the recording only, written on this thread as they come (a member
/// per 256 KiB), so a large HAR never meets the writer's cap on pending records.
private struct ImportSink: RecordSink {
    let writer: RecordingWriter

    func receive(_ record: Record) {
        self.writer.append(record)
        self.writer.flushIfDue()
    }

    func receive(contentsOf records: [Record]) {
        self.writer.append(contentsOf: records)
        self.writer.flushIfDue()
    }
}
