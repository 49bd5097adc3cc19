import Foundation
import Testing

/// What the browser tests need, exported by `tools/test` from `tools/setup-browser`: Playwright's
/// Python, Debian's chromium and the official socket.io 4.8.1 browser client. `nil` when they are
/// not set (plain `swift test`): the browser suites are then skipped. Under `CI=true`, tools/test
/// fails before the tests run if they cannot be had, so CI never skips them.
struct BrowserEnvironment: Sendable {
    /// `.venv/browser/bin/python`, with Playwright.
    let python: String
    /// `/usr/bin/chromium`, launched by Playwright with `executable_path`.
    let chromium: String
    /// `socket.io.min.js` v4.8.1, out of PyPI's nicegui wheel.
    let socketIOClient: String

    static let current = BrowserEnvironment(ProcessInfo.processInfo.environment)
    static let skipReason: Comment =
        "SIOTAPE_BROWSER_PY, SIOTAPE_CHROMIUM and SIOTAPE_SOCKETIO_JS are not set: run tools/test to run the browser tests"

    init?(_ environment: [String: String]) {
        guard let python = environment["SIOTAPE_BROWSER_PY"], let chromium = environment["SIOTAPE_CHROMIUM"],
            let socketIOClient = environment["SIOTAPE_SOCKETIO_JS"]
        else { return nil }
        self.python = python
        self.chromium = chromium
        self.socketIOClient = socketIOClient
    }
}
