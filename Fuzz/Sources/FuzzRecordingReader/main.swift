import FuzzInput
import NIOCore
import SIORecording

#if canImport(Glibc)
import Glibc
#endif

/// The recording reader on arbitrary files (gzip members, plain text, damage anywhere).
/// Properties: it never crashes or hangs, and reported damage lies within the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordingReader(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let path = scratchPath
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(path)") }
    if let start, count > 0 { _ = write(fd, start, count) }
    close(fd)

    guard let reader = try? RecordingReader(path: path) else { return 0 }
    var records = 0
    while let _ = try? reader.next() {
        records += 1
        fuzzCheck(records <= count, "more records than bytes")
    }
    if let damage = reader.damage {
        fuzzCheck(damage.offset >= 0 && damage.offset <= count, "damage offset \(damage.offset) outside a file of \(count) bytes")
    }
    return 0
}

private let scratchPath = "/dev/shm/siotape-fuzz-reader-\(getpid()).gz"
