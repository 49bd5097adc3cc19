/// A `--since` / `--until` value: an offset from the start of the recording (`90`, `1.5s`,
/// `250ms`, `2m`, `1h`) or a wall-clock instant (`2026-11-21T17:51:30.5Z`, `...+01:00`).
public enum TimeBound: Hashable, Sendable {
    /// µs after the start of the (earliest) recording.
    case offset(Int64)
    /// µs since the Unix epoch.
    case instant(Int64)

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(parsing text: String) throws(ParseError) {
        if let offset = Self.duration(text) {
            self = .offset(offset)
        } else if let instant = Self.iso8601(text) {
            self = .instant(instant)
        } else {
            throw ParseError(
                description: "'\(text)' is neither a time since the start (90, 1.5s, 250ms, 2m, 1h) nor an "
                    + "ISO-8601 instant (2026-11-21T17:51:30Z)"
            )
        }
    }

    /// Wall-clock µs, given the start of the recording.
    public func resolve(start: Int64) -> Int64 {
        switch self {
        case .offset(let offset): return start + offset
        case .instant(let instant): return instant
        }
    }

    /// `1.5s` → 1_500_000.
    public static func duration(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ms", 1_000), ("us", 1), ("µs", 1), ("s", 1_000_000), ("m", 60_000_000), ("h", 3_600_000_000)]
        var number = Substring(text)
        var scale = 1_000_000.0
        for (suffix, value) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = value
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(number) else {
            return nil
        }
        return Int64((value * scale).rounded())
    }

    /// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` → µs since the epoch.
    public static func iso8601(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int64? {
            guard at + n <= b.count else { return nil }
            var v: Int64 = 0
            for i in at..<(at + n) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, let y = digits(0, 4), b[4] == UInt8(ascii: "-"), let mo = digits(5, 2),
            b[7] == UInt8(ascii: "-"), let d = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "),
            let h = digits(11, 2), b[13] == UInt8(ascii: ":"), let mi = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let s = digits(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100_000
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                micros += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var zone: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard let zh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let zm = digits(i + 4, 2)
            else { return nil }
            zone = (zh * 60 + zm) * 60 * (b[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        return ((days * 86_400 + h * 3600 + mi * 60 + s) - zone) * 1_000_000 + micros
    }

    /// Howard Hinnant's days-from-civil (proleptic Gregorian).
    private static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
