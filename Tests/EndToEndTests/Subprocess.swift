import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Everything a child process writes to one pipe, collected on a thread of its own. Callers wait,
/// with a deadline, until the collected output satisfies a condition (no sleeping, no polling).
final class PipeCollector: Sendable {
    struct Snapshot: Sendable {
        var bytes: [UInt8] = []
        /// The writer closed the pipe (the process exited).
        var closed = false
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    private struct Waiter: Sendable {
        let id: Int
        let condition: @Sendable (Snapshot) -> Bool
        let continuation: CheckedContinuation<Snapshot?, Never>
    }

    private struct State {
        var snapshot = Snapshot()
        var waiters: [Waiter] = []
        var nextID = 0
    }

    private let state = Mutex(State())

    init(reading handle: FileHandle) {
        let descriptor = handle.fileDescriptor
        let reader = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    append([], closed: true)
                    try? handle.close()
                    return
                }
                append(Array(buffer[..<count]), closed: false)
            }
        }
        reader.start()
    }

    var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// Waits until `condition` holds for the collected output; `nil` once `timeout` has passed.
    func wait(
        timeout: Duration,
        until condition: @escaping @Sendable (Snapshot) -> Bool
    ) async -> Snapshot? {
        await withCheckedContinuation { continuation in
            let id: Int? = state.withLock { state in
                if condition(state.snapshot) {
                    continuation.resume(returning: state.snapshot)
                    return nil
                }
                let id = state.nextID
                state.nextID += 1
                state.waiters.append(Waiter(id: id, condition: condition, continuation: continuation))
                return id
            }
            guard let id else { return }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds) { [self] in
                let expired = state.withLock { state -> Waiter? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                expired?.continuation.resume(returning: nil)
            }
        }
    }

    private func append(_ bytes: [UInt8], closed: Bool) {
        let ready = state.withLock { state -> [(Waiter, Snapshot)] in
            state.snapshot.bytes += bytes
            state.snapshot.closed = state.snapshot.closed || closed
            let snapshot = state.snapshot
            let ready = state.waiters.filter { $0.condition(snapshot) }
            state.waiters.removeAll { $0.condition(snapshot) }
            return ready.map { ($0, snapshot) }
        }
        for (waiter, snapshot) in ready {
            waiter.continuation.resume(returning: snapshot)
        }
    }
}

/// A child process with its stdout and stderr collected. `terminate()` (SIGTERM, SIGKILL after a
/// grace period) is safe to call any number of times; call it in a `defer`.
final class Subprocess: @unchecked Sendable {  // `process` is configured in init only
    let name: String
    let stdout: PipeCollector
    let stderr: PipeCollector
    private let process = Process()
    /// The writing end of the child's stdin, when it was asked for.
    private let input: FileHandle?

    /// - Parameter withStdin: give the child a pipe as stdin (see `send(line:)`) instead of /dev/null.
    init(name: String, executable: String, arguments: [String], withStdin: Bool = false) throws {
        self.name = name
        let out = Pipe()
        let err = Pipe()
        let inputPipe = withStdin ? Pipe() : nil
        self.input = inputPipe?.fileHandleForWriting
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let inputPipe {
            process.standardInput = inputPipe
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = out
        process.standardError = err
        do {
            try Self.spawnWithEmptySignalMask(process)
        } catch {
            throw PeerError("\(name): cannot start \(executable): \(error)")
        }
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        try? inputPipe?.fileHandleForReading.close()
        stdout = PipeCollector(reading: out.fileHandleForReading)
        stderr = PipeCollector(reading: err.fileHandleForReading)
    }

    /// A child inherits the signal mask of the thread that spawns it, and the threads tests run on
    /// (Dispatch, the cooperative pool) block SIGTERM and most other signals: a child spawned from
    /// them never sees `terminate()`. Spawn from a short-lived thread with an empty mask instead.
    private static func spawnWithEmptySignalMask(_ process: Process) throws {
        let box = UncheckedBox(process)
        let failure = Mutex<(any Error)?>(nil)
        let spawned = DispatchSemaphore(value: 0)
        let spawner = Thread {
            var empty = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, nil)
            do {
                try box.value.run()
            } catch {
                failure.withLock { $0 = error }
            }
            spawned.signal()
        }
        spawner.start()
        spawned.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// The first line on stdout, without its newline. Fails, killing the process, if none comes
    /// within `timeout` or the process exits first.
    func firstLine(timeout: Duration) async throws -> String {
        let snapshot = await stdout.wait(timeout: timeout) {
            $0.bytes.contains(UInt8(ascii: "\n")) || $0.closed
        }
        guard let snapshot, let newline = snapshot.bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            let why = snapshot == nil ? "printed no line within \(timeout)" : "exited without printing a line"
            terminate()
            throw PeerError("\(name) \(why)\(diagnostics)")
        }
        return String(decoding: snapshot.bytes[..<newline], as: UTF8.self)
    }

    /// The first line on stderr that contains `marker`. Fails, killing the process, if none comes
    /// within `timeout` or the process exits first.
    func stderrLine(containing marker: String, timeout: Duration) async throws -> String {
        let matches: @Sendable (PipeCollector.Snapshot) -> Bool = { snapshot in
            snapshot.closed || snapshot.text.split(separator: "\n").contains { $0.contains(marker) }
        }
        guard let snapshot = await stderr.wait(timeout: timeout, until: matches),
            let line = snapshot.text.split(separator: "\n").first(where: { $0.contains(marker) })
        else {
            terminate()
            throw PeerError("\(name) printed no line with '\(marker)' on stderr within \(timeout)\(diagnostics)")
        }
        return String(line)
    }

    /// Waits for the process to exit and returns its stdout; fails on a timeout (killing the
    /// process) or a non-zero exit status.
    func output(timeout: Duration) async throws -> String {
        guard let out = await stdout.wait(timeout: timeout, until: { $0.closed }),
            await stderr.wait(timeout: .seconds(5), until: { $0.closed }) != nil
        else {
            terminate()
            throw PeerError("\(name) did not finish within \(timeout)\(diagnostics)")
        }
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw PeerError("\(name) failed (status \(process.terminationStatus))\(diagnostics)")
        }
        return out.text
    }

    /// Waits for the process to exit, whatever its status, and returns the status and stdout; `nil`
    /// on a timeout (the process is then killed).
    func exitStatusAndOutput(timeout: Duration) async -> (status: Int32, stdout: String)? {
        guard let out = await stdout.wait(timeout: timeout, until: { $0.closed }),
            await stderr.wait(timeout: .seconds(5), until: { $0.closed }) != nil
        else {
            terminate()
            return nil
        }
        process.waitUntilExit()
        return (process.terminationStatus, out.text)
    }

    /// The child's process id (to read `/proc/<pid>/status`, for one).
    var processIdentifier: Int32 { process.processIdentifier }

    /// Writes one line to the child's stdin (started `withStdin: true`).
    func send(line: String) throws {
        guard let input else { throw PeerError("\(name) was started without a stdin pipe") }
        try input.write(contentsOf: Data((line + "\n").utf8))
    }

    /// SIGKILL at once (a crash: no chance to clean up), then waits until the process is reaped.
    func killAbruptly() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL if the process has not exited after `killAfter` (a hang guard: a
    /// process that exits sooner is reaped at once).
    func terminate(killAfter: Duration = .seconds(5)) {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        let exited = ExitFlag()
        kill(pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + killAfter.seconds) {
            if !exited.isSet { kill(pid, SIGKILL) }
        }
        process.waitUntilExit()
        exited.set()
    }

    /// The exit status once the process has exited (after `terminate()`), `nil` while it runs.
    var terminationStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// stdout and stderr so far, for failure messages.
    var diagnostics: String {
        "\n--- stdout of \(name) ---\n\(stdout.snapshot.text.suffix(4000))"
            + "\n--- stderr of \(name) ---\n\(stderr.snapshot.text.suffix(4000))"
    }

    deinit { terminate() }
}

private final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Set once a process has been reaped, so that the SIGKILL watchdog never hits a reused pid.
private final class ExitFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

struct PeerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
