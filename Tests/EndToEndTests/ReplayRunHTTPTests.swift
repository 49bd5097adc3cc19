import Foundation
import Testing

/// `replay run --http` against the sample apps whose recordings hold their plain HTTP exchanges
/// with bodies: the requests go out in timeline order with the packets (job-stream's
/// `POST /api/ingest` before `join_execution`, against a fresh app with nothing set up), and the
/// changed mode of the app's REST endpoint is reported naming the request.
@Suite(
    "siotape replay run --http against the sample apps",
    .serialized,
    .enabled(if: PeerEnvironment.current != nil, PeerEnvironment.skipReason)
)
struct ReplayRunHTTPTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var app: String
        /// The secrets the recorded requests need (org-notify: the passwords of its logins).
        var secrets: [String]
        /// `SIOTAPE_APP_CHANGE` of the REST endpoint, and what the report must say.
        var change: String
        var requests: [String]
        var mentions: String
        var testDescription: String { self.app }
        var recording: String { repositoryRoot() + "/recordings/\(self.app).siotape.gz" }
        var sampleApp: SampleApp { SampleApp.all.first { $0.name == self.app }! }
        var requestCount: Int { self.app == "ns-chat" ? 3 : 5 }
    }

    static let cases = [
        Case(
            app: "job-stream", secrets: [], change: "ingest",
            requests: ["http #0 POST /api/ingest", "http #1 POST /api/ingest"], mentions: "status: recorded 201, received 202"),
        Case(
            app: "org-notify",
            // a wrong password first (request 0), then each user's own (1-3)
            secrets: [
                "--secret", "password=guess", "--secret", "1:password=alice-password", "--secret",
                "2:password=bob-password", "--secret", "3:password=carol-password",
            ],
            change: "login", requests: ["http #0 POST /api/login"],
            mentions: #"body $.error: recorded "bad credentials", received "wrong password""#),
        // The page, its script and the server-rendered status page; HTML compared byte for byte.
        Case(
            app: "ns-chat", secrets: [], change: "status", requests: ["http #2 GET /status"],
            mentions: "body differs at byte 85: recorded 170 bytes"),
    ]

    @Test("Against a fresh app the run, HTTP requests included, finds no difference", arguments: cases)
    func identical(_ c: Case) async throws {
        let environment = try #require(PeerEnvironment.current)
        let app = try await launchApp(c.sampleApp, change: nil, in: environment)
        defer { app.terminate() }
        let run = try await replayRun(c.recording, target: app.url, arguments: ["--http"] + c.secrets, in: environment)
        #expect(run.status == 0, "replay run --http reported differences:\n\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.isEmpty)
        let answered = run.stderr.split(separator: "\n").filter { $0.hasPrefix("http #") && $0.hasSuffix(", ok") }
        #expect(answered.count == c.requestCount, "\(run.stderr)")
    }

    @Test("The changed REST endpoint is reported naming the request, in stdout and JUnit; nothing else differs", arguments: cases)
    func changed(_ c: Case) async throws {
        let environment = try #require(PeerEnvironment.current)
        let app = try await launchApp(c.sampleApp, change: c.change, in: environment)
        defer { app.terminate() }
        let report = try temporaryRecordingURL("\(c.app)-http-junit").deletingLastPathComponent()
            .appendingPathComponent("junit-http.xml")
        let run = try await replayRun(
            c.recording, target: app.url, arguments: ["--http", "--fast", "--report", report.path] + c.secrets,
            in: environment)
        #expect(run.status == 1, "expected exit 1:\n\(run.stdout)\n\(run.stderr)")
        let titles = run.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") && !$0.isEmpty }
        #expect(titles.map { String($0.prefix { $0 != ":" }) } == c.requests, "\(run.stdout)")
        #expect(titles.allSatisfy { $0.contains(": changed — ") && $0.contains(c.mentions) }, "\(run.stdout)")
        let junit = try JUnitSummary(contentsOf: report)
        #expect(junit.testcases.filter { $0.failure != nil }.map(\.name) == c.requests)
        #expect(junit.testcases.filter { $0.name.hasPrefix("http #") }.count == c.requestCount)
    }

    @Test("A redacted password that nothing fills stops the run before it starts, naming the requests")
    func missingSecret() async throws {
        let environment = try #require(PeerEnvironment.current)
        let c = Self.cases[1]
        let run = try await replayRun(c.recording, target: "http://127.0.0.1:1", arguments: ["--http"], in: environment)
        #expect(run.status == 2)
        #expect(run.stderr.contains("http #0 POST /api/login: password; http #1 POST /api/login: password"), "\(run.stderr)")
    }
}
