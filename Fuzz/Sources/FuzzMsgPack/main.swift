import FuzzInput
import NIOCore
import SIOWire

/// The msgpack decoder: msgpack-parser packets, any msgpack value as JSON, and the masker.
/// The first byte picks which; the rest is the message.
/// Properties: invalid input is an error, never a crash; a value's JSON encodes back to msgpack
/// whose JSON is the same text, and to the very bytes when the decoder called them canonical; a
/// packet re-encodes to bytes that decode to the same packet (to the input itself when no `wire`
/// was kept); a masked packet still decodes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMsgPack(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let variant = input.byte() % 3
    let message = input.rest
    switch variant {
    case 0:
        guard let packet = try? SocketIOPacket.decodeMsgPack(message) else { return 0 }
        guard let again = try? packet.encodeMsgPack() else {
            fuzzCheck(false, "a decoded packet does not encode")
            return 0
        }
        if packet.wire == nil { fuzzCheck(again == message, "canonical packet not re-encoded byte for byte") }
        let back = try? SocketIOPacket.decodeMsgPack(again)
        fuzzCheck(
            back?.type == packet.type && back?.namespace == packet.namespace && back?.ackID == packet.ackID
                && back?.json == packet.json && back?.eventName == packet.eventName,
            "packet changed in a round trip")
        // The fields alone (as a recording without `wire` would hold them) encode and decode too.
        var fields = packet
        fields.wire = nil
        if let rebuilt = try? fields.encodeMsgPack() {
            fuzzCheck((try? SocketIOPacket.decodeMsgPack(rebuilt))?.json == packet.json, "fields do not rebuild the packet")
        } else {
            fuzzCheck(false, "fields do not encode")
        }
    case 1:
        guard let (json, canonical) = try? MsgPackJSON.json(fromMsgPack: message) else { return 0 }
        guard let back = try? MsgPackJSON.msgPack(fromJSON: json) else {
            fuzzCheck(false, "JSON of a value does not encode back")
            return 0
        }
        if canonical { fuzzCheck(back == message, "canonical value not re-encoded byte for byte") }
        fuzzCheck((try? MsgPackJSON.json(fromMsgPack: back))?.json == json, "value changed in a round trip")
    default:
        _ = MsgPackMasker.maskUndecodable(message, with: "[redacted]")
        if let masked = try? SocketIOPacket.decodeMsgPack(message, maskingData: "[redacted]") {
            let rebuilt = try? masked.encodeMsgPack()
            fuzzCheck(rebuilt.flatMap { try? SocketIOPacket.decodeMsgPack($0) }?.json == masked.json, "masked packet does not decode")
        }
    }
    return 0
}
