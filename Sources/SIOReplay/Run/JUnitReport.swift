/// JUnit XML for a replay run: one `<testsuite>` for the recording, one `<testcase>` per session
/// (and per plain HTTP request with `--http`), a `<failure>` listing its differences.
package enum JUnitReport {
    package static func xml(result: ReplayRunResult, recording: String, target: String) -> String {
        let failures =
            result.sessions.filter { !$0.differences.isEmpty }.count + result.http.filter { !$0.differences.isEmpty }.count
        let seconds = result.sessions.reduce(Int64(0)) { $0 + $1.durationMicros }
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        out += "<testsuites>\n"
        out += "  <testsuite name=\"\(escape("siotape replay run \(recording)"))\" tests=\"\(result.sessions.count + result.http.count)\" "
        out += "failures=\"\(failures)\" errors=\"\(result.error == nil ? 0 : 1)\" time=\"\(format(seconds))\">\n"
        out += "    <properties><property name=\"target\" value=\"\(escape(target))\"/></properties>\n"
        for session in result.sessions {
            let name = "session \(session.session.index) \(session.session.sid)"
            out += "    <testcase classname=\"\(escape(recording))\" name=\"\(escape(name))\" "
            out += "time=\"\(format(session.durationMicros))\">\n"
            if !session.differences.isEmpty {
                let count = session.differences.count
                let message =
                    "\(count) difference\(count == 1 ? "" : "s"): "
                    + session.differences.prefix(3).map(\.title).joined(separator: "; ")
                out += "      <failure message=\"\(escape(message))\" type=\"difference\">"
                out += escape(session.differences.map(\.description).joined(separator: "\n"))
                out += "</failure>\n"
            }
            if !session.problems.isEmpty {
                out += "      <system-err>\(escape(session.problems.joined(separator: "\n")))</system-err>\n"
            }
            out += "    </testcase>\n"
        }
        for request in result.http {
            out += "    <testcase classname=\"\(escape(recording))\" name=\"\(escape(request.name))\" "
            out += "time=\"\(format(request.durationMicros))\">\n"
            if !request.differences.isEmpty {
                out += "      <failure message=\"\(escape(request.differences.map(\.title).joined(separator: "; ")))\" "
                out += "type=\"difference\">"
                out += escape(request.differences.map(\.description).joined(separator: "\n"))
                out += "</failure>\n"
            }
            out += "    </testcase>\n"
        }
        if let error = result.error {
            out += "    <testcase classname=\"\(escape(recording))\" name=\"run\">\n"
            out += "      <error message=\"\(escape(error))\" type=\"error\"/>\n    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    static func format(_ micros: Int64) -> String {
        let ms = micros / 1000
        let fraction = String(ms % 1000)
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            default:
                // XML 1.0 cannot carry other control characters at all.
                if scalar.value < 0x20 { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
