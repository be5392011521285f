import Foundation
import KubeClient
import Logging
import ServiceLifecycle

/// Settings of a ``Manager``.
public struct ManagerOptions: Sendable {
    /// Where `/metrics` is served; "0" turns it off.
    public var metricsBindAddress = ":8080"
    /// Where `/healthz` and `/readyz` are served; "0" turns them off.
    public var healthProbeBindAddress = ":8081"
    /// nil runs without leader election: every replica reconciles.
    public var leaderElection: LeaderElectionConfig?
    /// How long each stage may take to stop before the manager moves on.
    public var gracefulShutdownTimeout: Duration = .seconds(30)
    /// How long the required caches may take to sync before ``Manager/run()`` fails with
    /// ``CacheSyncTimeout``. Defaults to 2 minutes, controller-runtime's `CacheSyncTimeout`:
    /// a cache that cannot fill (RBAC, a kind not served, a server that keeps failing) should
    /// end the process loudly rather than leave it hanging unready.
    public var cacheSyncTimeout: Duration = .seconds(120)
    /// How NIO's event loops (the API client's connections, the metrics and probe servers) are
    /// watched for a held thread while ``Manager/run()`` runs (``EventLoopLagMonitor``); nil
    /// watches nothing.
    public var eventLoopLag: EventLoopLagMonitor.Settings? = EventLoopLagMonitor.Settings()

    public init(metricsBindAddress: String = ":8080", healthProbeBindAddress: String = ":8081", leaderElection: LeaderElectionConfig? = nil, gracefulShutdownTimeout: Duration = .seconds(30), cacheSyncTimeout: Duration = .seconds(120), eventLoopLag: EventLoopLagMonitor.Settings? = EventLoopLagMonitor.Settings()) {
        self.metricsBindAddress = metricsBindAddress
        self.healthProbeBindAddress = healthProbeBindAddress
        self.leaderElection = leaderElection
        self.gracefulShutdownTimeout = gracefulShutdownTimeout
        self.cacheSyncTimeout = cacheSyncTimeout
        self.eventLoopLag = eventLoopLag
    }
}

/// Starts and stops everything of an operator in order: the HTTP servers, then the caches
/// (waiting for them to sync), then leader election, then the controllers and other
/// leader-only work. On cancellation or graceful shutdown it stops them in reverse, each
/// stage within ``ManagerOptions/gracefulShutdownTimeout``. Losing the lease stops
/// leader-only work and makes ``run()`` throw ``LeaderElectionLost``, so the process exits
/// non-zero and restarts as a follower.
public final class Manager: Service, Sendable {
    public let client: KubernetesClient
    public let options: ManagerOptions
    public let metrics: MetricsRegistry
    public let informers: SharedInformerFactory
    public let elector: LeaderElector?
    public let clock: any RuntimeClock
    let logger: Logger
    private let lagMonitor: EventLoopLagMonitor?

    struct Runnable: Sendable {
        var name: String
        var leaderOnly: Bool
        var body: @Sendable () async throws -> Void
    }

    private let runnables = LockedBox<[Runnable]>([])
    private let readinessChecks = LockedBox<[(name: String, check: @Sendable () -> Bool)]>([])
    private let ports = LockedBox<(metrics: Int?, health: Int?)>((nil, nil))

    public init(client: KubernetesClient, options: ManagerOptions = ManagerOptions(), metrics: MetricsRegistry = MetricsRegistry(), informerOptions: InformerOptions = InformerOptions(), clock: any RuntimeClock = SystemClock(), logger: Logger = Logger(label: "manager")) {
        self.client = client
        self.options = options
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        self.informers = SharedInformerFactory(client: client, options: informerOptions, clock: clock, metrics: metrics, logger: logger)
        self.elector = options.leaderElection.map { LeaderElector(client: client, config: $0, clock: clock, metrics: metrics, logger: logger) }
        self.lagMonitor = options.eventLoopLag.map { EventLoopLagMonitor(settings: $0, metrics: metrics, logger: logger) }
    }

    /// Runs `controller` while this process leads.
    public func add(_ controller: Controller) {
        add(name: "controller \(controller.name)", leaderOnly: true) { await controller.run() }
    }

    /// Runs `body` (until cancelled) after the caches synced; when `leaderOnly`, only while
    /// this process leads. A throw stops the manager with that error.
    public func add(name: String, leaderOnly: Bool = true, _ body: @escaping @Sendable () async throws -> Void) {
        runnables.withLock { $0.append(Runnable(name: name, leaderOnly: leaderOnly, body: body)) }
    }

    /// A controller built with this manager's clock, metrics and logger.
    public func controller(name: String, reconciler: any Reconciler, options: ControllerOptions = ControllerOptions()) -> Controller {
        let controller = Controller(name: name, reconciler: reconciler, options: options, clock: clock, metrics: metrics, logger: logger)
        add(controller)
        return controller
    }

    /// Adds a condition `/readyz` requires besides the required caches, e.g. "every plugin
    /// whose kind is served has its cache synced".
    public func addReadinessCheck(_ name: String, _ check: @escaping @Sendable () -> Bool) {
        readinessChecks.withLock { $0.append((name, check)) }
    }

    /// What keeps the process from being ready: unsynced required informers and failing
    /// readiness checks, by name. Empty when ready.
    public var notReady: [String] {
        informers.requiredInformers.filter { !$0.hasSynced }.map { "informer \($0.name) has not synced" }
            + readinessChecks.value.filter { !$0.check() }.map(\.name)
    }

    /// True once every required informer has synced and every readiness check passes;
    /// `/readyz` answers 200 then.
    public var isReady: Bool { notReady.isEmpty }
    /// The ports bound, once ``run()`` has started the servers (useful with port 0).
    public var metricsPort: Int? { ports.value.metrics }
    public var healthPort: Int? { ports.value.health }

    enum StopReason: Sendable {
        case requested
        case leadershipLost(LeaderElectionLost)
        case failed(name: String, error: any Error)
    }

    public func run() async throws {
        let metricsServer = try await startServer(options.metricsBindAddress, routes: [
            "/metrics": { [metrics] in ProbeServer.Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render()) },
        ])
        let healthServer = try await startServer(options.healthProbeBindAddress, routes: [
            "/healthz": { ProbeServer.Response(status: 200, body: Array("ok".utf8)) },
            "/readyz": { [weak self] in
                let waiting = self?.notReady ?? ["stopping"]
                return waiting.isEmpty
                    ? ProbeServer.Response(status: 200, body: Array("ok".utf8))
                    : ProbeServer.Response(status: 500, body: Array(waiting.map { $0 + "\n" }.joined().utf8))
            },
        ])
        ports.withLock { $0 = (metricsServer?.port, healthServer?.port) }
        lagMonitor?.start()

        let (stops, stop) = AsyncStream<StopReason>.makeStream()
        let all = runnables.value
        let informers = self.informers
        let elector = self.elector
        let logger = self.logger

        let informerTask = Task { await informers.run() }
        let syncTask = Task { [clock, options] in
            let synced = await Self.waitForSync(informers, timeout: options.cacheSyncTimeout, clock: clock)
            if !synced && !Task.isCancelled {
                let pending = informers.requiredInformers.filter { !$0.hasSynced }
                let error = CacheSyncTimeout(timeout: options.cacheSyncTimeout, informers: pending.map { ($0.name, $0.lastFailure) })
                logger.error("caches did not sync", metadata: ["error": "\(error)"])
                stop.yield(.failed(name: "cache sync", error: error))
            }
            return synced
        }
        let alwaysTask = Task {
            guard await syncTask.value else { return }
            await Self.runAll(all.filter { !$0.leaderOnly }, stop: stop, logger: logger)
        }
        let electorTask = Task {
            guard await syncTask.value else { return }
            guard let elector, !Task.isCancelled else { return }
            do {
                try await elector.run()
            } catch let lost as LeaderElectionLost {
                stop.yield(.leadershipLost(lost))
            } catch {
                stop.yield(.failed(name: "leader election", error: error))
            }
        }
        let leaderTask = Task {
            guard await syncTask.value else { return }
            if let elector { await elector.waitForLeadership() }
            guard !Task.isCancelled else { return }
            logger.info("starting leader-only work")
            await Self.runAll(all.filter(\.leaderOnly), stop: stop, logger: logger)
        }

        // Wait for a reason to stop: cancellation, graceful shutdown, a lost lease or a failure.
        let reason: StopReason = await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                var iterator = stops.makeAsyncIterator()
                return await iterator.next() ?? .requested
            } onCancel: {
                stop.yield(.requested)
            }
        } onGracefulShutdown: {
            stop.yield(.requested)
        }
        logger.info("stopping", metadata: ["reason": "\(reason)"])

        // Reverse order: leader-only work, the lease, other work, the caches, the servers.
        // The wait for the first sync goes first: every stage below waits on it before its
        // work starts, and a cancelled stage does not cancel it, so while a cache cannot sync
        // (its CRD not installed yet) each stage would hold the stop for its graceful timeout.
        syncTask.cancel()
        leaderTask.cancel()
        await awaitWithin(leaderTask, "leader-only work")
        electorTask.cancel()
        await awaitWithin(electorTask, "leader election")
        alwaysTask.cancel()
        await awaitWithin(alwaysTask, "runnables")
        informerTask.cancel()
        await awaitWithin(informerTask, "informers")
        await lagMonitor?.stop()
        await healthServer?.stop()
        await metricsServer?.stop()
        logger.info("stopped")

        switch reason {
        case .requested: return
        case .leadershipLost(let lost): throw lost
        case .failed(let name, let error): throw RunnableFailed(name: name, underlying: error)
        }
    }

    /// An HTTP server could not listen.
    public struct ServerStartFailed: Error, CustomStringConvertible {
        public var address: String
        public var underlying: any Error
        public var description: String { "cannot listen on \(address): \(underlying)" }
    }

    /// The required caches did not sync in time (``ManagerOptions/cacheSyncTimeout``).
    public struct CacheSyncTimeout: Error, CustomStringConvertible {
        public var timeout: Duration
        /// Each informer that had not synced, with its last list or watch failure.
        public var informers: [(name: String, lastFailure: WatchFailure?)]
        public var description: String {
            let each = informers.map { i in i.lastFailure.map { "\(i.name) (last error: \($0))" } ?? i.name }
            return "caches did not sync within \(timeout): \(each.joined(separator: "; "))"
        }
    }

    /// Waits for the required caches; false when `timeout` passed first or the task was cancelled.
    static func waitForSync(_ informers: SharedInformerFactory, timeout: Duration, clock: any RuntimeClock) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await informers.waitForSync()
                return !Task.isCancelled
            }
            group.addTask {
                try? await clock.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first && informers.hasSynced
        }
    }

    /// A runnable threw.
    public struct RunnableFailed: Error, CustomStringConvertible {
        public var name: String
        public var underlying: any Error
        public var description: String { "\(name) failed: \(underlying)" }
    }

    private static func runAll(_ runnables: [Runnable], stop: AsyncStream<StopReason>.Continuation, logger: Logger) async {
        await withTaskGroup(of: Void.self) { group in
            for runnable in runnables {
                group.addTask {
                    do {
                        try await runnable.body()
                    } catch {
                        if Task.isCancelled { return }
                        logger.error("runnable failed", metadata: ["runnable": "\(runnable.name)", "error": "\(error)"])
                        stop.yield(.failed(name: runnable.name, error: error))
                    }
                }
            }
        }
    }

    private func startServer(_ address: String, routes: [String: ProbeServer.Route]) async throws -> ProbeServer? {
        guard address != "0", !address.isEmpty else { return nil }
        do {
            return try await ProbeServer.start(address: address, routes: routes)
        } catch let error as ProbeServer.AddressError {
            throw error
        } catch {
            throw ServerStartFailed(address: address, underlying: error)
        }
    }

    /// Waits for `task` at most the graceful timeout; a stage that overruns is left behind.
    private func awaitWithin(_ task: Task<Void, Never>, _ stage: String) async {
        let clock = self.clock
        let timeout = options.gracefulShutdownTimeout
        // A race between the task and a timer; the loser is left to finish on its own, since a
        // task group would wait for both.
        let finished = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resumed = LockedBox(false)
            let finish: @Sendable (Bool) -> Void = { value in
                let first = resumed.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            let timer = Task {
                try? await clock.sleep(for: timeout)
                finish(false)
            }
            Task {
                await task.value
                timer.cancel()
                finish(true)
            }
        }
        if !finished { logger.warning("stage did not stop within the graceful timeout", metadata: ["stage": "\(stage)", "timeout": "\(timeout)"]) }
    }
}
