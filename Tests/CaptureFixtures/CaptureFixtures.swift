import Foundation

/// The byte-exact captures of real peers (`Fixtures/<scenario>/conn-NNN.jsonl`: every TCP
/// connection of one scenario, chunk by chunk, as `tools/captures` wrote them), shared by the test
/// targets that decode them (SIOWireTests) and feed them through the capture (SIOCaptureTests), so
/// that both read the same bytes and the files live once. `Fixtures/browser-har/` holds HARs as
/// browsers wrote them, for `import har` (SIOCaptureTests, and EndToEndTests by path).
public enum CaptureFixtures {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// The folder holding one folder per scenario.
    public static func directory() throws -> URL {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw Missing(description: "Fixtures folder missing from the CaptureFixtures bundle")
        }
        return url
    }

    /// The folder of one scenario, e.g. `node5-websocket`.
    public static func scenario(_ name: String) throws -> URL {
        let url = try directory().appendingPathComponent(name, isDirectory: true)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw Missing(description: "no fixture scenario \(name)")
        }
        return url
    }
}
