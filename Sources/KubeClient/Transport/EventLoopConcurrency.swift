import NIOCore
import NIOPosix
import Synchronization

/// Runs Swift Concurrency's tasks on the event loops that carry the client's connections.
///
/// Every watch event and every API answer arrives on one of NIO's event loop threads and is
/// handled by a task; by default that task runs on Swift's cooperative pool, another set of
/// threads, so each event and answer costs a thread hand-off (a wake-up and a context switch)
/// each way. With NIO's singleton group installed as Swift Concurrency's global executor
/// (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`,
/// which the client's `HTTPClient` already runs on), a task started by an event runs on the
/// loop that read it. The cost: code that blocks its thread (a synchronous file or pipe read,
/// a semaphore) now stalls that loop's connections too, so install this only in a process
/// whose tasks do not block, before its work starts. Measured in the executor, it saves CPU at
/// a steady rate and halves request latency, yet lowers throughput against a saturated API
/// server, which the quicker executor sends more status writes (docs/benchmarks.md); that and
/// the blocking risk are why `executor run` leaves it off unless asked.
public enum EventLoopConcurrency {
    private static let installed = Mutex<Bool?>(nil)

    /// Installs the event loops as the global executor; true when tasks now run on them.
    /// The first call decides; later calls return its answer.
    @discardableResult
    public static func install() -> Bool {
        installed.withLock { done in
            if let done { return done }
            let result = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
            done = result
            return result
        }
    }

    /// Sets how many threads NIO's singleton group (the client's connections) gets; call before
    /// any client exists. NIO's own default is one per core.
    public static func suggestLoopCount(_ count: Int) {
        NIOSingletons.groupLoopCountSuggestion = max(1, count)
    }
}
