/// permessage-deflate (RFC 7692) as negotiated by the `101` response.
public enum PerMessageDeflate {
    public struct Parameters: Hashable, Sendable {
        /// LZ77 window bits the sender of this direction uses (8...15).
        public var windowBits: Int
        /// Whether the sender resets its context after each message.
        public var noContextTakeover: Bool

        public init(windowBits: Int = 15, noContextTakeover: Bool = false) {
            self.windowBits = windowBits
            self.noContextTakeover = noContextTakeover
        }
    }

    /// The parameters for client→server and server→client messages, from the accepted
    /// `Sec-WebSocket-Extensions` response header; `nil` when permessage-deflate was not accepted.
    ///
    /// `server_*` parameters describe what the server sends (server→client), `client_*` what the
    /// client sends; an absent or value-less `*_max_window_bits` means 15.
    public static func negotiated(responseHeader: String) -> (
        clientToServer: Parameters, serverToClient: Parameters
    )? {
        // Several extensions may be listed; the first permessage-deflate one is the accepted one.
        for extensionText in responseHeader.split(separator: ",") {
            let parts = extensionText.split(separator: ";").map { $0.trimmingSpaces() }
            guard let name = parts.first, name.lowercased() == "permessage-deflate" else { continue }
            var clientToServer = Parameters()
            var serverToClient = Parameters()
            for parameter in parts.dropFirst() {
                let key: Substring
                var value: Substring?
                if let equals = parameter.firstIndex(of: "=") {
                    key = parameter[..<equals].trimmingSpaces()
                    value = parameter[parameter.index(after: equals)...].trimmingSpaces()
                    if let quoted = value, quoted.count >= 2, quoted.first == "\"", quoted.last == "\"" {
                        value = quoted.dropFirst().dropLast()
                    }
                } else {
                    key = parameter
                }
                let bits = value.flatMap { Int($0) }.map { min(15, max(8, $0)) } ?? 15
                switch key.lowercased() {
                case "server_no_context_takeover": serverToClient.noContextTakeover = true
                case "client_no_context_takeover": clientToServer.noContextTakeover = true
                case "server_max_window_bits": serverToClient.windowBits = bits
                case "client_max_window_bits": clientToServer.windowBits = bits
                default: break
                }
            }
            return (clientToServer, serverToClient)
        }
        return nil
    }
}

extension StringProtocol {
    func trimmingSpaces() -> Substring {
        let trimmed = self.drop(while: { $0 == " " || $0 == "\t" })
        var end = trimmed.endIndex
        while end > trimmed.startIndex, trimmed[trimmed.index(before: end)] == " " || trimmed[trimmed.index(before: end)] == "\t" {
            end = trimmed.index(before: end)
        }
        return Substring(trimmed[trimmed.startIndex..<end])
    }
}
