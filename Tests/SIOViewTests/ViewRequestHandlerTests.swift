import Testing

@testable import SIOView

/// The decisions of the view's server, without a socket: DNS rebinding, the token, routes.
struct ViewRequestHandlerTests {
    let local = ViewRequestHandler(boundHost: "127.0.0.1", port: 8090, token: nil)

    func status(_ decision: ViewDecision) -> Int {
        switch decision {
        case .reject(let status, _): return status
        default: return 200
        }
    }

    @Test func aLoopbackServerAnswersOnlyToItsOwnAddress() {
        for host in ["127.0.0.1:8090", "localhost:8090", "LOCALHOST:8090", "[::1]:8090"] {
            #expect(self.status(self.local.decide(ViewRequest(method: "GET", uri: "/", host: host))) == 200, "\(host)")
        }
        // A rebinding attacker's name, another port, no Host at all.
        for host in ["evil.example:8090", "127.0.0.1:9999", "127.0.0.1", "localhost.evil.example:8090"] {
            #expect(self.status(self.local.decide(ViewRequest(method: "GET", uri: "/api/meta", host: host))) == 403, "\(host)")
        }
        #expect(self.status(self.local.decide(ViewRequest(method: "GET", uri: "/", host: nil))) == 403)
    }

    @Test func aNonLoopbackServerNeedsItsToken() {
        let wide = ViewRequestHandler(boundHost: "0.0.0.0", port: 8090, token: "abc123")
        #expect(self.status(wide.decide(ViewRequest(method: "GET", uri: "/", host: "10.0.0.5:8090"))) == 403)
        #expect(self.status(wide.decide(ViewRequest(method: "GET", uri: "/?token=wrong", host: "10.0.0.5:8090"))) == 403)
        guard case .asset(.index, let cookie?) = wide.decide(ViewRequest(method: "GET", uri: "/?token=abc123", host: "10.0.0.5:8090"))
        else {
            Issue.record("the token in the URL opens the page and sets the cookie")
            return
        }
        #expect(cookie.hasPrefix("siotape_token=abc123;") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        // Then the page's own requests carry the cookie.
        let withCookie = ViewRequest(method: "GET", uri: "/api/sessions", host: "10.0.0.5:8090", cookie: "a=b; siotape_token=abc123")
        #expect(self.status(wide.decide(withCookie)) == 200)
        let wrongCookie = ViewRequest(method: "GET", uri: "/api/sessions", host: "10.0.0.5:8090", cookie: "siotape_token=abc124")
        #expect(self.status(wide.decide(wrongCookie)) == 403)
        // A specific address: the Host must name it too.
        let lan = ViewRequestHandler(boundHost: "192.168.1.20", port: 8090, token: "t")
        #expect(self.status(lan.decide(ViewRequest(method: "GET", uri: "/?token=t", host: "192.168.1.20:8090"))) == 200)
        #expect(self.status(lan.decide(ViewRequest(method: "GET", uri: "/?token=t", host: "evil.example:8090"))) == 403)
    }

    @Test func routes() {
        func decide(_ uri: String, method: String = "GET") -> ViewDecision {
            self.local.decide(ViewRequest(method: method, uri: uri, host: "127.0.0.1:8090"))
        }
        #expect(self.status(decide("/", method: "POST")) == 405)
        #expect(self.status(decide("/nothing")) == 404)
        #expect(self.status(decide("/api/nothing")) == 404)
        #expect(self.status(decide("/api/packets?dir=sideways")) == 400)
        #expect(self.status(decide("/api/packets?since=yesterday")) == 400)
        guard case .api(.packets, let query, nil) = decide("/api/packets?event=chat%3A*&event=ping&dir=client&text=a+b&offset=200&limit=99999")
        else {
            Issue.record("packets route")
            return
        }
        #expect(query.filter.events == ["chat:*", "ping"])
        #expect(query.filter.direction == .clientToServer)
        #expect(query.filter.grep == "a b")
        #expect(query.offset == 200 && query.limit == ViewQuery.maxLimit)
        guard case .poll(let live) = decide("/api/live?after=42") else {
            Issue.record("live route")
            return
        }
        #expect(live.after == 42)
        guard case .asset(.script, _) = decide("/app.js") else {
            Issue.record("script")
            return
        }
    }

    @Test func tokensAreLongAndDiffer() {
        let a = ViewRequestHandler.makeToken()
        #expect(a.count == 32 && a.allSatisfy(\.isHexDigit))
        #expect(a != ViewRequestHandler.makeToken())
    }
}
