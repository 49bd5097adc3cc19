import NIOCore
import SIOInspect
import SIORecording
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The live view on stdout. It follows the recording's lines (`RecordLineFollower`), as the
/// capture wrote them, so the capture keeps its fast path whatever the live view shows: the lines
/// are copied into a shared buffer, and a background thread turns them into text (formatted as
/// `inspect` formats a recording, by `RecordLineFormatter`) or, in `jsonl` mode, writes them as they are. A slow
/// terminal or pipe never stalls the proxy's event loops: when it falls too far behind, lines are
/// dropped and the count is shown.
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
    /// `text`: how a line is shown; `nil` in `jsonl` mode, whose line is the recording's.
    private let formatter: LiveFormatter?
    private let state = Mutex(State())
    private let thread: Mutex<BackgroundThread?> = Mutex(nil)

    init(mode: Mode) {
        switch mode {
        case .text(let color): self.formatter = LiveFormatter(colors: color)
        case .jsonl: self.formatter = nil
        }
        let thread = BackgroundThread { [self] in self.drainUntilClosed() }
        self.thread.withLock { $0 = thread }
    }

    /// Takes the lines the capture just wrote to the recording, as they are (under the writer's
    /// lock, so in the recording's order); the background thread formats them.
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
        var lines = self.formatter.map { RecordLineFormatter($0) }
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
                if lines != nil {
                    Self.write(Self.text(of: chunk, &lines!))
                } else {
                    Self.write(chunk)
                }
            } else if closed {
                return
            } else {
                usleep(20_000)
            }
        }
    }

    /// The text lines of recording lines, as `inspect` shows a recording. A line that does not
    /// decode (none should: the capture wrote it) is shown as it is; the `end` trailer and kinds
    /// this build does not know are not shown.
    private static func text(of lines: ByteBuffer, _ formatter: inout RecordLineFormatter) -> ByteBuffer {
        var lines = lines
        var text = ByteBuffer()
        text.reserveCapacity(lines.readableBytes)
        while let newline = lines.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let line = lines.readSlice(length: newline - lines.readerIndex)!
            lines.moveReaderIndex(forwardBy: 1)
            switch formatter.format(line, into: &text) {
            case .shown, .skipped:
                break
            case .undecodable:
                text.writeImmutableBuffer(line)
                text.writeInteger(UInt8(ascii: "\n"))
            }
        }
        return text
    }

    private static func write(_ buffer: ByteBuffer) {
        // A failed write (the terminal went away) loses these lines only; the recording goes on.
        _ = buffer.withUnsafeReadableBytes { Platform.writeAll(STDOUT_FILENO, $0) }
    }
}
