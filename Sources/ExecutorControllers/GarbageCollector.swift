import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntime
import Logging

/// Deletes terminal TaskActions whose `flyte.org/completed-time` label is older than the TTL
/// (spec §5.10): once at start, then every interval; reads the API server directly in pages
/// of 500, not the cache, so it sees objects in namespaces the executor does not watch.
public struct GarbageCollector: Sendable {
    let client: KubernetesClient
    let interval: Duration
    let maxTTL: TimeInterval
    let namespaces: [String?]
    let clock: any RuntimeClock
    let now: @Sendable () -> Date
    let logger: Logger

    public init(client: KubernetesClient, config: ExecutorConfig.GC, namespaces: [String?], clock: any RuntimeClock = SystemClock(), now: @escaping @Sendable () -> Date = Date.init, logger: Logger = Logger(label: "gc")) {
        self.client = client
        self.interval = .seconds(config.intervalSeconds)
        self.maxTTL = TimeInterval(config.maxTTLSeconds)
        self.namespaces = namespaces
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    /// Sweeps until cancelled.
    public func run() async {
        guard interval > .zero else { return }
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
        let cutoff = TaskActionTime.completedLabel(maxTTL > 0 ? now().addingTimeInterval(-maxTTL) : now().addingTimeInterval(60))
        var deleted = 0
        for namespace in namespaces {
            var token: String?
            repeat {
                let page = try await client.list(TaskAction.self, namespace: namespace, options: ListOptions(labelSelector: "\(TaskActionLabels.terminationStatus)=\(TaskActionLabels.terminated),\(TaskActionLabels.completedTime)", limit: 500, continue: token))
                for action in page.items {
                    guard let completed = action.metadata.labels?[TaskActionLabels.completedTime], completed < cutoff else { continue }
                    do {
                        try await client.delete(TaskAction.self, name: action.metadata.name ?? "", namespace: action.metadata.namespace)
                        deleted += 1
                    } catch let error as KubeAPIError where error.isNotFound {
                        continue
                    }
                }
                token = page.metadata.continue
            } while !(token ?? "").isEmpty
        }
        return deleted
    }
}
