import NIOCore
import SIOWire
import Testing

/// Whole real sessions (see `Tests/CaptureFixtures/Fixtures/`), decoded from the raw bytes of every
/// TCP connection.
@Suite struct CaptureTests {
    static let scenarios = [
        "pysio5-polling", "pysio5-websocket", "pysio5-default",
        "node5-polling", "node5-websocket", "node5-default",
        "pysio4-eio3-polling", "pysio4-eio3-websocket", "pysio4-eio3-default",
        "nodeserver-eio3-pyclient-polling", "nodeserver-eio3-pyclient-websocket", "nodeserver-eio3-pyclient-default",
        "raw-eio3-b64", "raw-eio3-xhr2", "raw-eio4",
    ]

    /// The strongest test: every Engine.IO and Socket.IO packet of every capture decodes.
    @Test(arguments: scenarios)
    func everyPacketDecodes(scenario: String) throws {
        let result = try CaptureDecoder.decode(scenario: scenario)
        #expect(result.errors == [])
        #expect(result.engineIO.count > 5)
        #expect(result.socketIO.count > 5)
        // What decoded re-encodes to the same wire text.
        let version: SocketIOVersion = scenario.contains("eio3") ? .v4 : .v5
        for (_, _, packet) in result.socketIO {
            var reparsed = try SocketIOPacket.decode(packet.encodeText(version: version), version: version)
            reparsed.attachments = packet.attachments
            #expect(reparsed == packet)
        }
    }

    @Test func pysio5WebSocket() throws {
        let result = try CaptureDecoder.decode(scenario: "pysio5-websocket")
        let client = result.socketIO(.clientToServer)
        let echo = try #require(client.first(where: { $0.eventName == "echo" && $0.namespace == "/" }))
        #expect(echo.type == .event)
        #expect(echo.ackID == 1)
        #expect(echo.json == buf("[\"echo\",\"hello\",{\"k\":\"\\u20ac\"}]"))
        let binary = try #require(client.first(where: { $0.type == .binaryEvent }))
        #expect(binary.eventName == "binary")
        #expect(binary.ackID == 2)
        #expect(binary.attachments == [bytes([1, 2, 3, 4]), bytes([0xFF])])
        #expect(client.map(\.type) == [.connect, .connect, .event, .event, .binaryEvent, .event, .ack])
        #expect(client[1].namespace == "/admin" && client[1].json == buf("{\"token\":\"secret\"}"))

        let server = result.socketIO(.serverToClient)
        let binaryAck = try #require(server.first(where: { $0.type == .binaryAck }))
        #expect(binaryAck.ackID == 2 && binaryAck.attachments == [bytes([1, 2, 3])])
        #expect(server.first(where: { $0.eventName == "need-ack" })?.ackID == 1)
        let eio = result.engineIO.filter { $0.direction == .serverToClient }.map(\.packet.type)
        #expect(eio.first == .open)
        #expect(eio.contains(.ping))
    }

    @Test func node5WebSocket() throws {
        let result = try CaptureDecoder.decode(scenario: "node5-websocket")
        let client = result.socketIO(.clientToServer)
        let echo = try #require(client.first(where: { $0.eventName == "echo" && $0.namespace == "/" }))
        #expect(echo.ackID == 0)
        #expect(echo.json == buf("[\"echo\",{\"hello\":\"wörld\",\"n\":[1,2.5,null,true]}]"))
        let binary = try #require(client.first(where: { $0.type == .binaryEvent }))
        #expect(binary.attachments == [bytes((0...255).map { UInt8($0) }), bytes([0x00, 0xFF])])
        #expect(client.contains(where: { $0.type == .disconnect && $0.namespace == "/admin" }))
    }

    @Test func node5DefaultUpgrades() throws {
        let result = try CaptureDecoder.decode(scenario: "node5-default")
        #expect(result.engineIO.contains(where: { $0.transport == .websocket && $0.packet == text(.ping, "probe") }))
        #expect(result.engineIO.contains(where: { $0.transport == .websocket && $0.packet == text(.upgrade) }))
        #expect(result.engineIO.contains(where: { $0.transport == .polling && $0.packet.type == .open }))
        // Node's server does not accept permessage-deflate by default: nothing arrives compressed.
        #expect(result.compressedMessages == 0)
    }

    @Test func pysio4EngineIO3WebSocket() throws {
        let result = try CaptureDecoder.decode(scenario: "pysio4-eio3-websocket")
        let client = result.socketIO(.clientToServer)
        // The Python 4.x client connects to /admin without the trailing comma.
        let admin = try #require(client.first(where: { $0.type == .connect && $0.namespace == "/admin" }))
        #expect(admin.rawHeader == "0/admin")
        #expect(admin.encodeText(version: .v4) == buf("0/admin"))
        let binary = try #require(client.first(where: { $0.type == .binaryEvent }))
        #expect(binary.attachments == [bytes([1, 2, 3, 4]), bytes([0xFF])])
        let server = result.socketIO(.serverToClient)
        let refused = try #require(server.first(where: { $0.type == .connectError }))
        #expect(refused.namespace == "/admin" && refused.json == buf("\"Not authorized\""))
        // v3: the client pings.
        #expect(result.engineIO.contains(where: { $0.direction == .clientToServer && $0.packet.type == .ping }))
        #expect(result.engineIO.contains(where: { $0.direction == .clientToServer && $0.packet.isBinary }))
    }

    @Test func nodeServerEngineIO3() throws {
        let result = try CaptureDecoder.decode(scenario: "nodeserver-eio3-pyclient-websocket")
        let server = result.socketIO(.serverToClient)
        let admin = server.first { (packet: SocketIOPacket) -> Bool in
            packet.type == .connect && packet.namespace == "/admin"
        }
        #expect(admin?.rawHeader == nil)
        #expect(server.first(where: { $0.type == .ack && $0.ackID == 1 })?.json == buf("[\"hi\",{\"k\":\"€\"}]"))
    }

    @Test func rawEngineIO3Text() throws {
        let result = try CaptureDecoder.decode(scenario: "raw-eio3-b64")
        let server = result.socketIO(.serverToClient)
        let back = try #require(server.first(where: { $0.eventName == "binary-back" }))
        #expect(back.attachments == [bytes([1, 2, 3, 4]), bytes([0xFF])])
        #expect(server.first(where: { $0.type == .binaryAck })?.attachments == [bytes([1, 2, 3])])
        #expect(result.engineIO.contains(where: { $0.packet == text(.noop) }))
    }

    @Test func rawEngineIO3Binary() throws {
        let result = try CaptureDecoder.decode(scenario: "raw-eio3-xhr2")
        let server = result.socketIO(.serverToClient)
        #expect(server.first?.type == .connect)
        #expect(server.contains(where: { $0.type == .ack && $0.json == buf("[\"raw\",{\"n\":1}]") }))
        #expect(server.first(where: { $0.eventName == "binary-back" })?.attachments == [bytes([1, 2, 3, 4]), bytes([0xFF])])
    }

    @Test func rawEngineIO4() throws {
        let result = try CaptureDecoder.decode(scenario: "raw-eio4")
        let client = result.socketIO(.clientToServer)
        #expect(client.first(where: { $0.type == .binaryEvent && $0.ackID == 2 })?.attachments
            == [bytes([1, 2, 3, 4]), bytes([0xFF])])
        #expect(client.first(where: { $0.type == .binaryEvent && $0.ackID == 4 })?.attachments == [bytes([1, 2])])
        #expect(client.contains(where: { $0.eventName == "echo" && $0.ackID == 3 }))
    }
}
