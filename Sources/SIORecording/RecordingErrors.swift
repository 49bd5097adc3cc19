/// Why a recording could not be opened for reading.
public struct RecordingReadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The broad category, for callers that branch on it (exit codes, tests).
    public enum Code: Hashable, Sendable {
        case cannotOpen, empty, notARecording, newerVersion, damagedHeader
    }

    public var code: Code
    public var description: String

    static func cannotOpen(_ path: String, errno: Int32) -> Self {
        Self(code: .cannotOpen, description: "cannot open \(path): \(systemErrorMessage(errno))")
    }

    static func empty(_ path: String) -> Self {
        Self(
            code: .empty,
            description: "\(path) is empty: not a recording, or the recorder was stopped before it wrote anything"
        )
    }

    static func notARecording(_ why: String) -> Self {
        Self(code: .notARecording, description: "not a siotape recording: \(why)")
    }

    static func newerVersion(_ version: Int) -> Self {
        Self(
            code: .newerVersion,
            description: "this recording is format version \(version); this build of siotape reads versions up to "
                + "\(RecordingHeader.currentVersion). Upgrade siotape to read it."
        )
    }

    static func damagedHeader(_ damage: RecordingDamage) -> Self {
        Self(code: .damagedHeader, description: "cannot read the header: \(damage)")
    }
}

/// Why a recording could not be created, or why writing it stopped.
public struct RecordingWriteError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// The file exists already; recordings are never overwritten.
        case exists
        /// The file could not be created or opened.
        case cannotCreate
        /// Writing failed (disk full, I/O error, permissions): later records are dropped.
        case writeFailed
        /// The file was deleted while being written: later records are dropped.
        case deleted
        /// Compression failed.
        case compression
    }

    public var code: Code
    public var description: String

    public init(code: Code, description: String) {
        self.code = code
        self.description = description
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func systemErrorMessage(_ code: Int32) -> String {
    guard let message = strerror(code) else { return "error \(code)" }
    return String(cString: message) + " (errno \(code))"
}

func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
