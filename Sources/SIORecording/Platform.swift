#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("siotape builds on Linux (Glibc, Musl) and macOS (Darwin)")
#endif

/// The operating-system calls whose spelling differs between Linux and macOS, in one place.
///
/// Everything else in the package calls POSIX functions whose Swift signatures are the same on
/// Glibc and Darwin (`open`, `read`, `fstat` with `off_t`/`mode_t`-typed arguments), after the
/// usual `#if canImport(Glibc) / canImport(Darwin)` import. What differs is here: `pthread_t` is an
/// integer on Linux and a non-optional pointer on macOS, and module-qualified names such as
/// `Glibc.exit` (needed where a Swift function of the same name shadows the C one) exist on one
/// platform only.
package enum Platform {
    /// Ends the process at once with `code` (no cleanup: for fatal errors and a closed stdout).
    package static func exit(_ code: Int32) -> Never {
        #if canImport(Glibc)
        Glibc.exit(code)
        #elseif canImport(Musl)
        Musl.exit(code)
        #elseif canImport(Darwin)
        Darwin.exit(code)
        #endif
    }

    /// How `writeAll` ended.
    package enum WriteOutcome: Equatable, Sendable {
        case written
        /// The reader went away (`EPIPE`): `| head` has read enough.
        case brokenPipe
        case failed(errno: Int32)
    }

    /// Writes every byte to `fd`, retrying after signals (`EINTR`).
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> WriteOutcome {
        var offset = 0
        while offset < bytes.count {
            #if canImport(Glibc)
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            #elseif canImport(Musl)
            let written = Musl.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            #elseif canImport(Darwin)
            let written = Darwin.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            #endif
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                return code == EPIPE ? .brokenPipe : .failed(errno: code)
            }
            offset += written
        }
        return .written
    }

    /// A thread started by `startThread`: joinable, or already detached.
    package struct Thread: @unchecked Sendable {
        // `pthread_t` is `UInt` on Linux and `UnsafeMutablePointer<_opaque_pthread_t>` on macOS;
        // it is only passed back to `pthread_join`, on one thread.
        fileprivate let handle: pthread_t
    }

    /// Starts an OS thread running `body`. A raw pthread keeps Foundation out of the libraries.
    /// - Parameter detached: the thread cleans up after itself and cannot be joined.
    @discardableResult
    package static func startThread(detached: Bool, _ body: @escaping @Sendable () -> Void) -> Thread {
        final class Box {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        #if canImport(Darwin)
        var handle: pthread_t? = nil
        let rc = pthread_create(
            &handle, nil,
            { argument in
                Unmanaged<Box>.fromOpaque(argument).takeRetainedValue().body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        let thread = Thread(handle: handle!)
        #else
        var handle = pthread_t()
        let rc = pthread_create(
            &handle, nil,
            { argument in
                Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        let thread = Thread(handle: handle)
        #endif
        if detached {
            pthread_detach(thread.handle)
        }
        return thread
    }

    /// Waits for a thread started with `detached: false` to end.
    package static func join(_ thread: Thread) {
        pthread_join(thread.handle, nil)
    }

    /// Lowers the calling thread's priority, for work that may wait while others run: on Linux
    /// nice 10 (a thread of nice 0 that wakes takes the core from it, and it still gets about a
    /// tenth of a busy core, so a lock it holds is not held for long), on macOS the utility QoS
    /// class. Returns whether the priority was lowered.
    @discardableResult
    package static func lowerPriorityOfCurrentThread() -> Bool {
        // On Linux the nice value is per thread, and `who` 0 is the calling thread alone.
        #if canImport(Glibc)
        return setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10) == 0
        #elseif canImport(Musl)
        return setpriority(PRIO_PROCESS, 0, 10) == 0
        #elseif canImport(Darwin)
        return pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0) == 0
        #endif
    }
}

/// A mutex with one condition variable (pthread's, which `Synchronization.Mutex` does not offer):
/// for a producer thread and a consumer that wait for each other.
package final class ConditionMutex: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    package init() {
        pthread_mutex_init(self.mutex, nil)
        pthread_cond_init(self.condition, nil)
    }

    deinit {
        pthread_cond_destroy(self.condition)
        pthread_mutex_destroy(self.mutex)
        self.condition.deallocate()
        self.mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(self.mutex) }

    package func unlock() { pthread_mutex_unlock(self.mutex) }

    /// Releases the mutex until `signal()` is called, then takes it again. Call with the mutex held.
    package func wait() { pthread_cond_wait(self.condition, self.mutex) }

    /// `wait()` for at most `microseconds`. Call with the mutex held.
    package func wait(microseconds: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = Int(now.tv_nsec) + (microseconds % 1_000_000) * 1000
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + time_t(microseconds / 1_000_000 + nanoseconds / 1_000_000_000)
        deadline.tv_nsec = Int(nanoseconds % 1_000_000_000)
        pthread_cond_timedwait(self.condition, self.mutex, &deadline)
    }

    /// Wakes a thread in `wait()`.
    package func signal() { pthread_cond_signal(self.condition) }
}
