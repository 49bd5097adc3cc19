import NIOCore
import SIOWire
import Testing

@testable import SIOReplay

/// Ids as a Node socket.io 4.8 server issues them (node5-default capture): Engine.IO sid, then
/// the Socket.IO ids of `/` and `/admin`.
private let recordedSid = "88Sz0ZMO4MucI2y_AAAK"
private let recordedRoot = "exQ_snSKQVTePTHLAAAI"
private let recordedAdmin = "yZXmUHsDpMaKw2eZAAAJ"
private let liveSid = "fy_WrO80b2mSFRhMAAAL"
private let liveRoot = "dPZ7aaaaaaaaaaaaAAAH"
private let liveAdmin = "JAbv4GVoTnvBnEPtAAAM"

private func mapping() -> IDMapping {
    var ids = IDMapping()
    ids.add(recorded: recordedSid, live: liveSid)
    ids.add(recorded: recordedRoot, live: liveRoot)
    ids.add(recorded: recordedAdmin, live: liveAdmin)
    return ids
}

private func rewrite(
    _ json: String,
    _ direction: IDMapping.Direction = .toLive,
    _ ids: IDMapping = mapping()
) -> String {
    String(buffer: ids.rewriting(json: ByteBuffer(string: json), direction))
}

@Suite struct IDMappingTests {
    @Test func anIdThatIsAWholeStringIsMappedBothWays() {
        let recorded = #"["private",{"from":"\#(recordedRoot)","text":"hi"}]"#
        let live = #"["private",{"from":"\#(liveRoot)","text":"hi"}]"#
        #expect(rewrite(recorded) == live)
        #expect(rewrite(live, .toRecorded) == recorded)
    }

    @Test func anIdEmbeddedInAStringIsMapped() {
        #expect(rewrite(#"{"room":"room-\#(recordedSid)"}"#) == #"{"room":"room-\#(liveSid)"}"#)
        #expect(rewrite(#"["/admin#\#(recordedSid)"]"#) == #"["/admin#\#(liveSid)"]"#)
    }

    @Test func idsAsObjectKeysAreMapped() {
        let recorded = #"{"\#(recordedRoot)":{"name":"alice"},"\#(recordedAdmin)":{"name":"bob"}}"#
        #expect(rewrite(recorded) == #"{"\#(liveRoot)":{"name":"alice"},"\#(liveAdmin)":{"name":"bob"}}"#)
    }

    @Test func everyOccurrenceInOnePayloadIsMapped() {
        let recorded = #"[{"socketId":"\#(recordedRoot)"},{"socketId":"\#(recordedAdmin)"},"\#(recordedRoot)"]"#
        #expect(rewrite(recorded) == #"[{"socketId":"\#(liveRoot)"},{"socketId":"\#(liveAdmin)"},"\#(liveRoot)"]"#)
    }

    @Test func bytesOutsideStringsAreNotTouched() {
        var ids = IDMapping()
        ids.add(recorded: "12345678", live: "87654321")
        #expect(rewrite(#"{"n":12345678,"s":"12345678"}"#, .toLive, ids) == #"{"n":12345678,"s":"87654321"}"#)
    }

    @Test func shortIdsAreMappedOnlyAsWholeStrings() {
        var ids = IDMapping()
        ids.add(recorded: "a1", live: "b2")
        #expect(rewrite(#"["a1","xa1x","a1 "]"#, .toLive, ids) == #"["b2","xa1x","a1 "]"#)
    }

    @Test func escapesAreLeftAlone() {
        var ids = IDMapping()
        ids.add(recorded: "u0041abcdefg", live: "ZZZZZZZZZZZZ")
        // The id's bytes inside `\u0041…` are part of an escape, not text.
        #expect(rewrite(#"["\u0041abcdefg","\"u0041abcdefg"]"#, .toLive, ids) == #"["\u0041abcdefg","\"ZZZZZZZZZZZZ"]"#)
    }

    @Test func theLongestIdWinsAndReplacedTextIsNotScannedAgain() {
        var ids = IDMapping()
        ids.add(recorded: "abcdefgh", live: "ABCDEFGH")
        ids.add(recorded: "abcdefgh#1234", live: "live-whole")
        ids.add(recorded: "ABCDEFGH", live: "should-not-apply")
        #expect(rewrite(#"["abcdefgh#1234","abcdefgh"]"#, .toLive, ids) == #"["live-whole","ABCDEFGH"]"#)
    }

    @Test func nothingToMapGivesTheSameBytes() {
        let json = ByteBuffer(string: #"["message",{"text":"nothing here"}]"#)
        #expect(mapping().rewriting(json: json, .toLive) == json)
        #expect(IDMapping().rewriting(json: json, .toLive) == json)
    }

    @Test func aNewPairForAKnownIdReplacesTheOld() {
        var ids = mapping()
        ids.add(recorded: recordedRoot, live: "AnotherLiveId0000000")
        #expect(ids.live(forRecorded: recordedRoot) == "AnotherLiveId0000000")
        #expect(ids.recorded(forLive: liveRoot) == nil)
        #expect(ids.pairs.count == 3)
    }

    @Test func unusableIdsAreLeftOut() {
        var ids = IDMapping()
        ids.add(recorded: "same", live: "same")
        ids.add(recorded: "", live: "x")
        ids.add(recorded: "has\"quote", live: "fine")
        #expect(ids.isEmpty)
    }

    @Test func packetsHaveTheirPayloadAndEventNameMapped() {
        let packet = SocketIOPacket(
            type: .event,
            namespace: "/admin",
            json: ByteBuffer(string: #"["to:\#(recordedSid)",{"from":"\#(recordedAdmin)"}]"#),
            eventName: "to:\(recordedSid)"
        )
        let mapped = mapping().rewriting(packet, .toLive)
        #expect(mapped.eventName == "to:\(liveSid)")
        #expect(mapped.json.map { String(buffer: $0) } == #"["to:\#(liveSid)",{"from":"\#(liveAdmin)"}]"#)
        #expect(mapped.namespace == "/admin")
        #expect(mapping().rewriting(mapped, .toRecorded) == packet)
    }

    @Test func plainStringsAreMapped() {
        #expect(mapping().rewriting(string: "room-\(liveSid)", .toRecorded) == "room-\(recordedSid)")
        #expect(mapping().rewriting(string: "no ids", .toRecorded) == "no ids")
    }
}
