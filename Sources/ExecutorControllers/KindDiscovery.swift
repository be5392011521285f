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

    /// Returns once discovery lists `type`. While it does not, the wait is event-driven: a
    /// watch on the CustomResourceDefinition that would serve it (`<plural>.<group>`, by a
    /// `metadata.name` field selector) says when it is installed or changed, and discovery is
    /// asked again then. Where that watch cannot be used (RBAC refuses it, a core kind) or the
    /// CRD is there but discovery does not list the kind yet, discovery is asked again with
    /// backoff. `notServed` runs each time the answer is no (the first time with `first` true,
    /// so the caller warns once).
    static func waitUntilServed(_ type: ResourceType, client: KubernetesClient, backoff: Backoff, clock: any RuntimeClock, logger: Logger, notServed: @Sendable (_ first: Bool) -> Void) async throws {
        let initial = backoff
        var backoff = backoff
        var warned = false
        var watchable = mayBeDefinition(type)
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
            if watchable {
                switch try await waitForDefinition(of: type, client: client, logger: logger) {
                case .changed:
                    // Discovery may lag the definition by a moment: back off from the start.
                    backoff = initial
                    continue
                case .backOff: break
                case .unusable: watchable = false
                }
            }
            try await clock.sleep(for: backoff.next(now: clock.now))
        }
    }

    /// How a wait on a kind's CustomResourceDefinition ended.
    enum DefinitionWait {
        /// It was created or changed so that it serves the kind: ask discovery again.
        case changed
        /// It already serves the kind, so discovery should list it soon; or the watch failed
        /// for now: back off, ask discovery, and watch again.
        case backOff
        /// RBAC refuses the watch: poll discovery from now on.
        case unusable
    }

    /// Whether a CustomResourceDefinition can serve `type`: its group has a dot, as the API
    /// server requires of a CRD's group (`batch`, `apps` and the core group are built in).
    static func mayBeDefinition(_ type: ResourceType) -> Bool { type.group.contains(".") }

    /// The name of the CustomResourceDefinition serving `type`.
    static func definitionName(_ type: ResourceType) -> String { "\(type.plural).\(type.group)" }

    /// Waits for the CustomResourceDefinition of `type` to appear or change. A watch the server
    /// closes (its timeout, a dropped connection) is opened again from the last resourceVersion
    /// seen, as a reflector resumes, without asking discovery; one that ends within a second
    /// having delivered nothing backs off instead (client-go's "very short watch").
    static func waitForDefinition(of type: ResourceType, client: KubernetesClient, logger: Logger) async throws -> DefinitionWait {
        let selector = "metadata.name=\(definitionName(type))"
        do {
            let list = try await client.list(.customResourceDefinitions, options: ListOptions(fieldSelector: selector))
            if let existing = list["items"]?.arrayValue?.first, servesEstablished(existing, type) { return .backOff }
            var resourceVersion = list.value(atPath: "metadata.resourceVersion")?.stringValue
            while true {
                let opened = ContinuousClock.now
                var delivered = false
                let stream = try await client.watch(.customResourceDefinitions, options: WatchOptions(fieldSelector: selector, resourceVersion: resourceVersion, timeoutSeconds: Int.random(in: 300...600)))
                for try await event in stream {
                    delivered = true
                    switch event {
                    case .added(let definition), .modified(let definition):
                        if servesEstablished(definition, type) { return .changed }
                        resourceVersion = definition.value(atPath: "metadata.resourceVersion")?.stringValue ?? resourceVersion
                    case .deleted(let definition):
                        resourceVersion = definition.value(atPath: "metadata.resourceVersion")?.stringValue ?? resourceVersion
                    case .bookmark(let version):
                        resourceVersion = version
                    }
                }
                try Task.checkCancellation()
                if !delivered, ContinuousClock.now - opened < .seconds(1) { return .backOff }
            }
        } catch let error as KubeAPIError where error.code == 403 {
            logger.info("cannot watch CustomResourceDefinitions (RBAC); discovery is polled instead", metadata: ["resource": "\(type)", "error": "\(error)"])
            return .unusable
        } catch {
            try Task.checkCancellation()
            // A 410 (the version is too old to resume from) lands here too: list again after the back-off.
            logger.info("watching the CustomResourceDefinition failed; will retry", metadata: ["resource": "\(type)", "error": "\(error)"])
            return .backOff
        }
    }

    /// Whether `definition` is Established and serves `type`'s version.
    static func servesEstablished(_ definition: JSONValue, _ type: ResourceType) -> Bool {
        let established = definition.value(atPath: "status.conditions")?.arrayValue?.contains {
            $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True"
        } ?? false
        let served = definition.value(atPath: "spec.versions")?.arrayValue?.contains {
            $0["name"]?.stringValue == type.version && $0["served"]?.boolValue == true
        } ?? false
        return established && served
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
