#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a detached OS thread running `body`.
///
/// The recording writer needs one thread of its own so that compression and disk writes never
/// run on an event loop; a raw pthread keeps Foundation out of the module.
func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    #if canImport(Darwin)
    var thread: pthread_t? = nil
    let rc = pthread_create(
        &thread,
        nil,
        { arg in
            Unmanaged<Box>.fromOpaque(arg).takeRetainedValue().body()
            return nil
        },
        box
    )
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(thread!)
    #else
    var thread = pthread_t()
    let rc = pthread_create(
        &thread,
        nil,
        { arg in
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        },
        box
    )
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(thread)
    #endif
}
