import NIOCore
import SIOInspect
import SIORecording
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The live view on stdout. Records are formatted on the caller's thread into a shared buffer;
/// a background thread writes it out, so a slow terminal or pipe never stalls the proxy's event
/// loops. When the terminal falls too far behind, lines are dropped and the count is shown.
/// In `jsonl` mode, whose line is the recording's, it follows the recording's lines instead
/// (`RecordLineFollower`): the capture keeps its fast path and copies the bytes it wrote.
final class LiveView: RecordLineFollower {
    enum Mode {
        case text(color: Bool)
        case jsonl
    }

    private struct State {
        var pending = ByteBuffer()
        var dropped = 0
        var closed = false
    }

    private static let maxPendingBytes = 4 << 20
    private let formatter: LiveFormatter
    /// Whether it prints the recording's lines as they are (`jsonl`): then it follows lines.
    let followsLines: Bool
    private let state = Mutex(State())
    private let thread: Mutex<BackgroundThread?> = Mutex(nil)

    init(mode: Mode) {
        switch mode {
        case .text(let color): self.formatter = LiveFormatter(mode: .text, colors: color)
        case .jsonl: self.formatter = LiveFormatter(mode: .jsonl, colors: false)
        }
        if case .jsonl = mode { self.followsLines = true } else { self.followsLines = false }
        let thread = BackgroundThread { [self] in self.drainUntilClosed() }
        self.thread.withLock { $0 = thread }
    }

    func show(_ record: Record) {
        self.state.withLock { state in
            guard !state.closed else { return }
            if state.pending.readableBytes > Self.maxPendingBytes {
                state.dropped += 1
                return
            }
            self.formatter.format(record, into: &state.pending)
        }
    }

    /// `jsonl`: takes the lines the capture just wrote to the recording, as they are.
    func follow(lines: UnsafeRawBufferPointer, count: Int) {
        self.state.withLock { state in
            guard !state.closed else { return }
            if state.pending.readableBytes > Self.maxPendingBytes {
                state.dropped += count
                return
            }
            state.pending.writeBytes(lines)
        }
    }

    /// Writes what is pending and stops the background thread.
    func close() {
        self.state.withLock { $0.closed = true }
        if let thread = self.thread.withLock({ thread in defer { thread = nil }; return thread }) {
            thread.join()
        }
    }

    private func drainUntilClosed() {
        while true {
            let (chunk, dropped, closed) = self.state.withLock { state in
                let chunk = state.pending
                state.pending = ByteBuffer()
                state.pending.reserveCapacity(64 * 1024)
                let dropped = state.dropped
                state.dropped = 0
                return (chunk, dropped, state.closed)
            }
            if dropped > 0 {
                Self.write(ByteBuffer(string: "… \(dropped) live line(s) dropped: the terminal was too slow\n"))
            }
            if chunk.readableBytes > 0 {
                Self.write(chunk)
            } else if closed {
                return
            } else {
                usleep(20_000)
            }
        }
    }

    private static func write(_ buffer: ByteBuffer) {
        // A failed write (the terminal went away) loses these lines only; the recording goes on.
        _ = buffer.withUnsafeReadableBytes { Platform.writeAll(STDOUT_FILENO, $0) }
    }
}
