import SIORecording

/// `siotape verify`: reads a recording completely (every line decoded as a record), continuing
/// after damage at the next gzip member, and says whether it is intact, and if not what is
/// damaged, where, and how much is readable.
public struct VerifyReport: Sendable {
    public var path: String
    public var header: RecordingHeader?
    /// Records decoded (header and trailer excluded), before and after damage.
    public var records = 0
    /// `sio`, `eio` and `raw` records.
    public var packets = 0
    public var sessions = 0
    /// Bodies of HTTP exchanges that are not Engine.IO (`body` records with `last`).
    public var httpBodies = 0
    /// Records and packets read before the first damage.
    public var recordsBeforeDamage = 0
    public var packetsBeforeDamage = 0
    /// The `end` trailer's count, when the recording was closed cleanly.
    public var endRecordCount: Int?
    public var damages: [RecordingDamage] = []
    public var moreDamages = 0
    /// The trailer's count equals the records read (no member went missing).
    public var trailerMatches = true
    /// The file could not be read as a recording at all.
    public var error: RecordingReadError?
    /// Why it could not be read, when it is not a `RecordingReadError`.
    public var failure: String?

    public var isIntact: Bool {
        self.error == nil && self.failure == nil && self.damages.isEmpty && self.endRecordCount != nil
            && self.trailerMatches
    }

    /// For people: one line when intact, the details otherwise.
    public var description: String {
        if let error {
            return "\(self.path): \(error.description)"
        }
        if let failure {
            return "\(self.path): \(failure)"
        }
        var lines: [String] = []
        let version = self.header.map { "format version \($0.version), written by \($0.tool)" } ?? ""
        if self.isIntact {
            return "\(self.path): intact, \(version): \(self.records) records, \(self.packets) packets, "
                + "\(self.sessions) sessions, " + (self.httpBodies > 0 ? "\(self.httpBodies) HTTP bodies, " : "")
                + "closed cleanly"
        }
        lines.append("\(self.path): damaged (\(version))")
        for damage in self.damages {
            let what = damage.kind == .truncated ? "truncated" : "corrupt"
            lines.append("  \(what) at byte \(damage.offset): \(damage.reason)")
        }
        if self.moreDamages > 0 { lines.append("  ... and \(self.moreDamages) more damaged places") }
        if !self.trailerMatches, let end = self.endRecordCount {
            lines.append("  the end trailer counts \(end) records, but fewer or more were read: records are missing")
        }
        lines.append(
            "  readable: \(self.recordsBeforeDamage) records (\(self.packetsBeforeDamage) packets) before the damage"
                + (self.records > self.recordsBeforeDamage
                    ? ", \(self.records) records (\(self.packets) packets) in all" : "")
        )
        return lines.joined(separator: "\n")
    }
}

public enum Verifier {
    public static func verify(path: String) -> VerifyReport {
        var report = VerifyReport(path: path)
        let reader: RecordingReader
        do {
            reader = try RecordingReader(path: path, options: .init(resynchronize: true))
        } catch let error as RecordingReadError {
            report.error = error
            return report
        } catch {
            report.failure = "\(error)"
            return report
        }
        report.header = reader.header
        var sessions = Set<String>()
        var damaged = false
        do {
            while true {
                let record = try reader.next()
                if !damaged && !reader.damages.isEmpty {
                    damaged = true
                    report.recordsBeforeDamage = report.records
                    report.packetsBeforeDamage = report.packets
                }
                guard let record else { break }
                report.records += 1
                switch record.event {
                case .socket, .engine, .undecodable: report.packets += 1
                case .sessionOpened(let e): sessions.insert(e.sid)
                case .body(let e) where e.last: report.httpBodies += 1
                default: break
                }
            }
        } catch {
            report.damages.append(
                RecordingDamage(kind: .truncated, offset: reader.bytesRead, recordsRead: report.records, reason: "\(error)")
            )
        }
        if !damaged {
            report.recordsBeforeDamage = report.records
            report.packetsBeforeDamage = report.packets
        }
        report.sessions = sessions.count
        report.endRecordCount = reader.endRecordCount
        report.trailerMatches = reader.endRecordCount.map { $0 == reader.recordsRead } ?? true
        report.damages.insert(contentsOf: reader.damages, at: 0)
        report.moreDamages = reader.moreDamages
        return report
    }
}
