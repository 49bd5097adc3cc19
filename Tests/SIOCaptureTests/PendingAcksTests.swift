import SIOWire
import Testing

@testable import SIOCapture

/// The table that pairs an ACK with its EVENT, on both of its sides: the short array and the
/// dictionary it moves to when more events are pending.
@Suite struct PendingAcksTests {
    func key(_ id: UInt64, _ namespace: String = "/", _ direction: Direction = .clientToServer) -> PendingAcks.Key {
        .init(direction: direction, namespace: namespace, id: id)
    }

    @Test(arguments: [4, PendingAcks.arrayLimit + 20])
    func anAckFindsItsEventOnceByIdNamespaceAndDirection(pending: Int) {
        var acks = PendingAcks()
        for id in 0..<UInt64(pending) {
            acks.insert(self.key(id), time: Int64(id) * 10, limit: 1_000)
            acks.insert(self.key(id, "/chat"), time: Int64(id) * 10 + 1, limit: 1_000)
        }
        #expect(acks.count == 2 * pending)
        #expect(acks.remove(self.key(3, "/", .serverToClient)) == nil)
        #expect(acks.remove(self.key(3, "/other")) == nil)
        #expect(acks.remove(self.key(3)) == 30)
        #expect(acks.remove(self.key(3)) == nil)
        #expect(acks.remove(self.key(3, "/chat")) == 31)
        #expect(acks.count == 2 * pending - 2)
        for id in 0..<UInt64(pending) where id != 3 {
            #expect(acks.remove(self.key(id)) == Int64(id) * 10)
            #expect(acks.remove(self.key(id, "/chat")) == Int64(id) * 10 + 1)
        }
        #expect(acks.count == 0)
        // Empty again: back to the array, which works as before.
        acks.insert(self.key(7), time: 70, limit: 1_000)
        #expect(acks.remove(self.key(7)) == 70)
    }

    @Test func anEventSentAgainWithTheSameIdKeepsTheLaterTime() {
        var acks = PendingAcks()
        acks.insert(self.key(1), time: 10, limit: 100)
        acks.insert(self.key(1), time: 20, limit: 100)
        #expect(acks.count == 1)
        #expect(acks.remove(self.key(1)) == 20)
    }

    @Test(arguments: [3, PendingAcks.arrayLimit + 5])
    func theOldestIsForgottenAtTheLimit(limit: Int) {
        var acks = PendingAcks()
        // Inserted out of time order: the oldest is the smallest time, not the first inserted.
        acks.insert(self.key(1_000), time: 50, limit: limit)
        acks.insert(self.key(1_001), time: 5, limit: limit)
        for id in 0..<UInt64(limit - 2) { acks.insert(self.key(id), time: 100 + Int64(id), limit: limit) }
        #expect(acks.count == limit)
        acks.insert(self.key(2_000), time: 1_000, limit: limit)
        #expect(acks.count == limit)
        #expect(acks.remove(self.key(1_001)) == nil)
        #expect(acks.remove(self.key(1_000)) == 50)
        #expect(acks.remove(self.key(2_000)) == 1_000)
    }
}
