import CConcurrencyHook
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
/// whose tasks do not block, before its work starts. Measured in the executor, it saves a tenth
/// to a sixth of the CPU and half the context switches at a steady rate, with saturated CPU,
/// throughput and writes the same within the runs' spread (docs/benchmarks.md); `executor run`
/// installs it unless given `--no-tasks-on-event-loops`, and spreads its reconcile workers over
/// the loops with ``loopExecutors()``.
public enum EventLoopConcurrency {
    private static let installed = Mutex<Bool?>(nil)

    /// Installs the event loops as the global executor; true when tasks now run on them.
    /// The first call decides; later calls return its answer.
    @discardableResult
    public static func install() -> Bool {
        installed.withLock { done in
            if let done { return done }
            let result = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() || installByReference()
            done = result
            return result
        }
    }

    /// The runtime's hook: `(job, the default enqueue) -> Void`, Swift's calling convention.
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// What NIO's installer does, with the hook reached by reference rather than by dlsym, which
    /// finds nothing in a binary linked with the static standard library (release builds and the
    /// image): NIO's installer then returns false, and every task ran on Swift's pool. The same
    /// hook as NIO's: the job goes to the current loop of the group, else to the next one. Only
    /// for the hook's signature NIO's installer knows (it checks the compiler, as here).
    private static func installByReference() -> Bool {
        #if compiler(<6.6)
        let hook: EnqueueGlobalHook = { job, _ in
            MultiThreadedEventLoopGroup.singleton.any().enqueue(ExecutorJob(job))
        }
        return cconcurrency_install_enqueue_global_hook(unsafeBitCast(hook, to: UnsafeMutableRawPointer.self))
        #else
        return false
        #endif
    }

    /// The address of Swift Concurrency's enqueue hook, as this binary reaches it (for tests:
    /// it must be the runtime's own).
    public static var enqueueGlobalHookAddress: UnsafeMutableRawPointer {
        cconcurrency_enqueue_global_hook_address()
    }

    /// One task executor per event loop of NIO's singleton group, once ``install()`` has put the
    /// tasks on the loops; empty otherwise. NIO keeps a task on the loop that woke it, so without
    /// these every reconcile follows the loop of the watch that woke it and every connection it
    /// opens lands there too: one loop does nearly all the work. Workers that each prefer one of
    /// these (``ControllerOptions``' `workerExecutors`) spread it over all of them.
    public static func loopExecutors() -> [any TaskExecutor] {
        guard installed.withLock({ $0 }) == true else { return [] }
        return MultiThreadedEventLoopGroup.singleton.makeIterator().map { EventLoopTaskExecutor($0) }
    }

    /// How many event loops `executor run` (and the bench's executor) gives NIO's singleton group
    /// unless told otherwise (`--event-loops`): one. NIO's own default is one per core (or per
    /// core of the cgroup's CPU limit), and the reconcile workers are spread over the loops, so
    /// every event whose round runs on another loop than its watch costs a wake-up of that loop.
    /// The executor waits on the API server far more than it computes (at 2-5 ms of CPU per
    /// TaskAction a core carries 200-500 a second), and on one loop the watches, the answers and
    /// the rounds share one thread: less CPU per TaskAction, fewer context switches, and on a
    /// node without a CPU limit no thread per core of a large machine (docs/benchmarks.md).
    public static let defaultLoopCount = 1

    /// Sets how many threads NIO's singleton group (the client's connections) gets; call once,
    /// before any client exists. NIO's own default is one per core.
    public static func suggestLoopCount(_ count: Int) {
        NIOSingletons.groupLoopCountSuggestion = max(1, count)
    }
}
