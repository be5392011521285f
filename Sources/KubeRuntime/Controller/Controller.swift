import Foundation
import KubeClient
import Logging
import Synchronization

/// Options of one controller.
public struct ControllerOptions: Sendable {
    /// Workers reconciling in parallel; never two on one key. controller-runtime's default is 1;
    /// the executor's `--max-concurrent-reconciles` defaults to 10 for its I/O-bound reconciles.
    public var maxConcurrentReconciles = 1
    /// A reconcile running longer than this is cancelled and retried with backoff; nil for none.
    public var reconcileTimeout: Duration? = nil
    public var rateLimiter = RetryRateLimiter<ReconcileRequest>()
    /// Where the workers run: worker *i* prefers executor *i* mod their count, so its rounds,
    /// and the continuations of the calls it makes, stay there. Empty (the default) runs them
    /// wherever tasks run. With tasks on the event loops, ``EventLoopConcurrency/loopExecutors()``
    /// spreads the workers over the loops; without it they would all follow the one loop whose
    /// watch woke them (docs/benchmarks.md).
    public var workerExecutors: [any TaskExecutor] = []

    public init(maxConcurrentReconciles: Int = 1, reconcileTimeout: Duration? = nil, workerExecutors: [any TaskExecutor] = []) {
        self.maxConcurrentReconciles = maxConcurrentReconciles
        self.reconcileTimeout = reconcileTimeout
        self.workerExecutors = workerExecutors
    }
}

/// Feeds a work queue from informers and runs a ``Reconciler`` over it with N workers,
/// applying the result contract of controller-runtime:
///
/// - ``ReconcileResult/done``: forget the key's backoff;
/// - ``ReconcileResult/requeueAfter(_:)``: forget the backoff, run again after the duration;
/// - ``ReconcileResult/requeue`` or a thrown error: run again after the rate-limited backoff;
/// - a thrown ``TerminalError``: count it, forget, do not retry.
///
/// Workers start only after every watched informer has synced.
public final class Controller: Sendable {
    public let name: String
    public let queue: WorkQueue<ReconcileRequest>
    let reconciler: any Reconciler
    let options: ControllerOptions
    let clock: any RuntimeClock
    let logger: Logger
    let metrics: ControllerMetrics?
    private let sources = Mutex<[any InformerProtocol]>([])
    private let started = Mutex(false)
    private let reconcileIDs = ReconcileIDGenerator()

    public init(name: String, reconciler: any Reconciler, options: ControllerOptions = ControllerOptions(), clock: any RuntimeClock = SystemClock(), metrics: MetricsRegistry? = nil, logger: Logger = Logger(label: "controller")) {
        self.name = name
        self.reconciler = reconciler
        self.options = options
        self.clock = clock
        var logger = logger
        logger[metadataKey: "controller"] = "\(name)"
        self.logger = logger
        let queueMetrics = metrics?.workQueue(name: name)
        self.queue = WorkQueue(rateLimiter: options.rateLimiter, clock: clock, metrics: queueMetrics)
        self.metrics = metrics?.controller(name: name)
        self.metrics?.maxConcurrent.set(Double(options.maxConcurrentReconciles))
        if let metrics, let queueMetrics {
            let queue = self.queue
            metrics.onScrape {
                let (total, longest) = queue.unfinishedWork()
                queueMetrics.unfinishedWork.set(total.seconds)
                queueMetrics.longestRunning.set(longest.seconds)
            }
        }
    }

    /// Enqueues what `handler` maps each admitted event of `informer` to, except the requests
    /// the reconciler says need no round (``Reconciler/needsRound(_:)``). Objects from an
    /// informer's initial list go in at low priority.
    ///
    /// - Parameter waitForSync: whether the workers wait for this informer's first list before
    ///   they start. Pass false for a source added while the controller runs, or one whose
    ///   owner handles its not being synced (a plugin cache that may be forbidden).
    public func watch<Object: KubernetesObject>(_ informer: Informer<Object>, handler: EventHandler<Object> = .enqueueObject, predicates: [Predicate<Object>] = [], waitForSync: Bool = true) {
        if waitForSync { sources.withLock { $0.append(informer) } }
        let queue = self.queue
        let reconciler = self.reconciler
        informer.addHandler { event in
            guard predicates.allSatisfy({ $0.admits(event) }) else { return }
            // One switch: the informer is generic, so each pattern match copies the objects out.
            var priority = WorkQueue<ReconcileRequest>.Priority.normal
            var requests: [ReconcileRequest]
            switch event {
            case .added(let object, let initialList):
                if initialList { priority = .low }
                requests = handler.map(object)
            case .updated(let old, let new):
                requests = handler.map(new)
                // A change of owner or mapping must wake the old target too.
                for request in handler.map(old) where !requests.contains(request) { requests.append(request) }
            case .deleted(let object):
                requests = handler.map(object)
            }
            for request in requests where reconciler.needsRound(request) { queue.add(request, priority: priority) }
        }
    }

    /// Queues a request directly (for timers and tests).
    public func enqueue(_ request: ReconcileRequest, after delay: Duration = .zero) {
        queue.add(request, after: delay)
    }

    /// Waits for the watched caches, then runs the workers until the task is cancelled.
    public func run() async {
        for source in sources.withLock({ $0 }) {
            await source.waitForSync()
            if Task.isCancelled { return }
        }
        started.withLock { $0 = true }
        logger.info("starting workers", metadata: ["workers": "\(options.maxConcurrentReconciles)"])
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                let executors = options.workerExecutors
                for index in 0..<max(1, options.maxConcurrentReconciles) {
                    if executors.isEmpty {
                        group.addTask { await self.worker() }
                    } else {
                        group.addTask(executorPreference: executors[index % executors.count]) { await self.worker() }
                    }
                }
            }
        } onCancel: {
            queue.shutdown()
        }
        logger.info("workers stopped")
    }

    /// True once the workers run (the caches synced).
    public var isStarted: Bool { started.withLock { $0 } }

    private func worker() async {
        while let request = await queue.get() {
            metrics?.activeWorkers.increment()
            await process(request)
            metrics?.activeWorkers.decrement()
            queue.done(request)
        }
    }

    private func process(_ request: ReconcileRequest) async {
        let id = reconcileIDs.next()
        var logger = self.logger
        // One metadata write, its values formatted only if something is logged: a log
        // handler may re-render all its metadata on each write (swift-log's StreamLogHandler does).
        logger.handler.metadata.merge(["object": .stringConvertible(request), "reconcileID": .stringConvertible(id)]) { $1 }
        let context = ReconcileContext(logger: logger, id: id)
        let started = clock.now
        let outcome: Result<ReconcileResult, any Error>
        do {
            outcome = .success(try await runWithTimeout(request, context: context))
        } catch {
            outcome = .failure(error)
        }
        metrics?.reconcileTime.record(clock.now - started)
        switch outcome {
        case .success(.done):
            metrics?.success.increment()
            queue.forget(request)
            // An earlier round's requeue-after is void: this round found nothing left to do.
            queue.cancelDelayed(request)
        case .success(.requeueAfter(let delay)):
            metrics?.requeueAfter.increment()
            queue.forget(request)
            queue.add(request, after: delay)
        case .success(.requeue):
            metrics?.requeue.increment()
            queue.addRateLimited(request)
        case .failure(let error as TerminalError):
            metrics?.error.increment()
            metrics?.errors.increment()
            metrics?.terminalErrors.increment()
            logger.error("reconcile failed terminally", metadata: ["error": "\(error.underlying)"])
            queue.forget(request)
            queue.cancelDelayed(request)
        case .failure(let error):
            metrics?.error.increment()
            metrics?.errors.increment()
            logger.info("reconcile failed; will retry", metadata: ["error": "\(error)", "retries": "\(queue.retries(of: request))"])
            queue.addRateLimited(request)
        }
    }

    struct ReconcileTimedOut: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "reconcile exceeded its timeout of \(timeout)" }
    }

    private func runWithTimeout(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let timeout = options.reconcileTimeout else {
            return try await reconciler.reconcile(request, context: context)
        }
        let reconciler = self.reconciler
        let clock = self.clock
        return try await withThrowingTaskGroup(of: ReconcileResult.self) { group in
            group.addTask { try await reconciler.reconcile(request, context: context) }
            group.addTask {
                try await clock.sleep(for: timeout)
                throw ReconcileTimedOut(timeout: timeout)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }
}
