import FuzzInput
import NIOCore
import SIOWire

/// Engine.IO v3/v4: long-polling payloads in the three framings and single WebSocket packets.
/// Property: whatever decodes without damage encodes to bytes that decode to the same packets.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineIO(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let selector = input.byte()
    let data = input.rest
    switch selector % 4 {
    case 0, 1, 2:
        let encoding: EngineIOPayloadEncoding = [.v4Text, .v3Text, .v3Binary][Int(selector % 4)]
        let decoded = EngineIOPayload.decode(data, encoding: encoding)
        if decoded.error == nil {
            let again = EngineIOPayload.decode(EngineIOPayload.encode(decoded.packets, encoding: encoding), encoding: encoding)
            fuzzCheck(again.error == nil, "re-encoded \(encoding) payload does not decode: \(String(describing: again.error))")
            fuzzCheck(again.packets == decoded.packets, "\(encoding) payload changed in a round trip")
        }
    default:
        let version: EngineIOVersion = selector & 0x80 == 0 ? .v4 : .v3
        let packet: EngineIOPacket?
        if selector & 0x40 == 0 {
            packet = try? EngineIOPacket.decode(webSocketText: data)
        } else {
            packet = try? EngineIOPacket.decode(webSocketBinary: data, version: version)
        }
        if let packet {
            let (isBinary, bytes) = packet.encodeForWebSocket(version: version)
            let again =
                isBinary
                ? try? EngineIOPacket.decode(webSocketBinary: bytes, version: version)
                : try? EngineIOPacket.decode(webSocketText: bytes)
            fuzzCheck(again == packet, "WebSocket packet changed in a round trip")
        }
    }
    return 0
}
