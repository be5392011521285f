import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntime
import Logging

/// Deletes terminal TaskActions whose terminal condition is older than the TTL (spec §5.10):
/// once the caches have synced, then every interval. It reads the executor's own TaskAction
/// caches, which hold every TaskAction with its status, so a sweep costs no list and GC needs
/// no labels (Flyte selects on `flyte.org/termination-status`/`completed-time`, which cost a
/// write per action; they are written only when `gc.labels` asks). TaskActions in namespaces
/// the executor does not watch are not its to collect.
public struct GarbageCollector: Sendable {
    let client: KubernetesClient
    let interval: Duration
    let maxTTL: TimeInterval
    let taskActions: @Sendable () -> [TaskAction]
    let synced: @Sendable () async -> Void
    let clock: any RuntimeClock
    let now: @Sendable () -> Date
    let logger: Logger

    /// - Parameters:
    ///   - taskActions: every cached TaskAction.
    ///   - synced: returns once the caches behind `taskActions` have synced.
    public init(client: KubernetesClient, config: ExecutorConfig.GC, taskActions: @escaping @Sendable () -> [TaskAction], synced: @escaping @Sendable () async -> Void, clock: any RuntimeClock = SystemClock(), now: @escaping @Sendable () -> Date = Date.init, logger: Logger = Logger(label: "gc")) {
        self.client = client
        self.interval = .seconds(config.intervalSeconds)
        self.maxTTL = TimeInterval(config.maxTTLSeconds)
        self.taskActions = taskActions
        self.synced = synced
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    /// Sweeps until cancelled.
    public func run() async {
        guard interval > .zero else { return }
        await synced()
        while !Task.isCancelled {
            do {
                let deleted = try await sweep()
                if deleted > 0 { logger.info("deleted terminal TaskActions", metadata: ["count": "\(deleted)"]) }
            } catch {
                if Task.isCancelled { return }
                logger.warning("GC sweep failed", metadata: ["error": "\(error)"])
            }
            do { try await clock.sleep(for: interval) } catch { return }
        }
    }

    /// One sweep; returns how many objects it deleted.
    @discardableResult
    public func sweep() async throws -> Int {
        let cutoff = maxTTL > 0 ? now().addingTimeInterval(-maxTTL) : .distantFuture
        var deleted = 0
        for action in taskActions() where action.metadata.deletionTimestamp == nil {
            guard let finished = action.status?.terminalTime, action.isTerminal, finished < cutoff else { continue }
            do {
                // By uid: a TaskAction made again under the same name is not this one.
                try await client.delete(TaskAction.self, name: action.metadata.name ?? "", namespace: action.metadata.namespace, options: DeleteOptions(preconditionUID: action.metadata.uid))
                deleted += 1
            } catch let error as KubeAPIError where error.isNotFound || error.isConflict {
                continue
            }
        }
        return deleted
    }
}
