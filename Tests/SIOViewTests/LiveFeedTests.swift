import Foundation
import NIOCore
import Testing

@testable import SIOView

/// The live view's feed: the recording's lines, bounded in bytes, indexed by the store as the
/// lines of a file are.
struct LiveFeedTests {
    static func follow(_ lines: [String], into feed: LiveFeed) {
        Array(lines.map { $0 + "\n" }.joined().utf8).withUnsafeBytes { feed.follow(lines: $0, count: lines.count) }
    }

    @Test func followedLinesMakeTheStoreAFileMakes() throws {
        let feed = LiveFeed(start: 1_000_000)
        let model = ViewModel(feed: feed, redacted: true)
        // In two chunks, as two reads of the proxy hand them over.
        Self.follow(Array(ViewStoreTests.lines.prefix(4)), into: feed)
        Self.follow(Array(ViewStoreTests.lines.dropFirst(4)), into: feed)
        #expect(model.pump() == Int64(ViewStoreTests.lines.count))
        let file = ViewStoreTests.api()
        model.withAPI { api, _ in
            #expect(api.store.entries.map(\.wall) == file.store.entries.map(\.wall))
            #expect(api.store.entries.map(\.pair) == file.store.entries.map(\.pair))
            #expect(api.store.sessions.rows.count == file.store.sessions.rows.count)
            #expect(api.store.malformed == 0)
        }
        #expect(model.pump() == Int64(ViewStoreTests.lines.count))
    }

    @Test func aFullFeedDropsAndCountsLinesAndNeverHoldsMoreThanItsBytes() throws {
        let line = ViewStoreTests.lines[2]
        let feed = LiveFeed(start: 1_000_000, capacity: 3 * (line.utf8.count + 1))
        let model = ViewModel(feed: feed, redacted: true)
        for _ in 0..<5 { Self.follow([line], into: feed) }
        #expect(feed.dropped == 2)
        #expect(model.pump() == 3)
        let meta = try ViewStoreTests.json(try #require(model.answer(.meta, try ViewQuery(query: ""))))
        #expect(meta["dropped"] as? Int == 2)
        // Drained, it takes lines again.
        Self.follow([line, line], into: feed)
        #expect(model.pump() == 5)
        #expect(feed.dropped == 2)
        // One read larger than the whole buffer is taken when nothing is waiting, dropped otherwise.
        Self.follow(Array(repeating: line, count: 4), into: feed)
        Self.follow([line], into: feed)
        #expect(feed.dropped == 3)
        #expect(model.pump() == 9)
    }
}
