import NIOCore
import SIOInspect
import SIORecording
import NIOConcurrencyHelpers

/// The data behind the server: a `ViewAPI` over a store loaded from recordings, or fed from a
/// `LiveFeed`, under one lock. Thread-safe: `state` (whose store is a class) is only touched
/// inside `withLock`, which is why the checked `Sendable` is waived.
public final class ViewModel: @unchecked Sendable {
    private struct State {
        var api: ViewAPI
        var meta: ViewMeta
    }

    private let lock = NIOLock()
    private var _state: State
    private let feed: LiveFeed?

    /// Reads recordings (merged by time, as `inspect` merges them) into memory.
    ///
    /// - Throws: `RecordingReadError` for a file that cannot be read as a recording.
    /// `filter`, `since` and `until` keep only the matching lines (the report of a filtered `inspect`).
    public convenience init(
        paths: [String], filter: PacketFilter = PacketFilter(), since: TimeBound? = nil, until: TimeBound? = nil,
        mode: String = "view"
    ) throws {
        let readers = try paths.map { path in
            (path, try RecordingReader(path: path, options: .init(resynchronize: true)))
        }
        let merger = RecordingMerger(readers: readers)
        let store = ViewStore(start: merger.start)
        var resolved = filter
        resolved.since = since?.resolve(start: merger.start)
        resolved.until = until?.resolve(start: merger.start)
        var matcher = resolved.isEmpty ? nil : PacketMatcher(resolved)
        // A prefilter (the report of a filtered `inspect`) needs its own indexer: ids differ from the store's.
        let prefilterIndexer = LineIndexer()
        while let source = try merger.next() {
            merger.consume(source) { line, fields, wall in
                line.withUnsafeReadableBytes { bytes in
                    if matcher != nil {
                        let info = prefilterIndexer.index(fields, bytes, wall: wall)
                        guard matcher!.matches(info, fields, bytes, indexer: prefilterIndexer, hideEngine: false) else {
                            return
                        }
                    }
                    store.add(bytes, fields: fields, wall: wall, source: source)
                }
            }
        }
        let redacted = readers.allSatisfy { $0.1.header.redacted }
        self.init(store: store, meta: ViewMeta(mode: mode, files: paths, redacted: redacted), feed: nil)
    }

    /// A live view of the lines `feed` receives, keeping the most recent `capacity` lines.
    public convenience init(feed: LiveFeed, redacted: Bool, capacity: Int = 1_000_000) {
        self.init(
            store: ViewStore(start: feed.start, capacity: capacity),
            meta: ViewMeta(mode: "live", files: [], redacted: redacted), feed: feed)
    }

    init(store: ViewStore, meta: ViewMeta, feed: LiveFeed?) {
        self._state = State(api: ViewAPI(store: store), meta: meta)
        self.feed = feed
    }

    public var isLive: Bool { self.feed != nil }

    private func withLock<T>(_ body: (inout State) -> T) -> T {
        self.lock.withLock { body(&self._state) }
    }

    /// Live: moves the lines the feed received into the store, indexed as a recording's lines are
    /// (`ViewStore.add(lines:)`; nothing is encoded here). Returns the next sequence number. The
    /// view's server calls it every 50 ms on its own thread.
    @discardableResult
    public func pump() -> Int64 {
        guard let feed = self.feed else { return self.withLock { $0.api.store.nextSequence } }
        let (lines, dropped) = feed.drain()
        let next = self.withLock { state in
            state.meta.dropped = dropped
            let store = state.api.store
            _ = lines.withUnsafeReadableBytes { store.add(lines: $0, anchor: feed.start, source: 0) }
            return store.nextSequence
        }
        feed.recycle(consume lines)
        return next
    }

    /// The answer of an API route, or `nil` for an unknown route or a missing packet.
    func answer(_ route: ViewRoute, _ query: ViewQuery) -> ByteBuffer? {
        self.withLock { state in
            switch route {
            case .meta: return state.api.meta(state.meta)
            case .stats: return state.api.stats()
            case .sessions: return state.api.sessions(query)
            case .packets: return state.api.packets(query)
            case .packet: return state.api.packet(query)
            case .plots: return state.api.plots(query)
            case .live: return state.api.live(query)
            }
        }
    }

    /// Live polling: whether any line at or after `after` exists yet.
    func hasLines(after: Int64) -> Bool {
        self.withLock { $0.api.store.nextSequence > after }
    }

    /// Sessions and lines held (for the readiness line and the report).
    public var counts: (sessions: Int, lines: Int64) {
        self.withLock { ($0.api.store.sessions.rows.count, $0.api.store.nextSequence) }
    }

    /// Runs `body` on the API (the static report renders everything through it).
    func withAPI<T>(_ body: (ViewAPI, ViewMeta) -> T) -> T {
        self.withLock { body($0.api, $0.meta) }
    }
}
