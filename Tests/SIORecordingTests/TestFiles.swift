import Foundation
import NIOCore
import SIORecording

/// A fresh directory for one test, removed at the end.
struct TemporaryDirectory: ~Copyable {
    let path: String

    init() {
        self.path = NSTemporaryDirectory() + "siotape-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { self.path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: self.path) }
}

/// Runs a command and returns its exit status and standard output.
func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> (status: Int32, output: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    if let stdin {
        let input = Pipe()
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
    } else {
        try process.run()
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, data)
}

/// Writes `records` to a new recording at `path` and closes it, flushing after every `perMember`
/// records so the file has many gzip members.
func writeRecording(_ path: String, _ records: [Record], perMember: Int = 3) throws {
    let writer = try RecordingWriter(
        path: path,
        header: sampleHeader,
        configuration: .init(backgroundFlushing: false)
    )
    for (i, record) in records.enumerated() {
        writer.append(record)
        if (i + 1) % perMember == 0 { writer.flush() }
    }
    try writer.close()
}

func readAll(_ path: String) throws -> (RecordingReader, [Record]) {
    let reader = try RecordingReader(path: path)
    var records: [Record] = []
    while let record = try reader.next() { records.append(record) }
    return (reader, records)
}
