import NIOCore
import SIOWire

extension HARImportPlan {
    /// Puts back in order what Engine.IO itself orders, where the HAR's times say otherwise.
    ///
    /// A HAR's times are the browser's account: `startedDateTime` to the millisecond, and an answer's
    /// end (`startedDateTime` + `time`) as the network stack reported it, which on a loaded machine can
    /// be several milliseconds after the page had the answer and acted on it (Playwright's HAR of
    /// ns-chat's page under load: a handshake's answer ending 3.3 ms after the POST that carried its
    /// sid). Fed as stamped, the capture met that session before its handshake, wrote its CONNECT
    /// before its `open` record, and replay, which builds sessions from `open` records, lost the
    /// CONNECT. A request's start is what the browser did and stays; an answer that must have come
    /// before it is moved to just before it:
    ///
    /// - a request naming a sid comes after the answer that issued the sid: the handshake's answer
    ///   ends at the latest 1 µs before the session's first request;
    /// - a long-poll (GET or POST) of a session sent before the client's upgrade packet (`5`) was
    ///   answered before it: the client pauses polling, waits for its polls to end, then upgrades.
    ///
    /// Nothing else is reordered: times across sessions are left as the HAR has them.
    static func orderCausally(_ exchanges: inout [Exchange]) {
        var targets: [EngineIORequestTarget?] = []
        var firstRequest: [String: Int64] = [:]
        var upgrade: [String: Int64] = [:]
        for exchange in exchanges {
            let target = EngineIORequestTarget(uri: exchange.request.uri)
            guard target.version != nil else {
                targets.append(nil)
                continue
            }
            targets.append(target)
            guard let sid = target.sid else { continue }
            firstRequest[sid] = min(firstRequest[sid] ?? .max, exchange.requestTime)
            if exchange.isWebSocket, let five = exchange.messages.first(where: \.isUpgradePacket) {
                upgrade[sid] = min(upgrade[sid] ?? .max, five.time)
            }
        }
        for n in exchanges.indices {
            guard let target = targets[n] else { continue }
            var latest: Int64?
            if target.sid == nil, let sid = exchanges[n].issuedSID(version: target.version!) {
                latest = firstRequest[sid].map { $0 - 1 }
            } else if let sid = target.sid, target.transport == .polling, let five = upgrade[sid],
                exchanges[n].requestTime < five
            {
                latest = five - 1
            }
            guard let latest, exchanges[n].responseTime > latest else { continue }
            exchanges[n].responseTime = latest
            exchanges[n].requestTime = min(exchanges[n].requestTime, latest)
            exchanges[n].closeTime = latest
        }
    }
}

extension HARImportPlan.Exchange {
    /// The sid of the `open` packet a polling handshake's answer carries, `nil` for any other entry.
    func issuedSID(version: EngineIOVersion) -> String? {
        guard !self.isWebSocket, let response, response.statusCode == 200, let body = self.responseBody?.bytes else {
            return nil
        }
        let encoding = EngineIOPayload.encoding(
            version: version, contentType: response.headers.first(name: "Content-Type"), body: body)
        guard let open = EngineIOPayload.decode(body, encoding: encoding).packets.first, open.type == .open else {
            return nil
        }
        return EngineIOHandshake(json: open.data)?.sid
    }
}

extension HARImportPlan.Message {
    /// The client's Engine.IO `upgrade` packet (`5`), sent once its polls have ended.
    var isUpgradePacket: Bool {
        self.direction == .clientToServer && self.opcode == 1 && !self.data.base64 && self.data.text == "5"
    }
}
