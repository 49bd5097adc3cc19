import NIOCore

/// Takes a copy of the record lines written into a recording, in the recording's order: the
/// browser view's live feed (`record --ui`). The lines are the recording's own bytes (redacted and
/// masked as the file is), so a follower never encodes a record and never sees more than the file.
///
/// Called while the capture holds its session lock and the writer its buffer's lock: copy the
/// bytes and return, never block, never call back into the capture.
public protocol RecordLineFollower: Sendable {
    /// `lines` holds `count` complete lines, each ending in `\n`, exactly as the recording holds them.
    func follow(lines: UnsafeRawBufferPointer, count: Int)
}

extension RecordingWriter {
    /// Encodes `records` once into the pending buffer (as `append(contentsOf:)` does) and hands
    /// the same bytes to `follower`, under the writer's lock, so the follower gets the lines in the
    /// recording's order. A record is encoded once whatever follows the recording.
    public func append(contentsOf records: [Record], follower: any RecordLineFollower) {
        guard !records.isEmpty else { return }
        self.appendLines { pending in
            let start = pending.writerIndex
            let encoder = RecordEncoder()
            var lastTime: Int64 = 0
            // By index: `for record in records` would copy (retain and release) every record.
            var index = 0
            while index < records.count {
                encoder.encode(records[index], into: &pending)
                lastTime = max(lastTime, records[index].time)
                index += 1
            }
            pending.follow(from: start, count: records.count, by: follower)
            return (records.count, lastTime)
        }
    }
}

extension ByteBuffer {
    /// Hands the `count` lines written since writer index `start` to `follower`.
    public func follow(from start: Int, count: Int, by follower: any RecordLineFollower) {
        guard count > 0 else { return }
        self.withUnsafeReadableBytes { all in
            follower.follow(lines: UnsafeRawBufferPointer(rebasing: all[(start - self.readerIndex)...]), count: count)
        }
    }
}
