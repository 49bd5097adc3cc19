import Foundation
import SIOInspect
import SIORecording
import SIOWire
import Testing

/// Every filter, on a recording of known contents (`conversation()`) and on the sample recordings.
@Suite struct InspectFilterTests {
    let dir = ScratchDirectory()

    func recording() throws -> String {
        let path = self.dir.file("c.siotape.gz")
        if !FileManager.default.fileExists(atPath: path) { try writeRecording(path, conversation()) }
        return path
    }

    /// (type, event) of each jsonl line shown.
    func shown(_ configure: (inout Inspector.Options) throws -> Void) throws -> [String] {
        let (output, _) = try inspect([try self.recording()]) {
            $0.format = .jsonl
            try configure(&$0)
        }
        return try jsonObjects(output).map { o in
            [o["k"] as? String, o["type"] as? String, o["event"] as? String, o["ack_event"] as? String]
                .compactMap { $0 }.joined(separator: " ")
        }
    }

    @Test func defaultHidesEngineLevelRecords() throws {
        let all = try self.shown { _ in }
        #expect(!all.contains { $0.hasPrefix("eio") || $0.hasPrefix("conn") })
        #expect(all.contains("sio EVENT chat"))
        #expect(all.contains("open") && all.contains("close") && all.contains("upgrade"))
        let engine = try self.shown { $0.filter.engine = true }
        #expect(engine.contains("eio ping") && engine.contains("eio pong") && engine.contains("conn"))
        #expect(engine.count == conversation().count)
    }

    @Test func session() throws {
        let a = try self.shown { $0.filter.sessions = ["AAAA"] }  // a prefix
        #expect(a.count == 8)  // open, 2 CONNECT, chat, ACK, news, CONNECT_ERROR, close (ping/pong hidden)
        #expect(!a.contains("upgrade"))
        let b = try self.shown { $0.filter.sessions = [sessionB] }
        #expect(b == ["open", "upgrade", "sio EVENT chat", "sio ACK chat", "sio EVENT typing", "close"])
        #expect(try self.shown { $0.filter.sessions = ["nope"] }.isEmpty)
    }

    @Test func namespace() throws {
        #expect(try self.shown { $0.filter.namespaces = ["/feed"] } == ["sio EVENT news"])
        #expect(try self.shown { $0.filter.namespaces = ["/admin", "/feed"] } == ["sio EVENT news", "sio CONNECT_ERROR"])
        #expect(try self.shown { $0.filter.namespaces = ["/"] }.count == 7)
    }

    @Test func eventGlobIncludesAcks() throws {
        #expect(try self.shown { $0.filter.events = ["chat"] } == [
            "sio EVENT chat", "sio ACK chat", "sio EVENT chat", "sio ACK chat",
        ])
        #expect(try self.shown { $0.filter.events = ["t*"] } == ["sio EVENT typing"])
        #expect(try self.shown { $0.filter.events = ["?ews", "typ?ng"] } == ["sio EVENT news", "sio EVENT typing"])
        #expect(try self.shown { $0.filter.events = ["x*"] }.isEmpty)
    }

    @Test func direction() throws {
        let client = try self.shown { $0.filter.direction = .clientToServer }
        #expect(client == ["sio CONNECT", "sio EVENT chat", "sio EVENT chat", "sio EVENT typing"])
        let server = try self.shown {
            $0.filter.direction = .serverToClient
            $0.filter.engine = true
        }
        #expect(server == ["sio CONNECT", "sio ACK chat", "sio EVENT news", "eio ping", "sio ACK chat", "sio CONNECT_ERROR"])
    }

    @Test func type() throws {
        #expect(try self.shown { $0.filter.types = ["ack"] } == ["sio ACK chat", "sio ACK chat"])
        #expect(try self.shown { $0.filter.types = ["CONNECT_ERROR", "Ping"] } == ["sio CONNECT_ERROR"])  // ping hidden
        #expect(
            try self.shown {
                $0.filter.types = ["ping"]
                $0.filter.engine = true
            } == ["eio ping"]
        )
    }

    @Test func sinceAndUntil() throws {
        // Offsets from the start; the records are at 10 ms (chat), 12 ms (ack), 20 ms (news).
        #expect(
            try self.shown {
                $0.since = try TimeBound(parsing: "10ms")
                $0.until = try TimeBound(parsing: "0.02")
            } == ["sio EVENT chat", "sio ACK chat", "sio EVENT news"]
        )
        // Absolute: the recording starts at testStart.
        let at = Timestamp.iso8601(micros: testStart + 36_000)
        #expect(try self.shown { $0.since = try TimeBound(parsing: at) } == [
            "sio ACK chat", "sio CONNECT_ERROR", "sio EVENT typing", "close", "close",
        ])
        #expect(throws: TimeBound.ParseError.self) { try TimeBound(parsing: "yesterday") }
        #expect(try TimeBound(parsing: "2m") == .offset(120_000_000))
        #expect(try TimeBound(parsing: "2026-11-21T17:51:30.5+01:00") == .instant(1_795_279_890_500_000))
    }

    @Test func grep() throws {
        #expect(try self.shown { $0.filter.grep = "from b" } == ["sio EVENT chat"])
        #expect(try self.shown { $0.filter.grep = "\u{20ac}" } == ["sio EVENT chat"])
        #expect(try self.shown { $0.filter.grep = "token required" } == ["sio CONNECT_ERROR"])
        #expect(try self.shown { $0.filter.grep = "nothing like this" }.isEmpty)
    }

    @Test func filtersCombine() throws {
        let shown = try self.shown {
            $0.filter.events = ["chat"]
            $0.filter.direction = .serverToClient
            $0.filter.sessions = [sessionB]
        }
        #expect(shown == ["sio ACK chat"])
    }

    /// On a sample recording: the scenario of `signalling` sends 2 pings, 4 join_room, 1 offer,
    /// 1 answer and 3 ICE candidates from clients.
    @Test func filtersOnASampleRecording() throws {
        let path = sampleRecording("signalling")
        func count(_ configure: (inout Inspector.Options) -> Void) throws -> Int {
            try jsonObjects(try inspect([path]) {
                $0.format = .jsonl
                configure(&$0)
            }.output).count
        }
        #expect(try count { $0.filter.events = ["join_room"]; $0.filter.direction = .clientToServer } == 4)
        #expect(try count { $0.filter.events = ["ice_*"]; $0.filter.direction = .clientToServer } == 3)
        #expect(try count { $0.filter.events = ["ice_*"]; $0.filter.direction = .serverToClient } == 3)
        #expect(try count { $0.filter.types = ["connect"]; $0.filter.direction = .serverToClient } == 3)
        #expect(try count { $0.filter.grep = "6-digit code" } == 1)  // the error for room code 12ab
    }
}
