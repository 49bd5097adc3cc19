/// An OS thread of its own, for work that must never run on an event loop: the recording writer's
/// compression and disk writes, the reader's inflating, the live view's terminal output.
package struct BackgroundThread: Sendable {
    private let thread: Platform.Thread

    /// Starts a thread running `body`; `join()` waits for it to end.
    package init(_ body: @escaping @Sendable () -> Void) {
        self.thread = Platform.startThread(detached: false, body)
    }

    /// Starts a thread running `body` that nobody waits for.
    package static func detach(_ body: @escaping @Sendable () -> Void) {
        Platform.startThread(detached: true, body)
    }

    /// Waits until the thread's `body` has returned. Call once.
    package func join() {
        Platform.join(self.thread)
    }
}
