#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `record` writes: `--out` names a directory (a file named by start time is made in it) or a file.
enum RecordingPath {
    static let fileExtension = ".siotape.gz"

    /// A path that ends with `/`, names an existing directory, or does not exist and has no `.` in its
    /// last component is a directory (created if missing); anything else is the file itself.
    static func resolve(_ out: String, startedAtMicros: Int64) throws -> String {
        let lastComponent = out.split(separator: "/").last.map(String.init) ?? out
        var info = stat()
        let exists = stat(out, &info) == 0
        // An existing non-directory (`/dev/full`, a FIFO) is a file even without a `.` in its name.
        if out.hasSuffix("/") || isDirectory(out) || (!exists && !lastComponent.contains(".")) {
            try makeDirectories(out)
            let directory = out.hasSuffix("/") ? String(out.dropLast()) : out
            return "\(directory)/siotape-\(timestamp(startedAtMicros))\(fileExtension)"
        }
        return out
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if !isDirectory(prefix), mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw RecordingPathError(message: "cannot create directory \(prefix): \(String(cString: strerror(errno)))")
            }
            prefix += "/"
        }
    }

    /// `20261121-173000` in UTC.
    private static func timestamp(_ micros: Int64) -> String {
        var seconds = time_t(micros / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
    }
}

struct RecordingPathError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

enum WallClock {
    /// Microseconds since the Unix epoch.
    static func nowMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
