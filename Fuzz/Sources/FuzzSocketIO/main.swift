import FuzzInput
import NIOCore
import SIOWire

/// Socket.IO v4/v5 packets and their binary attachments. The input is the packet text, then
/// attachments separated by 0xFF bytes.
/// Property: a decoded packet re-encodes to text that decodes to the same packet.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSocketIO(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let version: SocketIOVersion = input.byte() & 1 == 0 ? .v5 : .v4
    var parts = input.rest.readableBytesView.split(separator: 0xFF, omittingEmptySubsequences: false)
        .map { ByteBuffer(bytes: $0) }[...]
    guard let text = parts.popFirst() else { return 0 }
    guard let packet = try? SocketIOPacket.decode(text, version: version) else { return 0 }

    var canonical = packet
    canonical.rawHeader = nil
    let again = try? SocketIOPacket.decode(packet.encodeText(version: version), version: version)
    fuzzCheck(again.map { var a = $0; a.rawHeader = nil; return a } == canonical, "packet changed in a round trip")

    var assembler = SocketIOBinaryAssembler()
    var action = assembler.receive(packet)
    for attachment in parts {
        action = assembler.receiveAttachment(attachment)
    }
    if case .complete(let complete) = action {
        fuzzCheck(complete.attachments.count >= complete.attachmentCount, "complete packet lacks attachments")
    }
    return 0
}
