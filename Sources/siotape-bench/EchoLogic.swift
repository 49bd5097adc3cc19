import NIOCore
import SIOWire

/// What the bench upstream answers to one Engine.IO v4 packet: a Socket.IO v5 server with one
/// behaviour, `echo with ack` — every event that asks for an ack gets its arguments back in the ack.
///
/// Works on bytes (no JSON parsing): the ack's array is the event's array without its first element
/// (the event name).
enum EchoLogic {
    /// The handshake packet (`0{...}`) of a new session. No pings are sent by this server.
    static func openPacket(sid: String, upgrades: Bool) -> ByteBuffer {
        ByteBuffer(
            string: "0{\"sid\":\"\(sid)\",\"upgrades\":[\(upgrades ? "\"websocket\"" : "")],"
                + "\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}")
    }

    /// The answer to the text of one Engine.IO packet (type digit included), or `nil`.
    static func reply(toText packet: ByteBuffer, sid: String) -> ByteBuffer? {
        guard let decoded = try? EngineIOPacket.decode(webSocketText: packet) else { return nil }
        return self.reply(to: decoded, sid: sid)
    }

    /// The answer to one decoded Engine.IO packet, or `nil`.
    static func reply(to decoded: EngineIOPacket, sid: String) -> ByteBuffer? {
        switch decoded.type {
        case .message:
            return self.socketReply(to: decoded.data, sid: sid)
        case .ping:
            // `2probe` during an upgrade.
            var pong = ByteBuffer(integer: UInt8(ascii: "3"))
            pong.writeImmutableBuffer(decoded.data)
            return pong
        default:
            return nil
        }
    }

    private static func socketReply(to text: ByteBuffer, sid: String) -> ByteBuffer? {
        let view = text.readableBytesView
        guard let type = view.first else { return nil }
        switch type {
        case UInt8(ascii: "0"):
            // CONNECT to `/` (the bench only uses the main namespace).
            return ByteBuffer(string: "40{\"sid\":\"\(sid)\"}")
        case UInt8(ascii: "2"):
            var index = view.index(after: view.startIndex)
            let idStart = index
            while index < view.endIndex, view[index] >= UInt8(ascii: "0"), view[index] <= UInt8(ascii: "9") {
                index += 1
            }
            guard index > idStart, index < view.endIndex, view[index] == UInt8(ascii: "[") else { return nil }
            var ack = ByteBuffer()
            ack.reserveCapacity(view.count + 2)
            ack.writeStaticString("43")
            ack.writeBytes(view[idStart..<index])
            ack.writeInteger(UInt8(ascii: "["))
            ack.writeBytes(view[self.argumentsAfterName(view, arrayStart: index)...])
            return ack
        default:
            return nil
        }
    }

    /// The index just past `<name>,` in `[<name>,args...]` (or of the closing `]` when there are no
    /// arguments).
    private static func argumentsAfterName(_ view: ByteBufferView, arrayStart: Int) -> Int {
        var index = arrayStart + 1
        guard index < view.endIndex, view[index] == UInt8(ascii: "\"") else { return index }
        index += 1
        while index < view.endIndex {
            switch view[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""):
                index += 1
                if index < view.endIndex, view[index] == UInt8(ascii: ",") { index += 1 }
                return index
            default: index += 1
            }
        }
        return index
    }
}
