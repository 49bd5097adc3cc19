import Foundation
import Testing

/// `siotape view`, `inspect --format html` and `record --ui` in Debian's chromium, driven by
/// Playwright (`tools/peers/view_browser.py`): what the page shows is compared with what
/// `siotape inspect` prints. Screenshots land in `.build/artifacts/view/`.
@Suite(
    "siotape in the browser",
    .serialized,
    .enabled(if: BrowserEnvironment.current != nil, BrowserEnvironment.skipReason),
    .enabled(if: PeerEnvironment.current?.siotape != nil, "SIOTAPE_BIN is not set: run tools/test")
)
struct ViewTests {
    static let samples = ["chat-acks", "job-stream", "ns-chat", "org-notify", "signalling"]
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let artifacts = root.appendingPathComponent(".build/artifacts/view")

    let environment = PeerEnvironment.current!
    let browser = BrowserEnvironment.current!
    var siotape: String { self.environment.siotape! }

    @Test("view and the HTML report show what inspect shows, a filter in the URL survives a reload, Host and token are enforced, no credential is shown")
    func recordingsInTheBrowser() async throws {
        var tasks: [[String: Any]] = []
        var expectations: [(name: String, stats: [String: Any], session: String, packets: [[String: Any]], filter: String, filtered: Int)] = []
        var views: [Subprocess] = []
        defer { for view in views { view.terminate() } }
        for name in Self.samples {
            let path = Self.root.appendingPathComponent("recordings/\(name).siotape.gz").path
            let stats = try Self.object(try await self.run(["inspect", path, "--stats", "--format", "jsonl"]))
            let lines = try await self.run(["inspect", path, "--format", "jsonl"]).split(separator: "\n").map { try Self.object(String($0)) }
            // The session with the most paired acks (then the most packets) is drawn.
            let sio = lines.filter { $0["k"] as? String == "sio" }
            let sids = Dictionary(grouping: sio, by: { $0["sid"] as? String ?? "" })
            let session = try #require(sids.max { a, b in
                let (x, y) = (a.value.filter { $0["ack_us"] != nil }.count, b.value.filter { $0["ack_us"] != nil }.count)
                return x != y ? x < y : a.value.count < b.value.count
            }?.key)
            // A filter: the busiest client event (and its acks).
            let events = Dictionary(grouping: sio.filter { $0["dir"] as? String == "c2s" }, by: { $0["event"] as? String ?? "" })
            let event = try #require(events.filter { !$0.key.isEmpty }.max { $0.value.count < $1.value.count }?.key)
            let filter = "event=\(event.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? event)&dir=client"
            let filtered = try await self.run(["inspect", path, "--format", "jsonl", "--event", event, "--direction", "client"])
                .split(separator: "\n").count
            let view = try await self.startView([path])
            views.append(view.process)
            var task: [String: Any] = ["kind": "view", "name": name, "url": view.url, "session": session, "filter": filter]
            // Several sessions on one time axis: those that received the busiest server event.
            let broadcast = Dictionary(grouping: sio.filter { $0["dir"] as? String == "s2c" && $0["event"] != nil }, by: { $0["event"] as! String })
                .max { Set($0.value.compactMap { $0["sid"] as? String }).count < Set($1.value.compactMap { $0["sid"] as? String }).count }
            let receivers = Set(broadcast?.value.compactMap { $0["sid"] as? String } ?? []).sorted()
            if receivers.count > 1 { task["compare"] = receivers }
            tasks.append(task)
            expectations.append((name, stats, session, sids[session]!, filter, filtered))
        }
        // The static report of one recording, from file://.
        let reportPath = Self.artifacts.appendingPathComponent("chat-acks-report.html")
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let report = try await self.run(["inspect", Self.root.appendingPathComponent("recordings/chat-acks.siotape.gz").path, "--format", "html"])
        try report.write(to: reportPath, atomically: true, encoding: .utf8)
        tasks.append([
            "kind": "view", "name": "report", "url": reportPath.absoluteString, "session": expectations[0].session,
            "filter": expectations[0].filter,
        ])
        // Security: a foreign Host, and a wildcard bind without and with its token.
        let local = URL(string: tasks[0]["url"] as! String)!
        tasks.append(["kind": "http", "url": local.absoluteString + "api/meta", "host": "evil.example:\(local.port!)"])
        tasks.append(["kind": "http", "url": local.absoluteString + "api/meta", "host": "127.0.0.1:\(local.port!)"])
        let wide = try await self.startView([Self.root.appendingPathComponent("recordings/ns-chat.siotape.gz").path], listen: "0.0.0.0:0")
        views.append(wide.process)
        let token = try #require(URLComponents(string: wide.url)?.queryItems?.first { $0.name == "token" }?.value)
        let wideURL = "http://127.0.0.1:\(URL(string: wide.url)!.port!)/"
        tasks.append(["kind": "http", "url": wideURL + "api/sessions", "host": "127.0.0.1:\(URL(string: wide.url)!.port!)"])
        tasks.append(["kind": "http", "url": wideURL + "?token=\(token)", "host": "anything.example"])
        // Credentials: a recording of the secrets tests' client, redacted by default.
        let prefix = "Zq\(UInt32.random(in: 100_000...999_999))"
        let secrets = try await Self.recordSecrets(prefix: prefix, in: self.environment)
        let secretsView = try await self.startView([secrets.path])
        views.append(secretsView.process)
        tasks.append(["kind": "crawl", "url": secretsView.url])

        let results = try await self.runBrowser(tasks)
        for (i, expected) in expectations.enumerated() {
            try self.check(results[i], expected.stats, expected.session, expected.packets, expected.filtered, name: expected.name)
            if let compared = tasks[i]["compare"] as? [String] {
                #expect(results[i]["compare"] as? [String] == compared, "\(expected.name): sessions side by side")
            }
        }
        try self.check(
            results[Self.samples.count], expectations[0].stats, expectations[0].session, expectations[0].packets,
            expectations[0].filtered, name: "report")
        try Self.checkReportPlots(report: results[Self.samples.count], server: results[0])
        let http = Array(results[(Self.samples.count + 1)...])
        #expect(http[0]["status"] as? Int == 403, "a foreign Host: \(http[0])")
        #expect(http[1]["status"] as? Int == 200, "the server's own Host: \(http[1])")
        #expect(http[2]["status"] as? Int == 403, "no token on a wildcard bind: \(http[2])")
        #expect(http[3]["status"] as? Int == 200, "the token: \(http[3])")
        #expect((http[3]["set_cookie"] as? String)?.contains("HttpOnly") == true)
        let crawl = http[4]
        #expect(crawl["failure"] == nil, "\(crawl["failure"] ?? "")")
        let text = crawl["text"] as? String ?? ""
        #expect((crawl["packets"] as? Int ?? 0) > 5, "the crawl saw no packets")
        #expect(text.contains("[redacted]"), "the crawl did not see the redacted auth")
        for place in SecretsTests.places {
            #expect(!text.contains("\(prefix)-\(place)"), "\(prefix)-\(place) is shown by the view")
        }
        #expect(!text.contains("271828"), "a numeric CONNECT auth value is shown by the view")
    }

    @Test("record --ui shows each packet of a sample app's scenario within 1 s of being relayed")
    func liveView() async throws {
        let app = SampleApp.all.first { $0.name == "chat-acks" }!
        let upstream = try await app.start(in: self.environment)
        defer { upstream.terminate() }
        let recording = try temporaryRecordingURL("live-ui")
        let proxy = try await Proxy.start(upstream: upstream, recording: recording, in: self.environment, extraArguments: ["--ui", "127.0.0.1:0"])
        defer { proxy.terminate() }
        let line = try await proxy.process.stderrLine(containing: "live view at", timeout: Peers.readyTimeout)
        let url = try #require(line.split(separator: " ").last.map(String.init))
        let driver = try self.startBrowser([
            ["kind": "live", "url": url, "screenshot": Self.artifacts.appendingPathComponent("live-packets.png").path,
             "event": "message:send"]
        ])
        defer { driver.terminate() }
        let ready = try Self.object(try await driver.firstLine(timeout: .seconds(60)))
        #expect(ready["ready"] as? Bool == true, "\(ready)")
        _ = try await app.runScenario(url: proxy.url, in: self.environment)
        // The page waits until the scenario's sessions (as many as the committed sample recording of
        // the same scenario holds: the view's store may not list the last ones yet) have closed and
        // it has all their packets.
        let sample = try readRecording(Self.root.appendingPathComponent("recordings/\(app.name).siotape.gz"))
        let sessions = sample.filter { if case .sessionOpened = $0.event { true } else { false } }.count
        try #require(sessions > 1, "the sample recording of \(app.name) holds \(sessions) sessions")
        try driver.send(line: "DONE \(sessions)")
        let output = try await driver.output(timeout: .seconds(120))
        proxy.terminate()
        let records = try readRecording(recording)
        let packets = records.filter { if case .socket = $0.event { true } else { false } }
        let result = try Self.object(String(output.split(separator: "\n").last ?? ""))
        #expect(result["failure"] == nil, "\(result["failure"] ?? "")")
        let start = try #require(result["start_wall_us"] as? Int)
        let arrivals = (result["arrivals"] as? [[String: Any]] ?? []).filter { $0["k"] as? String == "sio" }
        // Following, the page fetches only the tail it can show and counts what it did not fetch (the
        // gap rows and the toolbar's counter): none here, every packet must be in the list.
        #expect(result["skipped"] as? Int == 0 && result["unseen"] as? Int == 0 && result["gap_rows"] as? Int == 0,
                "the page did not fetch every packet: \(result["unseen_text"] ?? "")")
        try #require(arrivals.count == packets.count, "the page received \(arrivals.count) of \(packets.count) packets")
        // The page's clock and the recording's are the same machine's wall clock: each packet's
        // delay is when the list was first drawn with it less when the proxy relayed it.
        var delays: [Int] = []
        for (arrival, record) in zip(arrivals, packets) {
            let t = try #require(arrival["t"] as? Int)
            #expect(Int64(t) == record.time, "the page shows the packets in the recording's order")
            let at = try #require(arrival["at"] as? Int)
            let drawn = try #require(arrival["drawn"] as? Int, "packet at \(t) µs was received but never drawn")
            #expect(drawn >= at)
            delays.append(drawn * 1000 - (start + t))
        }
        let worst = delays.max() ?? 0
        #expect(worst < 1_000_000, "a packet reached the page \(worst / 1000) ms after it was relayed")
        #expect(delays.allSatisfy { $0 > -50_000 }, "the page saw a packet before it was relayed: clocks disagree")
        // The event filter typed once the proxy was quiet: the list holds the packets inspect shows for it.
        let expected = try await self.run(["inspect", recording.path, "--event", "message:send", "--format", "jsonl"])
            .split(separator: "\n").count
        let filtered = result["filtered"] as? [String: Any] ?? [:]
        #expect(filtered["count"] as? String == "\(expected) packets" && expected > 0, "event=message:send: \(filtered)")
        #expect((filtered["events"] as? [String] ?? []).allSatisfy { $0 == "message:send" }, "event=message:send: \(filtered)")
    }

    @Test("view of 10,000 sessions: the list counts them all, holds a screenful of rows, scrolls to the last, filters from the URL and draws the last one's diagram")
    func tenThousandSessions() async throws {
        // 10,000 sessions of 2 to 4 Socket.IO or Engine.IO packets each (~100,000 records), generated here
        // (the generator's default seed: the same file every time).
        let path = try temporaryRecordingURL("many-sessions").path
        let sidsPath = path + ".sids"
        let generator = try Subprocess(
            name: "gen_recording.py", executable: self.environment.python5,
            arguments: [Self.root.appendingPathComponent("tools/bench/gen_recording.py").path, path, "--sessions", "10000",
                        "--session-packets", "2", "4", "--sids", sidsPath])
        _ = try await generator.output(timeout: .seconds(120))
        let stats = try Self.object(try await self.run(["inspect", path, "--stats", "--format", "jsonl"]))
        let count = try #require((stats["sessions"] as? [String: Any])?["count"] as? Int)
        #expect(count == 10_000, "inspect --stats counts \(count) sessions")
        // The sids in the order the sessions started (the list's default order), as the generator wrote
        // them (`inspect --list-sessions` gives the same, but takes seconds in a debug build).
        let sids = try String(contentsOfFile: sidsPath, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(sids.count == count)
        let last = try #require(sids.last)
        let lastPackets = try await self.run(["inspect", path, "--session", last, "--format", "jsonl"]).split(separator: "\n")
            .filter { $0.contains("\"k\":\"sio\"") }.count
        // A one-character sid prefix: about 1/64 of the sessions, more than a screenful.
        let prefix = String(last.prefix(1))
        let filtered = sids.filter { $0.hasPrefix(prefix) }.count
        let view = try await self.startView([path])
        defer { view.process.terminate() }
        let results = try await self.runBrowser([["kind": "many", "url": view.url, "last": last, "prefix": prefix]])
        let result = results[0]
        #expect(result["failure"] == nil, "\(result["failure"] ?? "")")
        #expect((result["errors"] as? [String] ?? []).isEmpty, "page errors \(result["errors"] ?? "")")
        let top = result["top"] as? [String: Any] ?? [:], end = result["end"] as? [String: Any] ?? [:]
        #expect(top["count"] as? String == "\(count) sessions", "the list says \(top["count"] ?? "")")
        #expect(top["first_sid"] as? String == sids.first)
        // Virtualised: a screenful of rows (and a few more) in the DOM, at the top and at the end.
        for (place, state) in [("top", top), ("end", end)] {
            let rows = state["dom_rows"] as? Int ?? .max
            #expect(rows > 10 && rows < 200, "\(rows) table rows in the DOM at the \(place) of \(count) sessions")
        }
        // Scrolled to the bottom: the last rows are the last sessions, in order, and the last is in view.
        #expect(end["last_sid"] as? String == last, "the end of the list shows \(end["last_sid"] ?? "nil"), not \(last)")
        let shown = end["sids"] as? [String] ?? []
        #expect(shown == Array(sids.suffix(shown.count)), "the rows at the end are not the last sessions")
        #expect(end["last_in_view"] as? Bool == true, "the last session's row is not in view")
        // session=PREFIX in the URL: the list narrows to the sessions whose sid starts with it.
        let narrowed = result["filtered"] as? [String: Any] ?? [:]
        #expect(narrowed["count"] as? String == "\(filtered) sessions", "session=\(prefix): \(narrowed["count"] ?? "")")
        #expect((narrowed["sids"] as? [String] ?? []).allSatisfy { $0.hasPrefix(prefix) })
        #expect(narrowed["first_sid"] as? String == sids.first { $0.hasPrefix(prefix) } && filtered > 1)
        // The last session's diagram: one arrow per Socket.IO packet.
        let arrows = (result["diagram"] as? [String: Any])?["arrows"] as? [[String: Any]] ?? []
        #expect(arrows.count == lastPackets && lastPackets > 0, "\(arrows.count) arrows for the \(lastPackets) packets of \(last)")
        #expect(arrows.allSatisfy { $0["sid"] as? String == last })
    }

    // MARK: Checks

    /// The report's plots follow its filters: under the same filter they are the server's (events,
    /// buckets, counts, latency bins; percentiles are exact in the report, within 0.4% on the
    /// server), and they are not the unfiltered plots.
    static func checkReportPlots(report: [String: Any], server: [String: Any]) throws {
        let reportPlots = try #require(report["plots"] as? [[String: Any]], "report plots")
        let serverPlots = try #require(server["plots"] as? [[String: Any]], "server plots")
        func shape(_ plots: [String: Any]) -> String {
            let rate = (plots["rate"] as? [[String: Any]] ?? []).map { "\($0["event"] ?? "other"):\($0["counts"] ?? "")" }
            let latency = (plots["latency"] as? [[String: Any]] ?? []).map { "\($0["event"] ?? ""):\($0["count"] ?? 0):\($0["bins"] ?? "")" }
            return "start \(plots["start_us"] ?? "") bucket \(plots["bucket_us"] ?? "") rate \(rate) latency \(latency.sorted())"
        }
        #expect(shape(reportPlots[0]) == shape(serverPlots[0]), "the report's filtered plots are the server's")
        #expect(shape(reportPlots[1]) == shape(serverPlots[1]), "the report's plots are the server's")
        #expect(shape(reportPlots[0]) != shape(reportPlots[1]), "the report's plots do not follow the filter")
    }

    private func check(
        _ result: [String: Any], _ stats: [String: Any], _ session: String, _ packets: [[String: Any]], _ filtered: Int,
        name: String
    ) throws {
        #expect(result["failure"] == nil, "\(name): \(result["failure"] ?? "")")
        #expect((result["errors"] as? [String] ?? []).isEmpty, "\(name): page errors \(result["errors"] ?? "")")
        // The session list adds up to inspect --stats.
        let rows = result["sessions"] as? [[String: Any]] ?? []
        let sessions = stats["sessions"] as? [String: Any] ?? [:]
        #expect(rows.count == sessions["count"] as? Int, "\(name): \(rows.count) sessions listed")
        var transports: [String: Int] = [:]
        for row in rows { transports[row["transport"] as? String ?? "", default: 0] += 1 }
        #expect(transports == sessions["transports"] as? [String: Int], "\(name): transports \(transports)")
        let sio = stats["sio"] as? [String: [String: Int]] ?? [:]
        #expect(rows.reduce(0) { $0 + ($1["c2s"] as? Int ?? 0) } == sio["c2s"]?["packets"], "\(name): c2s packets")
        #expect(rows.reduce(0) { $0 + ($1["s2c"] as? Int ?? 0) } == sio["s2c"]?["packets"], "\(name): s2c packets")
        // The diagram: one arrow per packet of the session, every paired ack joined to its event.
        let diagram = result["diagram"] as? [String: Any] ?? [:]
        let arrows = diagram["arrows"] as? [[String: Any]] ?? []
        #expect(arrows.count == packets.count, "\(name): \(arrows.count) arrows for \(packets.count) packets of \(session)")
        #expect(arrows.allSatisfy { $0["sid"] as? String == session })
        let bySeq = Dictionary(arrows.map { ($0["seq"] as? Int ?? -1, $0) }, uniquingKeysWith: { a, _ in a })
        let links = Set((diagram["links"] as? [[String: Int]] ?? []).map { "\($0["event"]!)>\($0["ack"]!)" })
        let acks = arrows.filter { ($0["type"] as? String ?? "").hasSuffix("ACK") && ($0["pair"] as? Int ?? -1) >= 0 }
        #expect(acks.count == packets.filter { $0["ack_us"] != nil }.count, "\(name): \(acks.count) acks joined")
        for ack in acks {
            let event = bySeq[ack["pair"] as! Int]
            let eventType = event?["type"] as? String ?? ""
            #expect(eventType.hasSuffix("EVENT"), "\(name): an ack joined to \(eventType)")
            #expect(event?["dir"] as? String != ack["dir"] as? String)
            #expect(links.contains("\(ack["pair"]!)>\(ack["seq"]!)"), "\(name): no link drawn for ack \(ack)")
        }
        // The filter in the URL, before and after a reload.
        let lists = result["filtered"] as? [[String: Any]] ?? []
        #expect(lists.count == 2)
        if lists.count == 2 {
            #expect(lists[0]["count"] as? String == "\(filtered) packets", "\(name): \(lists[0]["count"] ?? "")")
            #expect(lists[1]["count"] as? String == lists[0]["count"] as? String)
            #expect(lists[1]["seqs"] as? [Int] == lists[0]["seqs"] as? [Int])
            #expect((lists[1]["form"] as? [String: String])?["dir"] == "client")
        }
    }

    // MARK: Processes

    private func run(_ arguments: [String]) async throws -> String {
        let process = try Subprocess(name: "siotape \(arguments[0])", executable: self.siotape, arguments: arguments)
        return try await process.output(timeout: .seconds(60))
    }

    private func startView(_ paths: [String], listen: String = "127.0.0.1:0") async throws -> (process: Subprocess, url: String) {
        let process = try Subprocess(name: "siotape view", executable: self.siotape, arguments: ["view"] + paths + ["--listen", listen])
        let line = try await process.stderrLine(containing: " at http", timeout: Peers.readyTimeout)
        return (process, String(line.split(separator: " ").last!))
    }

    private func startBrowser(_ tasks: [[String: Any]]) throws -> Subprocess {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("siotape-view-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: tasks).write(to: file)
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        return try Subprocess(
            name: "view_browser.py", executable: self.browser.python,
            arguments: [self.environment.script("view_browser.py"), "--chromium", self.browser.chromium,
                        "--artifacts", Self.artifacts.path, file.path],
            withStdin: true)
    }

    /// All tasks in one browser; one result per task.
    private func runBrowser(_ tasks: [[String: Any]]) async throws -> [[String: Any]] {
        let driver = try self.startBrowser(tasks)
        let output = try await driver.output(timeout: .seconds(600))
        let results = try output.split(separator: "\n").map { try Self.object(String($0)) }
        try #require(results.count == tasks.count, "view_browser.py answered \(results.count) of \(tasks.count) tasks")
        return results
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text.prefix(300))")
    }

    /// One `secret_client.py` session through the proxy, as `SecretsTests` records it; the recording.
    static func recordSecrets(prefix: String, in environment: PeerEnvironment) async throws -> URL {
        let server = try await Peers.startServer(
            .sio5, in: environment, pingInterval: 2,
            extraArguments: ["--no-echo-auth", "--set-cookie", "sess=\(prefix)-setcookie"])
        defer { server.terminate() }
        let recording = try temporaryRecordingURL("view-secrets")
        let proxy = try await Proxy.start(upstream: server, recording: recording, in: environment)
        defer { proxy.terminate() }
        let client = try Subprocess(
            name: "secret_client.py", executable: environment.python5,
            arguments: [environment.script("secret_client.py"), "--url", proxy.url, "--prefix", prefix, "--transport", "default"])
        _ = try await client.output(timeout: .seconds(60))
        proxy.terminate()
        return recording
    }
}
