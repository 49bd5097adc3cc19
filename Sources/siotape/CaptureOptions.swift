import ArgumentParser
import SIOCapture

/// What the capture keeps and redacts: the options `record` and `import har` share, spelled once so
/// that both commands (and the completion scripts and man page generated from them) stay alike.
struct CaptureOptions: ParsableArguments {
    @Flag(help: "Keep credentials in the recording (and, for record, the live view) instead of redacting them.")
    var keepCredentials = false

    @Option(
        name: .customLong("redact"),
        help: ArgumentHelp(
            "Also redact JSON members and form fields of HTTP bodies with this name (repeatable).",
            valueName: "NAME"))
    var redactNames: [String] = []

    @Option(
        help: ArgumentHelp(
            "Bytes kept of each HTTP body that is not Engine.IO (1048576, 64k, 16m); past it the head is kept "
                + "with the full size. 0 records no such bodies.", valueName: "BYTES"))
    var bodyLimit: String = "1m"

    @Option(
        help: """
            The Socket.IO parser: auto (per session: msgpack when its binary messages are msgpack packets), \
            default (socket.io-parser) or msgpack (socket.io-msgpack-parser).
            """)
    var parser: CaptureConfiguration.Parser = .auto

    func validate() throws {
        _ = try Self.parseBytes(self.bodyLimit)
    }

    /// The capture's configuration these options ask for.
    func configuration() throws -> CaptureConfiguration {
        var configuration = CaptureConfiguration()
        configuration.redactCredentials = !self.keepCredentials
        configuration.parser = self.parser
        configuration.bodyLimit = try Self.parseBytes(self.bodyLimit)
        configuration.redactNames = self.redactNames
        return configuration
    }

    /// `1048576`, `64k`, `16m` (binary units).
    static func parseBytes(_ text: String) throws -> Int {
        let lower = text.lowercased()
        let (digits, scale): (Substring, Int) =
            switch lower.last {
            case "k": (lower.dropLast(), 1 << 10)
            case "m": (lower.dropLast(), 1 << 20)
            case "g": (lower.dropLast(), 1 << 30)
            default: (Substring(lower), 1)
            }
        guard let value = Int(digits), value >= 0, value <= (1 << 32) / scale else {
            throw ValidationError("--body-limit must be a byte count such as 1048576, 64k or 16m, not '\(text)'")
        }
        return value * scale
    }
}

extension CaptureConfiguration.Parser: ExpressibleByArgument {}
