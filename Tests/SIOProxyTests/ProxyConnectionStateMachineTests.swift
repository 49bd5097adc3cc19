import NIOCore
import NIOHTTP1
import SIOWire
import Testing

@testable import SIOProxy

/// The proxy's connection logic as sequences of events and the actions they return, with no channel.
@Suite struct ProxyConnectionStateMachineTests {
    typealias Machine = ProxyConnectionStateMachine

    static let upgradeRequest =
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    static let forwardedUpgradeRequest =
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "X-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n"
    static let switching =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    /// A masked client text frame `40`.
    static let clientFrame = ByteBuffer(bytes: [0x81, 0x82, 1, 2, 3, 4, UInt8(ascii: "4") ^ 1, UInt8(ascii: "0") ^ 2])
    /// A server text frame `40`.
    static let serverFrame = ByteBuffer(bytes: [0x81, 0x02, UInt8(ascii: "4"), UInt8(ascii: "0")])

    /// A machine whose two channels are up.
    static func connected() throws -> Machine {
        var machine = Machine(
            configuration: ProxyConfiguration(upstream: try UpstreamURL("http://127.0.0.1:5000")), clientIP: "10.0.0.7")
        #expect(machine.channelActive(.client) == [.resumeReading(.upstream)])
        #expect(machine.channelActive(.upstream) == [.resumeReading(.client)])
        return machine
    }

    /// A machine whose connection the upstream has switched to WebSocket.
    static func webSocket() throws -> Machine {
        var machine = try Self.connected()
        _ = machine.received(ByteBuffer(string: Self.upgradeRequest), from: .client)
        _ = machine.received(ByteBuffer(string: Self.switching), from: .upstream)
        try #require(machine.isWebSocket)
        return machine
    }

    static func requestHead(_ raw: String) throws -> HTTPHead {
        var parser = HTTP1StreamParser(role: .request)
        var head: HTTPHead?
        parser.parse(ByteBuffer(string: raw)) { if case .head(let parsed) = $0 { head = parsed } }
        return try #require(head)
    }

    static func responseHead(_ raw: String) throws -> HTTPHead {
        var parser = HTTP1StreamParser(role: .response)
        parser.expectResponse(to: .GET)
        var head: HTTPHead?
        parser.parse(ByteBuffer(string: raw)) { if case .head(let parsed) = $0 { head = parsed } }
        return try #require(head)
    }

    @Test func theClientIsNotReadUntilTheUpstreamIsConnectedAndCanTakeMore() throws {
        var machine = Machine(
            configuration: ProxyConfiguration(upstream: try UpstreamURL("http://127.0.0.1:5000")), clientIP: "10.0.0.7")
        #expect(machine.channelActive(.client) == [.resumeReading(.upstream)])
        #expect(!machine.mayRead(.client, partnerWritable: true))
        #expect(machine.channelActive(.upstream) == [.resumeReading(.client)])
        #expect(machine.mayRead(.client, partnerWritable: true))
        #expect(!machine.mayRead(.client, partnerWritable: false))
        #expect(!machine.mayRead(.upstream, partnerWritable: false))
        #expect(machine.writabilityChanged(.upstream) == [.resumeReading(.client)])
    }

    @Test func aRequestIsTappedThenForwardedWithItsForwardedLinesAndFlushedAtTheEndOfTheRead() throws {
        var machine = try Self.connected()
        let raw = "POST /socket.io/?EIO=4&transport=polling&sid=s1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n40"
        let head = try Self.requestHead(raw)
        #expect(
            machine.received(ByteBuffer(string: raw), from: .client) == [
                .tap(.requestHead(head)),
                .write(
                    ByteBuffer(
                        string: "POST /socket.io/?EIO=4&transport=polling&sid=s1 HTTP/1.1\r\nHost: h\r\n"
                            + "Content-Length: 2\r\nX-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: http\r\n"
                            + "X-Forwarded-Host: h\r\n\r\n"),
                    to: .upstream),
                .write(ByteBuffer(string: "40"), to: .upstream),
                .tap(.requestBody(ByteBuffer(string: "40"))),
                .tap(.requestEnd),
            ])
        #expect(machine.readComplete(.client) == [.flush(.upstream)])
    }

    @Test func webSocketBytesAreRelayedAndFlushedBeforeTheTapSeesThem() throws {
        var machine = try Self.webSocket()
        #expect(
            machine.received(Self.clientFrame, from: .client) == [
                .write(Self.clientFrame, to: .upstream), .flush(.upstream),
                .tap(.webSocketBytes(Self.clientFrame, .clientToServer)),
            ])
        #expect(
            machine.received(Self.serverFrame, from: .upstream) == [
                .write(Self.serverFrame, to: .client), .flush(.client),
                .tap(.webSocketBytes(Self.serverFrame, .serverToClient)),
            ])
    }

    /// A WebSocket read was flushed as it was relayed: the end of the read flushes nothing more
    /// (a second flush was a pass through the pipeline per read for nothing).
    @Test func theEndOfAWebSocketReadDoesNotFlushAgain() throws {
        var machine = try Self.webSocket()
        _ = machine.received(Self.clientFrame, from: .client)
        #expect(machine.readComplete(.client) == [])
        _ = machine.received(Self.serverFrame, from: .upstream)
        #expect(machine.readComplete(.upstream) == [])
    }

    /// The machine is the one place that decides whether the connection is a WebSocket; the tap is
    /// told so by the action for the `101` (`webSocketAccepted`) and does not judge the upgrade itself.
    @Test func theUpgradeIsTheOnlyPlaceTheConnectionBecomesAWebSocket() throws {
        var machine = try Self.connected()
        _ = machine.received(ByteBuffer(string: Self.upgradeRequest), from: .client)
        // Asked, not yet granted: frames would still be HTTP bytes.
        #expect(!machine.isWebSocket)
        let head = try Self.responseHead(Self.switching)
        #expect(
            machine.received(ByteBuffer(string: Self.switching), from: .upstream) == [
                .write(ByteBuffer(string: Self.switching), to: .client), .tap(.webSocketAccepted(head)),
                .tap(.responseEnd),
            ])
        #expect(machine.isWebSocket)
    }

    @Test func aSwitchToAnotherProtocolIsRelayedButNotTapped() throws {
        var machine = try Self.connected()
        _ = machine.received(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\n"), from: .client)
        let switching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"
        // The tap hears of a plain 101, not of a WebSocket: it records the exchange and decodes nothing.
        #expect(
            machine.received(ByteBuffer(string: switching), from: .upstream) == [
                .write(ByteBuffer(string: switching), to: .client), .tap(.responseHead(try Self.responseHead(switching))),
                .tap(.responseEnd),
            ])
        #expect(!machine.isWebSocket)
        let bytes = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        #expect(machine.received(bytes, from: .client) == [.write(bytes, to: .upstream)])
    }

    /// The client sent a frame before the upstream's `101`: it is relayed and flushed once the 101
    /// has been parsed, as actions after the parser returned. The flush failing and the upstream
    /// closing (the re-entry that trapped before e8fc73c) is one more event afterwards.
    @Test func bytesHeldBeforeThe101AreRelayedFlushedAndTappedAfterIt() throws {
        var machine = try Self.connected()
        var early = ByteBuffer(string: Self.upgradeRequest)
        early.writeImmutableBuffer(Self.clientFrame)
        let forwarded = machine.received(early, from: .client)
        // The head is forwarded; the frame is held: until the upstream answers it is not known to be one.
        #expect(forwarded.count == 3)
        #expect(forwarded[1] == .write(ByteBuffer(string: Self.forwardedUpgradeRequest), to: .upstream))
        let head = try Self.responseHead(Self.switching)
        #expect(
            machine.received(ByteBuffer(string: Self.switching), from: .upstream) == [
                .write(ByteBuffer(string: Self.switching), to: .client), .tap(.webSocketAccepted(head)),
                .write(Self.clientFrame, to: .upstream), .flush(.upstream),
                .tap(.webSocketBytes(Self.clientFrame, .clientToServer)), .tap(.responseEnd),
            ])
        #expect(machine.channelInactive(.upstream) == [.close(.client)])
        #expect(machine.channelInactive(.client) == [.close(.upstream), .tap(.connectionClosed(cause: "upstream")), .release])
    }

    /// 96df9de flushed inside the parser's callback; a flush that closed the channel re-entered the
    /// parser. Now the close arrives as an event between two reads, and the bytes read before it
    /// are already relayed.
    @Test func aCloseBetweenTheFlushAndTheTapOfAFrameLeavesTheMachineConsistent() throws {
        var machine = try Self.webSocket()
        let actions = machine.received(Self.serverFrame, from: .upstream)
        #expect(actions.prefix(2) == [.write(Self.serverFrame, to: .client), .flush(.client)])
        // The client's socket failed inside that flush.
        #expect(machine.errorCaught(.reset, on: .client) == [])
        #expect(machine.channelInactive(.client) == [.resetAfterPendingWrites(.upstream)])
        // A frame still in flight from the upstream is relayed (to a closed channel: the write is dropped).
        #expect(machine.received(Self.serverFrame, from: .upstream).first == .write(Self.serverFrame, to: .client))
        #expect(
            machine.channelInactive(.upstream) == [
                .close(.client), .tap(.connectionClosed(cause: "client reset")), .release,
            ])
    }

    @Test func aHalfCloseIsPassedOnAndTheConnectionFinishesOnceBothSidesAreGone() throws {
        var machine = try Self.connected()
        _ = machine.received(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), from: .client)
        #expect(machine.inputClosed(.client) == [.closeOutput(.upstream)])
        let raw = "HTTP/1.1 200 OK\r\n\r\nuntil close"
        let head = try Self.responseHead(raw)
        #expect(
            machine.received(ByteBuffer(string: raw), from: .upstream) == [
                .write(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n"), to: .client), .tap(.responseHead(head)),
                .write(ByteBuffer(string: "until close"), to: .client),
                .tap(.responseBody(ByteBuffer(string: "until close"))),
            ])
        // The body delimited by the close ends with the upstream's half-close, once.
        #expect(machine.inputClosed(.upstream) == [.tap(.responseEnd), .closeOutput(.client)])
        #expect(machine.channelInactive(.upstream) == [.close(.client)])
        #expect(machine.channelInactive(.client) == [.close(.upstream), .tap(.connectionClosed(cause: "client")), .release])
        // Finished once.
        #expect(machine.channelInactive(.client) == [.close(.upstream)])
    }

    /// A WebSocket closing handshake in which the upstream sends its close frame and its FIN before
    /// the client's close frame has arrived: the client is half-closed, not closed, and what it sends
    /// after that still reaches the upstream (the frame a byte-transparency run once missed upstream
    /// was its tee's doing, not this).
    @Test func aWebSocketClientKeepsSendingAfterTheUpstreamHalfClosed() throws {
        var machine = try Self.webSocket()
        let serverClose = ByteBuffer(bytes: [0x88, 0x02, 0x03, 0xE8])
        #expect(
            machine.received(serverClose, from: .upstream) == [
                .write(serverClose, to: .client), .flush(.client),
                .tap(.webSocketBytes(serverClose, .serverToClient)),
            ])
        #expect(machine.inputClosed(.upstream) == [.closeOutput(.client)])
        let clientClose = ByteBuffer(bytes: [0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2])
        #expect(
            machine.received(clientClose, from: .client) == [
                .write(clientClose, to: .upstream), .flush(.upstream),
                .tap(.webSocketBytes(clientClose, .clientToServer)),
            ])
        #expect(machine.mayRead(.client, partnerWritable: true))
        #expect(machine.inputClosed(.client) == [.closeOutput(.upstream)])
        #expect(machine.channelInactive(.upstream) == [.close(.client)])
        #expect(
            machine.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "upstream")), .release,
            ])
    }

    /// A client that sends its request and half-closes at once: NIO reads a socket's input to its end
    /// as soon as it sees the FIN, whatever the relay's backpressure says, so the request and the
    /// half-close can both come before the upstream connection is made. Nothing may go to the upstream
    /// channel before then (there is none to write to: the bytes were lost and the upstream waited
    /// for a request that never came); once it is up it gets the request, then the FIN.
    @Test func aRequestAndHalfCloseBeforeTheUpstreamConnectedAreRelayedOnceItIs() throws {
        var machine = Machine(
            configuration: ProxyConfiguration(upstream: try UpstreamURL("http://127.0.0.1:5000")), clientIP: "10.0.0.7")
        _ = machine.channelActive(.client)
        let raw = "GET /socket.io/?EIO=4&transport=polling&sid=half HTTP/1.1\r\nHost: h\r\n\r\n"
        let head = try Self.requestHead(raw)
        #expect(
            machine.received(ByteBuffer(string: raw), from: .client) == [.tap(.requestHead(head)), .tap(.requestEnd)])
        #expect(machine.readComplete(.client) == [])
        #expect(machine.inputClosed(.client) == [])
        let forwarded = ByteBuffer(
            string: "GET /socket.io/?EIO=4&transport=polling&sid=half HTTP/1.1\r\nHost: h\r\n"
                + "X-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n")
        #expect(
            machine.channelActive(.upstream) == [
                .write(forwarded, to: .upstream), .flush(.upstream), .closeOutput(.upstream), .resumeReading(.client),
            ])
        // From here on the connection is as any other.
        let answer = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n42[\"half\"]"
        let actions = machine.received(ByteBuffer(string: answer), from: .upstream)
        #expect(actions.first == .write(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), to: .client))
        #expect(actions.last == .tap(.responseEnd))
        #expect(machine.readComplete(.upstream) == [.flush(.client)])
    }

    /// The client sent a request and left (reset or closed) before the upstream connection was made:
    /// the upstream still gets what was sent, then the end: a reset if the client reset, else a close.
    @Test(arguments: [true, false])
    func aClientGoneBeforeTheUpstreamConnectedStillHasItsBytesRelayed(reset: Bool) throws {
        var machine = Machine(
            configuration: ProxyConfiguration(upstream: try UpstreamURL("http://127.0.0.1:5000")), clientIP: "10.0.0.7")
        _ = machine.channelActive(.client)
        _ = machine.received(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), from: .client)
        if reset {
            #expect(machine.errorCaught(.reset, on: .client) == [])
        }
        #expect(machine.channelInactive(.client) == [])
        #expect(
            machine.channelActive(.upstream) == [
                .write(
                    ByteBuffer(
                        string: "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.7\r\n"
                            + "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n"),
                    to: .upstream),
                .flush(.upstream), reset ? .resetAfterPendingWrites(.upstream) : .close(.upstream),
            ])
        #expect(
            machine.channelInactive(.upstream) == [
                .close(.client), .tap(.connectionClosed(cause: reset ? "client reset" : "client")), .release,
            ])

        // Nothing sent: the upstream connection is closed at once, as before.
        var empty = Machine(
            configuration: ProxyConfiguration(upstream: try UpstreamURL("http://127.0.0.1:5000")), clientIP: "10.0.0.7")
        _ = empty.channelActive(.client)
        #expect(empty.channelInactive(.client) == [])
        #expect(empty.channelActive(.upstream) == [.closeNow(.upstream)])

        // Nothing sent and a reset: the upstream is reset, as it would have been by the client.
        var resetEmpty = Machine(
            configuration: ProxyConfiguration(upstream: try UpstreamURL("http://127.0.0.1:5000")), clientIP: "10.0.0.7")
        _ = resetEmpty.channelActive(.client)
        #expect(resetEmpty.errorCaught(.reset, on: .client) == [])
        #expect(resetEmpty.channelInactive(.client) == [])
        #expect(resetEmpty.channelActive(.upstream) == [.resetAfterPendingWrites(.upstream)])
    }

    // MARK: - Resets

    /// A reset is passed on as a reset, after the bytes read before it: on a WebSocket those were
    /// relayed and flushed as they were read, and the partner's reset waits for them to go out.
    @Test func aWebSocketPeerThatResetsGetsItsPartnerResetAfterWhatItSent() throws {
        var machine = try Self.webSocket()
        #expect(machine.received(Self.serverFrame, from: .upstream).prefix(2) == [
            .write(Self.serverFrame, to: .client), .flush(.client),
        ])
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        #expect(machine.channelInactive(.upstream) == [.resetAfterPendingWrites(.client)])
        // NIO reports the end of the read after the channel closed: nothing is left to flush.
        #expect(machine.readComplete(.upstream) == [])
        #expect(
            machine.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "upstream reset")), .release,
            ])

        // The other way: half a frame from the client, then its reset.
        var other = try Self.webSocket()
        let half = Self.clientFrame.getSlice(at: 0, length: 5)!
        #expect(other.received(half, from: .client).prefix(2) == [.write(half, to: .upstream), .flush(.upstream)])
        #expect(other.errorCaught(.reset, on: .client) == [])
        #expect(other.channelInactive(.client) == [.resetAfterPendingWrites(.upstream)])
        #expect(
            other.channelInactive(.upstream) == [
                .close(.client), .tap(.connectionClosed(cause: "client reset")), .release,
            ])
    }

    /// On HTTP the bytes of a read are flushed at its end, which NIO reports after the reset; and a
    /// head the parser still held is released when the input ends. Both are written before the reset,
    /// which flushes them on its way out.
    @Test func anHTTPUpstreamThatResetsMidResponseGetsTheClientResetAfterEveryByteItSent() throws {
        var machine = try Self.connected()
        _ = machine.received(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), from: .client)
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart of the body"
        let relayed = machine.received(ByteBuffer(string: response), from: .upstream)
        #expect(relayed.contains(.write(ByteBuffer(string: "part of the body"), to: .client)))
        #expect(!relayed.contains(.flush(.client)))
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        let actions = machine.channelInactive(.upstream)
        #expect(actions.last == .resetAfterPendingWrites(.client))
        #expect(!actions.contains(.close(.client)))
        #expect(machine.readComplete(.upstream) == [.flush(.client)])

        // A head cut short by the reset: held by the parser until the input ended, then relayed first.
        var cut = try Self.connected()
        _ = cut.received(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), from: .client)
        #expect(cut.received(ByteBuffer(string: "HTTP/1.1 200 OK\r\nConte"), from: .upstream) == [])
        #expect(cut.errorCaught(.reset, on: .upstream) == [])
        let released = cut.channelInactive(.upstream)
        let write = released.firstIndex(of: .write(ByteBuffer(string: "HTTP/1.1 200 OK\r\nConte"), to: .client))
        let reset = released.firstIndex(of: .resetAfterPendingWrites(.client))
        #expect(write != nil && reset != nil && write! < reset!, "\(released)")
    }

    /// A peer resets while it is being written to, and the write is what finds it: NIO closes the
    /// channel without `errorCaught`, the failed write is reported just before `channelInactive`, and
    /// the reset is passed on as one found by a read is, after what the partner sent.
    @Test func aResetThatAWriteMetIsPassedOnAsAReset() throws {
        var machine = try Self.webSocket()
        #expect(machine.received(Self.serverFrame, from: .upstream).prefix(2) == [
            .write(Self.serverFrame, to: .client), .flush(.client),
        ])
        #expect(machine.errorCaught(.reset, on: .client) == [])
        #expect(machine.channelInactive(.client) == [.resetAfterPendingWrites(.upstream)])
        #expect(machine.readComplete(.upstream) == [])
        #expect(
            machine.channelInactive(.upstream) == [
                .close(.client), .tap(.connectionClosed(cause: "client reset")), .release,
            ])

        // The mirror case: a client frame relayed to an upstream that reset.
        var mirror = try Self.webSocket()
        #expect(mirror.received(Self.clientFrame, from: .client).prefix(2) == [
            .write(Self.clientFrame, to: .upstream), .flush(.upstream),
        ])
        #expect(mirror.errorCaught(.reset, on: .upstream) == [])
        #expect(mirror.channelInactive(.upstream) == [.resetAfterPendingWrites(.client)])
        #expect(
            mirror.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "upstream reset")), .release,
            ])

        // On HTTP the flush at the end of the read meets it; the upstream's input is still open.
        var http = try Self.connected()
        _ = http.received(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), from: .client)
        _ = http.received(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart"), from: .upstream)
        #expect(http.readComplete(.upstream) == [.flush(.client)])
        #expect(http.errorCaught(.reset, on: .client) == [])
        #expect(http.channelInactive(.client) == [.resetAfterPendingWrites(.upstream)])
    }

    /// A reset found by a read fails the writes still pending too, so it is reported twice: the second
    /// changes nothing.
    @Test func aResetReportedTwiceIsOneReset() throws {
        var machine = try Self.webSocket()
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        #expect(machine.channelInactive(.upstream) == [.resetAfterPendingWrites(.client)])
        #expect(
            machine.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "upstream reset")), .release,
            ])
    }

    /// Over TLS the upstream's TCP connection closing is reported by NIOSSL first (an unclean
    /// shutdown), and the write that met the reset after it: the reset is passed on and named as the
    /// end. An error alone still closes the partner with a FIN.
    @Test func aResetReportedAfterATLSErrorOfTheSameSideIsStillAReset() throws {
        var machine = try Self.webSocket()
        #expect(machine.received(Self.clientFrame, from: .client).prefix(2) == [
            .write(Self.clientFrame, to: .upstream), .flush(.upstream),
        ])
        #expect(machine.errorCaught(.tls("uncleanShutdown"), on: .upstream) == [])
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        #expect(machine.channelInactive(.upstream) == [.resetAfterPendingWrites(.client)])
        #expect(
            machine.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "upstream reset")), .release,
            ])

        var unclean = try Self.webSocket()
        #expect(unclean.errorCaught(.tls("uncleanShutdown"), on: .upstream) == [])
        #expect(unclean.channelInactive(.upstream) == [.close(.client)])
        #expect(
            unclean.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "upstream error: uncleanShutdown")), .release,
            ])

        // The client's end came first: it stays the cause, and the upstream's reset is still passed on.
        var clientFirst = try Self.webSocket()
        #expect(clientFirst.inputClosed(.client) == [.closeOutput(.upstream)])
        #expect(clientFirst.errorCaught(.tls("uncleanShutdown"), on: .upstream) == [])
        #expect(clientFirst.errorCaught(.reset, on: .upstream) == [])
        #expect(clientFirst.channelInactive(.upstream) == [.resetAfterPendingWrites(.client)])
        #expect(
            clientFirst.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "client")), .release,
            ])
    }

    /// An upstream that resets before answering: the client sees the reset, as it would without the
    /// proxy. No `502` is made up (that is for an upstream that cannot be reached, or whose TLS fails).
    @Test func anUpstreamThatResetsBeforeAnsweringResetsTheClient() throws {
        var machine = try Self.connected()
        _ = machine.received(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), from: .client)
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        #expect(machine.channelInactive(.upstream) == [.resetAfterPendingWrites(.client)])
    }

    /// The other side had half-closed (its FIN was passed on): a reset still reaches it, as a reset
    /// after the FIN it already has or on the direction it still sends on.
    @Test func aResetAfterTheOtherSideHalfClosedIsStillPassedOn() throws {
        var machine = try Self.webSocket()
        #expect(machine.inputClosed(.client) == [.closeOutput(.upstream)])
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        #expect(machine.channelInactive(.upstream) == [.resetAfterPendingWrites(.client)])
        #expect(machine.channelInactive(.client) == [.close(.upstream), .tap(.connectionClosed(cause: "client")), .release])

        // The upstream half-closed, then reset (a close with unread input resets): the client, which
        // got the FIN, gets the reset too. The cause stays the first end seen.
        var upstreamFirst = try Self.webSocket()
        #expect(upstreamFirst.inputClosed(.upstream) == [.closeOutput(.client)])
        #expect(upstreamFirst.errorCaught(.reset, on: .upstream) == [])
        #expect(upstreamFirst.channelInactive(.upstream) == [.resetAfterPendingWrites(.client)])
        #expect(
            upstreamFirst.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "upstream")), .release,
            ])
    }

    /// The other side is already gone: there is no one to pass the reset on to, and the connection
    /// finishes as any other.
    @Test func aResetAfterTheOtherSideClosedOnlyFinishesTheConnection() throws {
        var machine = try Self.webSocket()
        #expect(machine.channelInactive(.client) == [.close(.upstream)])
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        #expect(machine.channelInactive(.upstream) == [.close(.client), .tap(.connectionClosed(cause: "client")), .release])
    }

    /// Both peers reset: the first is passed on to the second (whose own reset may cross it), and the
    /// cause recorded is the first.
    @Test func bothSidesResetting() throws {
        var machine = try Self.webSocket()
        #expect(machine.errorCaught(.reset, on: .client) == [])
        #expect(machine.channelInactive(.client) == [.resetAfterPendingWrites(.upstream)])
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        #expect(
            machine.channelInactive(.upstream) == [
                .close(.client), .tap(.connectionClosed(cause: "client reset")), .release,
            ])
    }

    /// The proxy shuts down while a reset waits for pending writes to a slow peer: that side is reset
    /// at once, not closed with a FIN; a connection with no reset closes both sides as before.
    @Test func aShutdownDuringAResetResetsAtOnce() throws {
        var machine = try Self.webSocket()
        #expect(machine.errorCaught(.reset, on: .upstream) == [])
        #expect(machine.channelInactive(.upstream) == [.resetAfterPendingWrites(.client)])
        #expect(machine.shutdown() == [.resetNow(.client), .closeNow(.upstream)])
        #expect(
            machine.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "upstream reset")), .release,
            ])

        var quiet = try Self.webSocket()
        #expect(quiet.shutdown() == [.closeNow(.client), .closeNow(.upstream)])
        #expect(quiet.channelInactive(.client) == [.close(.upstream)])
        #expect(quiet.channelInactive(.upstream) == [.close(.client), .tap(.connectionClosed(cause: "client")), .release])
    }

    /// Other failures are not resets: the partner gets a FIN, as before.
    @Test func aFailureOtherThanAResetClosesThePartner() throws {
        var machine = try Self.webSocket()
        #expect(machine.errorCaught(.other("EPIPE"), on: .client) == [])
        #expect(machine.channelInactive(.client) == [.close(.upstream)])
    }

    /// A request read before the upstream turned out to be unreachable is answered `502`, as one read
    /// after; a client that half-closed without a complete request is closed.
    @Test func aRequestReadWhileConnectingToAnUnreachableUpstreamIsAnswered502() throws {
        var machine = Machine(
            configuration: ProxyConfiguration(upstream: try UpstreamURL("http://127.0.0.1:5000")), clientIP: "10.0.0.7")
        _ = machine.channelActive(.client)
        _ = machine.received(ByteBuffer(string: "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"), from: .client)
        #expect(machine.inputClosed(.client) == [])
        #expect(
            machine.upstreamConnectFailed(reason: "refused") == [
                .tap(.upstreamUnreachable(reason: "refused")), .badGateway(reason: "refused"),
            ])

        var halfClosed = Machine(
            configuration: ProxyConfiguration(upstream: try UpstreamURL("http://127.0.0.1:5000")), clientIP: "10.0.0.7")
        _ = halfClosed.channelActive(.client)
        #expect(halfClosed.inputClosed(.client) == [])
        #expect(halfClosed.upstreamConnectFailed(reason: "refused") == [.close(.client)])
    }

    @Test func anUnreachableUpstreamIsAnswered502ForTheFirstRequest() throws {
        var machine = Machine(
            configuration: ProxyConfiguration(upstream: try UpstreamURL("http://127.0.0.1:5000")), clientIP: "10.0.0.7")
        _ = machine.channelActive(.client)
        #expect(machine.upstreamConnectFailed(reason: "refused") == [.resumeReading(.client)])
        #expect(machine.mayRead(.client, partnerWritable: false))
        let raw = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(
            machine.received(ByteBuffer(string: raw), from: .client) == [
                .tap(.requestHead(try Self.requestHead(raw))), .tap(.upstreamUnreachable(reason: "refused")),
                .badGateway(reason: "refused"),
            ])
        #expect(
            machine.channelInactive(.client) == [
                .close(.upstream), .tap(.connectionClosed(cause: "upstream unreachable")), .release,
            ])
        let response = Machine.badGatewayResponse(reason: "refused", allocator: ByteBufferAllocator())
        #expect(String(buffer: response).hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
        #expect(String(buffer: response).hasSuffix("\r\n\r\nsiotape: refused\n"))
    }

    @Test func aTLSFailureBeforeTheUpstreamAnsweredIsA502AndAfterItIsNot() throws {
        var machine = try Self.connected()
        _ = machine.received(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), from: .client)
        let reason =
            "cannot reach the upstream http://127.0.0.1:5000: TLS handshake failed: bad cert"
            + " (use --insecure for a self-signed certificate)"
        #expect(
            machine.errorCaught(.tls("bad cert"), on: .upstream) == [
                .tap(.upstreamUnreachable(reason: reason)), .badGateway(reason: reason),
            ])

        var answered = try Self.connected()
        _ = answered.received(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), from: .client)
        _ = answered.received(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), from: .upstream)
        #expect(answered.errorCaught(.tls("bad record"), on: .upstream) == [])
    }

    @Test func garbageFromTheClientIsRecordedAndTheResponsesAreRelayedOpaquely() throws {
        var machine = try Self.connected()
        let garbage = ByteBuffer(string: "\u{1}\u{2} not http\r\n\r\n")
        let actions = machine.received(garbage, from: .client)
        #expect(actions.first == .write(garbage, to: .upstream))
        guard case .tap(.httpUndecodable(let bytes, _, let offset, .clientToServer)) = actions.last else {
            Issue.record("no undecodable record: \(actions)")
            return
        }
        #expect(bytes == garbage)
        #expect(offset == 0)
        let answer = ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\n\r\n")
        #expect(machine.received(answer, from: .upstream) == [.write(answer, to: .client)])
    }
}
