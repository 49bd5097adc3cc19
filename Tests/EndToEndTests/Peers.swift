import Foundation
import Testing

/// Paths exported by `tools/test`. `nil` when the end-to-end environment is not set up (plain
/// `swift test`): the end-to-end suites are then skipped.
struct PeerEnvironment: Sendable {
    /// `.venv/sio5/bin/python`: python-socketio 5, Flask-SocketIO, aiohttp.
    let python5: String
    /// `.venv/sio4/bin/python`: python-socketio 4.6 / python-engineio 3.
    let python4: String
    /// `tools/peers`.
    let peers: String
    /// The `siotape` executable, if built (`SIOTAPE_BIN`).
    let siotape: String?
    /// `.venv/har/bin/python` (`SIOTAPE_PYHAR`): haralyzer, for `tools/peers/har_check.py`.
    let pythonHAR: String?

    static let current = PeerEnvironment(ProcessInfo.processInfo.environment)
    static let skipReason: Comment =
        "SIOTAPE_PY5, SIOTAPE_PY4 and SIOTAPE_PEERS are not set: run tools/test to run the end-to-end tests"

    init?(_ environment: [String: String]) {
        guard let python5 = environment["SIOTAPE_PY5"], let python4 = environment["SIOTAPE_PY4"],
            let peers = environment["SIOTAPE_PEERS"]
        else { return nil }
        self.python5 = python5
        self.python4 = python4
        self.peers = peers
        self.siotape = environment["SIOTAPE_BIN"]
        self.pythonHAR = environment["SIOTAPE_PYHAR"]
    }

    func script(_ name: String) -> String { peers + "/" + name }
}

/// The real Socket.IO servers of `tools/peers`, each with the client library that speaks its
/// protocol version.
enum ServerKind: String, CaseIterable, Sendable {
    /// python-socketio 5 AsyncServer on aiohttp (EIO 4 / SIO 5).
    case sio5
    /// Flask-SocketIO 5, threading mode (EIO 4 / SIO 5).
    case flask
    /// python-socketio 4.6 AsyncServer on aiohttp (EIO 3 / SIO 4).
    case sio4

    var script: String { "server_\(rawValue).py" }
    var isEngineIO3: Bool { self == .sio4 }

    /// The interpreter of the server and of the matching `client.py`.
    func python(_ environment: PeerEnvironment) -> String {
        isEngineIO3 ? environment.python4 : environment.python5
    }
}

/// `client.py --transport`.
enum ClientTransport: String, CaseIterable, Sendable {
    case polling
    case websocket
    /// Polling, then the upgrade to WebSocket.
    case `default`
}

/// A long-running peer (server or proxy) listening on 127.0.0.1.
struct RunningPeer: Sendable {
    let process: Subprocess
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    func terminate() { process.terminate() }
}

enum Peers {
    static let readyTimeout: Duration = .seconds(30)
    static let clientTimeout: Duration = .seconds(60)

    /// Starts `tools/peers/server_<kind>.py` on a free port and waits for its `READY <port>` line.
    static func startServer(
        _ kind: ServerKind,
        in environment: PeerEnvironment,
        pingInterval: Double? = nil,
        extraArguments: [String] = []
    ) async throws -> RunningPeer {
        var arguments = [environment.script(kind.script)]
        if let pingInterval { arguments += ["--ping-interval", String(pingInterval)] }
        arguments += extraArguments
        let process = try Subprocess(
            name: kind.script, executable: kind.python(environment), arguments: arguments)
        let line = try await process.firstLine(timeout: readyTimeout)
        let words = line.split(separator: " ")
        guard words.count == 2, words[0] == "READY", let port = Int(words[1]) else {
            process.terminate()
            throw PeerError("\(kind.script): expected `READY <port>`, got \(line.debugDescription)")
        }
        return RunningPeer(process: process, port: port)
    }

    /// Runs the scenario of `tools/peers/client.py` against `url` and returns its JSON report.
    static func runClient(
        for kind: ServerKind,
        url: String,
        transport: ClientTransport,
        in environment: PeerEnvironment,
        extraArguments: [String] = []
    ) async throws -> String {
        let process = try Subprocess(
            name: "client.py (\(kind.rawValue), \(transport.rawValue))",
            executable: kind.python(environment),
            arguments: [
                environment.script("client.py"), "--url", url, "--transport", transport.rawValue,
                "--server", kind.rawValue,
            ] + extraArguments)
        return try await process.output(timeout: clientTimeout)
    }

    /// Runs `tools/peers/ws_deflate_client.py` (raw EIO 4 over a permessage-deflate WebSocket)
    /// against a `server_sio5.py` at `url` and returns its JSON report.
    static func runDeflateClient(url: String, in environment: PeerEnvironment) async throws -> String {
        let process = try Subprocess(
            name: "ws_deflate_client.py", executable: environment.python5,
            arguments: [environment.script("ws_deflate_client.py"), "--url", url])
        return try await process.output(timeout: clientTimeout)
    }

    /// One plain HTTP GET with `tools/peers/http_get.py` (urllib): the status (`nil` when no
    /// response came: refused, closed, reset) and the body or the client's error.
    static func httpGet(_ url: String, in environment: PeerEnvironment) async throws -> HTTPGetResult {
        let process = try Subprocess(
            name: "http_get.py", executable: environment.python5,
            arguments: [environment.script("http_get.py"), "--url", url])
        let report = try JSONValue(parsing: try await process.output(timeout: clientTimeout))
        var status: Int?
        if case .number(let number) = report["status"] { status = Int(number) }
        var body = ""
        if case .string(let text) = report["body"] ?? report["error"] { body = text }
        return HTTPGetResult(status: status, body: body)
    }
}

struct HTTPGetResult: Sendable {
    let status: Int?
    let body: String
}

enum Proxy {
    /// Starts `siotape record` in front of `upstream` on a free port and waits until it listens.
    ///
    /// The one place that knows the proxy's command line and its readiness line
    /// (`siotape: listening on 127.0.0.1:PORT → ...` on stderr).
    static func start(
        upstream: RunningPeer,
        recording: URL,
        in environment: PeerEnvironment,
        extraArguments: [String] = [],
        launcher: [String] = []
    ) async throws -> RunningPeer {
        try await start(
            upstreamURL: upstream.url, recording: recording, in: environment, extraArguments: extraArguments,
            launcher: launcher)
    }

    /// - Parameter launcher: a command that runs the proxy's command line given after it (e.g. a
    ///   shell that sets a resource limit first).
    static func start(
        upstreamURL: String,
        recording: URL,
        in environment: PeerEnvironment,
        extraArguments: [String] = [],
        launcher: [String] = []
    ) async throws -> RunningPeer {
        guard let siotape = environment.siotape else {
            throw PeerError("SIOTAPE_BIN is not set: run tools/test")
        }
        let command = launcher + [siotape]
        let process = try Subprocess(
            name: "siotape record", executable: command[0],
            arguments: Array(command.dropFirst()) + [
                "record", "--upstream", upstreamURL, "--listen", "127.0.0.1:0",
                "--out", recording.path, "--live", "off",
            ] + extraArguments)
        return try await listening(process, announcedBy: "listening on")
    }

    /// Waits for the stderr line of a `siotape` command that contains `marker` and takes the port of
    /// its first `127.0.0.1:PORT` word.
    static func listening(_ process: Subprocess, announcedBy marker: String) async throws -> RunningPeer {
        let line = try await process.stderrLine(containing: marker, timeout: Peers.readyTimeout)
        let address = line.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }
        guard let address, let port = Int(address.split(separator: ":").last ?? "") else {
            process.terminate()
            throw PeerError("\(process.name): no port in \(line.debugDescription)")
        }
        return RunningPeer(process: process, port: port)
    }
}
