import KubeClient
import KubeRuntime
import Logging

/// Waiting for a kind the executor needs but does not install (a plugin's CRD, Knative's
/// Service, the App CRD) to be served.
enum KindDiscovery {
    /// What a missing kind is called in messages: `the ray.io/v1 RayJob CRD is not installed`.
    static func notInstalledMessage(_ type: ResourceType) -> String {
        type.group.isEmpty
            ? "the API server does not serve \(type.apiVersion) \(type.kind)"
            : "the \(type.apiVersion) \(type.kind) CRD is not installed"
    }

    /// Returns once discovery lists `type`. Until then discovery is asked again with backoff,
    /// and `notServed` runs each time the answer is no (the first time with `first` true, so
    /// the caller warns once).
    static func waitUntilServed(_ type: ResourceType, client: KubernetesClient, backoff: Backoff, clock: any RuntimeClock, logger: Logger, notServed: @Sendable (_ first: Bool) -> Void) async throws {
        var backoff = backoff
        var warned = false
        while true {
            do {
                if try await client.isServed(type) {
                    if warned { logger.notice("\(type.apiVersion) \(type.kind) is served now", metadata: ["resource": "\(type)"]) }
                    return
                }
                notServed(!warned)
                warned = true
            } catch {
                try Task.checkCancellation()
                logger.info("discovery failed; will retry", metadata: ["error": "\(error)"])
            }
            try await clock.sleep(for: backoff.next(now: clock.now))
        }
    }

    /// True when `informer` synced; false when the server refused it with 403 first.
    static func syncedBeforeForbidden<Object: KubernetesObject>(_ informer: Informer<Object>) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await informer.waitForSync(); return true }
            group.addTask { await informer.waitUntilForbidden(); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || informer.hasSynced
        }
    }
}
