import Foundation
import KubeClient
import Synchronization

/// Knative Serving, simulated through the API as its controllers act: for each Service a
/// Configuration and a Route of the same name; a Revision `<name>-00001`, `-00002`, … per
/// change of the template (recreated if deleted while it is the latest); the Revision's pods,
/// labelled as Knative labels them, as many as `autoscaling.knative.dev/initial-scale`
/// (default 1) and `min-scale` ask, capped by `max-scale`; and the status Knative writes:
/// Ready / ConfigurationsReady / RoutesReady, `url`, `address.url`,
/// `latestCreatedRevisionName`, `latestReadyRevisionName`, the Revision's `actualReplicas`.
/// Once a new Revision is ready the older ones scale to zero. Deleting a Revision deletes its
/// pods (they are owned by it: Knative's Deployment and ReplicaSet between them are not made).
///
/// The pods run until deleted (`kubelet.sandbox.flyte.org/outcome: hang`) unless the
/// container's environment picks another outcome for the ``SimulatedKubelet``
/// (`SANDBOX_OUTCOME=fail` crash-loops, `oom` OOM-kills, `secret-missing`, an image under
/// `.invalid`, …). `SANDBOX_IDLE_AFTER=<seconds>` scales a ready Revision whose min-scale is
/// 0 to zero after that long, as the autoscaler does once traffic stops. Not simulated: the
/// webhook's validation and defaults (it only stamps `serving.knative.dev/creator`), traffic
/// splits, tags, domain mappings and the activator.
final class SimulatedKnative: Sendable {
    enum KService: CustomObjectKind { static let resourceType = ResourceType(group: "serving.knative.dev", version: "v1", kind: "Service", plural: "services", namespaced: true) }
    enum Configuration: CustomObjectKind { static let resourceType = ResourceType(group: "serving.knative.dev", version: "v1", kind: "Configuration", plural: "configurations", namespaced: true) }
    enum Revision: CustomObjectKind { static let resourceType = ResourceType(group: "serving.knative.dev", version: "v1", kind: "Revision", plural: "revisions", namespaced: true) }
    enum Route: CustomObjectKind { static let resourceType = ResourceType(group: "serving.knative.dev", version: "v1", kind: "Route", plural: "routes", namespaced: true) }

    static let serviceLabel = "serving.knative.dev/service"
    static let revisionLabel = "serving.knative.dev/revision"
    static let creatorAnnotation = "serving.knative.dev/creator"
    /// The domain of external URLs (Knative's default `config-domain`).
    static let domain = "example.com"

    let client: KubernetesClient
    private let queued = Mutex<Set<String>>([])
    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    /// Revisions (by uid) scaled to zero as idle, and those with an idle timer running.
    private let idle = Mutex<(scaled: Set<String>, timers: [String: Task<Void, Never>])>(([], [:]))

    init(client: KubernetesClient) {
        self.client = client
        (stream, continuation) = AsyncStream.makeStream(of: String.self)
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await WatchLoop.run(self.client, CustomObject<KService>.self) { event in self.enqueue(event.object?.metadata, name: event.object?.metadata.name) } }
            group.addTask { await WatchLoop.run(self.client, CustomObject<Revision>.self, labelSelector: Self.serviceLabel) { event in self.enqueue(event.object?.metadata, name: event.object?.metadata.labels?[Self.serviceLabel]) } }
            group.addTask { await WatchLoop.run(self.client, Pod.self, labelSelector: Self.serviceLabel) { event in self.enqueue(event.object?.metadata, name: event.object?.metadata.labels?[Self.serviceLabel]) } }
            group.addTask {
                await withTaskCancellationHandler {
                    for await key in self.stream {
                        self.queued.withLock { _ = $0.remove(key) }
                        if await !self.reconcile(key) {
                            try? await Task.sleep(for: .milliseconds(100))
                            self.enqueue(key)
                        }
                    }
                } onCancel: {
                    self.continuation.finish()
                }
            }
        }
        let timers = idle.withLock { $0.timers.values }
        for timer in timers { timer.cancel() }
    }

    private func enqueue(_ metadata: ObjectMeta?, name: String?) {
        guard let name, let namespace = metadata?.namespace else { return }
        enqueue("\(namespace)/\(name)")
    }

    private func enqueue(_ key: String) {
        if queued.withLock({ $0.insert(key).inserted }) { continuation.yield(key) }
    }

    // MARK: One Service

    /// Brings one Service's Configuration, Revisions, pods, Route and statuses in line; false
    /// when a write lost a race and the round should run again.
    private func reconcile(_ key: String) async -> Bool {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        let (namespace, name) = (parts[0], parts[1])
        let service: CustomObject<KService>
        do {
            service = try await client.get(CustomObject<KService>.self, name: name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return true
        } catch {
            return false
        }
        guard service.metadata.deletionTimestamp == nil else { return true }
        do {
            if service.metadata.annotations?[Self.creatorAnnotation] == nil {
                // The webhook's part: who made the Service, immutable afterwards.
                _ = try await client.patch(KService.resourceType, name: name, namespace: namespace,
                                           .merge(["metadata": ["annotations": [.init(Self.creatorAnnotation): "kubernetes-admin", "serving.knative.dev/lastModifier": "kubernetes-admin"]]]))
                return true  // its event runs the next round
            }
            let template = service.spec?["template"] ?? [:]
            let configuration = try await ensureConfiguration(service, template: template)
            let generation = configuration.metadata.generation ?? 1
            let latestName = "\(name)-\(String(format: "%05d", generation))"
            try await ensureRevision(latestName, configuration: configuration, template: template)

            let revisions = try await client.list(CustomObject<Revision>.self, namespace: namespace, options: ListOptions(labelSelector: "\(Self.serviceLabel)=\(name)")).items
            let pods = try await client.list(Pod.self, namespace: namespace, options: ListOptions(labelSelector: "\(Self.serviceLabel)=\(name)")).items
            guard let latest = revisions.first(where: { $0.metadata.name == latestName }) else { return false }
            let latestReady = try await scale(latest, pods: pods, retiring: false)
            for revision in revisions where revision.metadata.name != latestName {
                // Older revisions keep serving until the latest is ready, then go to zero.
                _ = try await scale(revision, pods: pods, retiring: latestReady)
            }
            var readyName: String? = latestReady ? latestName : nil
            if readyName == nil, let previous = configuration.status?["latestReadyRevisionName"]?.stringValue, revisions.contains(where: { $0.metadata.name == previous }) {
                readyName = previous
            }
            try await writeStatuses(service, configuration: configuration, latestName: latestName, latestReady: latestReady, readyName: readyName)
            return true
        } catch let error as KubeAPIError where error.code == 409 || error.isNotFound {
            return false
        } catch {
            return false
        }
    }

    private func ensureConfiguration(_ service: CustomObject<KService>, template: JSONValue) async throws -> CustomObject<Configuration> {
        let name = service.metadata.name ?? ""
        let namespace = service.metadata.namespace
        do {
            var configuration = try await client.get(CustomObject<Configuration>.self, name: name, namespace: namespace)
            if configuration.spec?["template"] != template {
                configuration.spec = ["template": template]
                configuration = try await client.update(configuration)
            }
            return configuration
        } catch let error as KubeAPIError where error.isNotFound {
            var labels = service.metadata.labels ?? [:]
            labels[Self.serviceLabel] = name
            labels["serving.knative.dev/serviceUID"] = service.metadata.uid ?? ""
            let object: JSONValue = [
                "apiVersion": "serving.knative.dev/v1", "kind": "Configuration",
                "metadata": ["name": .string(name), "namespace": .string(namespace ?? "default"), "labels": .object(labels.mapValues { .string($0) }),
                             "ownerReferences": [SimulatedOperators.owner(KService.resourceType, service.metadata)]],
                "spec": ["template": template],
            ]
            return try JSONValueDecoder().decode(CustomObject<Configuration>.self, from: try await client.create(Configuration.resourceType, object))
        }
    }

    private func ensureRevision(_ name: String, configuration: CustomObject<Configuration>, template: JSONValue) async throws {
        let namespace = configuration.metadata.namespace
        do {
            _ = try await client.get(Revision.resourceType, name: name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            var labels = template.value(atPath: "metadata.labels")?.objectValue ?? [:]
            let service = configuration.metadata.labels?[Self.serviceLabel] ?? configuration.metadata.name ?? ""
            labels["serving.knative.dev/configuration"] = .string(configuration.metadata.name ?? "")
            labels["serving.knative.dev/configurationUID"] = .string(configuration.metadata.uid ?? "")
            labels["serving.knative.dev/configurationGeneration"] = .string(String(configuration.metadata.generation ?? 1))
            labels[Self.serviceLabel] = .string(service)
            labels["serving.knative.dev/serviceUID"] = .string(configuration.metadata.labels?["serving.knative.dev/serviceUID"] ?? "")
            labels["serving.knative.dev/routingState"] = "active"
            var metadata: JSONValue = ["name": .string(name), "namespace": .string(namespace ?? "default"), "labels": .object(labels),
                                       "ownerReferences": [SimulatedOperators.owner(Configuration.resourceType, configuration.metadata)]]
            if let annotations = template.value(atPath: "metadata.annotations") { metadata["annotations"] = annotations }
            let object: JSONValue = ["apiVersion": "serving.knative.dev/v1", "kind": "Revision", "metadata": metadata, "spec": template["spec"] ?? [:]]
            _ = try await client.create(Revision.resourceType, object)
        }
    }

    /// How many pods a revision wants: initial-scale (1) raised to min-scale and capped by
    /// max-scale; min-scale once it went idle.
    private func desiredScale(_ revision: CustomObject<Revision>) -> Int {
        let annotations = revision.metadata.annotations ?? [:]
        let minimum = annotations["autoscaling.knative.dev/min-scale"].flatMap(Int.init) ?? 0
        let maximum = annotations["autoscaling.knative.dev/max-scale"].flatMap(Int.init) ?? 0
        let initial = annotations["autoscaling.knative.dev/initial-scale"].flatMap(Int.init) ?? 1
        if idle.withLock({ $0.scaled.contains(revision.metadata.uid ?? "") }) { return minimum }
        var desired = max(initial, minimum)
        if maximum > 0 { desired = min(desired, maximum) }
        return desired
    }

    /// Creates or deletes the revision's pods to its scale (zero when `retiring`), writes its
    /// status, and says whether it is ready.
    private func scale(_ revision: CustomObject<Revision>, pods: [Pod], retiring: Bool) async throws -> Bool {
        let name = revision.metadata.name ?? ""
        let namespace = revision.metadata.namespace
        let mine = pods.filter { $0.metadata.labels?[Self.revisionLabel] == name && $0.metadata.deletionTimestamp == nil }
        let desired = retiring ? 0 : desiredScale(revision)
        if mine.count < desired {
            for _ in mine.count..<desired { try await createPod(revision) }
        } else if mine.count > desired {
            for pod in mine.sorted(by: { ($0.metadata.creationTimestamp ?? "") > ($1.metadata.creationTimestamp ?? "") }).prefix(mine.count - desired) {
                // A failed delete fails the round, which runs again (a Pod gone already is fine).
                do {
                    _ = try await client.delete(Pod.self, name: pod.metadata.name ?? "", namespace: namespace)
                } catch let error as KubeAPIError where error.isNotFound {}
            }
        }
        let ready = mine.filter { pod in pod.status?.phase == "Running" && (pod.status?.containerStatuses ?? []).allSatisfy { $0.ready == true } && !(pod.status?.containerStatuses ?? []).isEmpty }.count
        let wasReady = Self.condition(revision.status, "Ready")?["status"]?.stringValue == "True"
        let isReady = wasReady || (desired == 0 && !retiring) || (desired > 0 && ready >= desired)
        if isReady && !wasReady { scheduleIdle(revision) }
        let status: JSONValue = [
            "observedGeneration": .int(revision.metadata.generation ?? 1),
            "conditions": Self.conditions(revision.status, [
                ("Ready", isReady ? "True" : "Unknown", isReady ? nil : "Deploying"),
                ("ContainerHealthy", isReady ? "True" : "Unknown", isReady ? nil : "Deploying"),
                ("ResourcesAvailable", isReady ? "True" : "Unknown", isReady ? nil : "Deploying"),
                ("Active", ready > 0 ? "True" : "False", ready > 0 ? nil : "NoTraffic"),
            ]),
            "actualReplicas": .int(Int64(ready)), "desiredReplicas": .int(Int64(desired)),
            "containerStatuses": .array((revision.spec?["containers"]?.arrayValue ?? []).map { ["name": $0["name"] ?? "user-container", "imageDigest": $0["image"] ?? ""] }),
        ]
        try await writeStatus(Revision.resourceType, revision.metadata, old: revision.status, status)
        return isReady
    }

    /// After `SANDBOX_IDLE_AFTER` seconds, a ready revision with min-scale 0 goes to zero.
    private func scheduleIdle(_ revision: CustomObject<Revision>) {
        let env = SimulatedOperators.environment(["spec": revision.spec ?? [:]])
        guard let seconds = env["SANDBOX_IDLE_AFTER"].flatMap(Double.init), let uid = revision.metadata.uid,
            (revision.metadata.annotations?["autoscaling.knative.dev/min-scale"].flatMap(Int.init) ?? 0) == 0
        else { return }
        let key = "\(revision.metadata.namespace ?? "")/\(revision.metadata.labels?[Self.serviceLabel] ?? "")"
        idle.withLock { state in
            guard state.timers[uid] == nil else { return }
            state.timers[uid] = Task { [self] in
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                guard !Task.isCancelled else { return }
                idle.withLock { _ = $0.scaled.insert(uid) }
                enqueue(key)
            }
        }
    }

    private func createPod(_ revision: CustomObject<Revision>) async throws {
        let name = revision.metadata.name ?? ""
        var labels = revision.metadata.labels ?? [:]
        labels[Self.revisionLabel] = name
        labels["serving.knative.dev/revisionUID"] = revision.metadata.uid ?? ""
        labels["app"] = name
        labels["pod-template-hash"] = String((revision.metadata.uid ?? "x").filter(\.isHexDigit).prefix(10))
        var annotations = revision.metadata.annotations ?? [:]
        var spec = revision.spec ?? [:]
        for field in ["timeoutSeconds", "containerConcurrency", "responseStartTimeoutSeconds", "idleTimeoutSeconds"] { spec[field] = nil }
        var containers = spec["containers"]?.arrayValue ?? []
        if containers.isEmpty { containers = [["image": "registry.invalid/missing"]] }
        let env = SimulatedOperators.environment(["spec": ["containers": .array(containers)]])
        if annotations[SimulatedKubelet.outcomeAnnotation] == nil && env["SANDBOX_OUTCOME"] == nil {
            annotations[SimulatedKubelet.outcomeAnnotation] = "hang"  // a server runs until stopped
        }
        if containers[0]["name"] == nil { containers[0]["name"] = "user-container" }
        let port = containers[0]["ports"]?.arrayValue?.first?["containerPort"]?.intValue ?? 8080
        let knativeEnv: [JSONValue] = [
            ["name": "PORT", "value": .string(String(port))], ["name": "K_REVISION", "value": .string(name)],
            ["name": "K_CONFIGURATION", "value": .string(labels["serving.knative.dev/configuration"] ?? "")],
            ["name": "K_SERVICE", "value": .string(labels[Self.serviceLabel] ?? "")],
        ]
        containers[0]["env"] = .array((containers[0]["env"]?.arrayValue ?? []) + knativeEnv)
        containers.append(["name": "queue-proxy", "image": "gcr.io/knative-releases/knative.dev/serving/cmd/queue",
                           "env": [["name": "SERVING_REVISION", "value": .string(name)]]])
        spec["containers"] = .array(containers)
        spec["restartPolicy"] = "Always"
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["generateName": .string("\(name)-deployment-\(labels["pod-template-hash"] ?? "")-"), "namespace": .string(revision.metadata.namespace ?? "default"),
                         "labels": .object(labels.mapValues { .string($0) }), "annotations": .object(annotations.mapValues { .string($0) }),
                         "ownerReferences": [SimulatedOperators.owner(Revision.resourceType, revision.metadata)]],
            "spec": spec,
        ]
        _ = try await client.create(Pod.resourceType, pod)
    }

    private func writeStatuses(_ service: CustomObject<KService>, configuration: CustomObject<Configuration>, latestName: String, latestReady: Bool, readyName: String?) async throws {
        let name = service.metadata.name ?? ""
        let namespace = service.metadata.namespace ?? "default"
        let configurationReady = latestReady ? "True" : "Unknown"
        let waiting = "Revision \"\(latestName)\" is not ready yet."
        var configurationStatus: JSONValue = [
            "observedGeneration": .int(configuration.metadata.generation ?? 1), "latestCreatedRevisionName": .string(latestName),
            "conditions": Self.conditions(configuration.status, [("Ready", configurationReady, latestReady ? nil : "Deploying")]),
        ]
        if let readyName { configurationStatus["latestReadyRevisionName"] = .string(readyName) }
        try await writeStatus(Configuration.resourceType, configuration.metadata, old: configuration.status, configurationStatus)

        let clusterLocal = service.metadata.labels?["networking.knative.dev/visibility"] == "cluster-local"
        let clusterURL = "http://\(name).\(namespace).svc.cluster.local"
        let url = clusterLocal ? clusterURL : "http://\(name).\(namespace).\(Self.domain)"
        let routeReady = readyName != nil ? "True" : "Unknown"
        var routed: JSONValue = ["observedGeneration": 1]
        if let readyName {
            routed["url"] = .string(url)
            routed["address"] = ["url": .string(clusterURL)]
            routed["traffic"] = [["revisionName": .string(readyName), "latestRevision": true, "percent": 100]]
        }
        let route = try await ensureRoute(service)
        routed["conditions"] = Self.conditions(route.status, [("Ready", routeReady, readyName != nil ? nil : "RevisionMissing"), ("AllTrafficAssigned", routeReady, nil)])
        try await writeStatus(Route.resourceType, route.metadata, old: route.status, routed)

        let ready = configurationReady == "True" && routeReady == "True" ? "True" : "Unknown"
        var status: JSONValue = [
            "observedGeneration": .int(service.metadata.generation ?? 1), "latestCreatedRevisionName": .string(latestName),
            "conditions": Self.conditions(service.status, [
                ("ConfigurationsReady", configurationReady, latestReady ? nil : "RevisionMissing", latestReady ? nil : "Configuration \"\(name)\" is waiting for a Revision to become ready."),
                ("Ready", ready, ready == "True" ? nil : "RevisionMissing", ready == "True" ? nil : waiting),
                ("RoutesReady", routeReady, readyName != nil ? nil : "RevisionMissing", nil),
            ]),
        ]
        if let readyName {
            status["latestReadyRevisionName"] = .string(readyName)
            status["url"] = .string(url)
            status["address"] = ["url": .string(clusterURL)]
            status["traffic"] = [["revisionName": .string(readyName), "latestRevision": true, "percent": 100]]
        }
        try await writeStatus(KService.resourceType, service.metadata, old: service.status, status)
    }

    private func ensureRoute(_ service: CustomObject<KService>) async throws -> CustomObject<Route> {
        let name = service.metadata.name ?? ""
        do {
            return try await client.get(CustomObject<Route>.self, name: name, namespace: service.metadata.namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            let object: JSONValue = [
                "apiVersion": "serving.knative.dev/v1", "kind": "Route",
                "metadata": ["name": .string(name), "namespace": .string(service.metadata.namespace ?? "default"), "labels": [.init(Self.serviceLabel): .string(name)],
                             "ownerReferences": [SimulatedOperators.owner(KService.resourceType, service.metadata)]],
                "spec": ["traffic": [["configurationName": .string(name), "latestRevision": true, "percent": 100]]],
            ]
            return try JSONValueDecoder().decode(CustomObject<Route>.self, from: try await client.create(Route.resourceType, object))
        }
    }

    // MARK: Status helpers

    static func condition(_ status: JSONValue?, _ type: String) -> JSONValue? {
        status?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    /// Knative conditions, keeping a condition's lastTransitionTime while its status holds.
    static func conditions(_ old: JSONValue?, _ wanted: [(String, String, String?, String?)]) -> JSONValue {
        let now = KubeTime.format(Date())
        return .array(wanted.map { type, status, reason, message in
            var c: JSONValue = ["type": .string(type), "status": .string(status)]
            let previous = condition(old, type)
            c["lastTransitionTime"] = previous?["status"]?.stringValue == status ? previous?["lastTransitionTime"] ?? .string(now) : .string(now)
            if let reason { c["reason"] = .string(reason) }
            if let message { c["message"] = .string(message) }
            return c
        })
    }

    static func conditions(_ old: JSONValue?, _ wanted: [(String, String, String?)]) -> JSONValue {
        conditions(old, wanted.map { ($0.0, $0.1, $0.2, nil) })
    }

    /// Merges `status` into the object's `/status` unless nothing in it changed.
    private func writeStatus(_ type: ResourceType, _ metadata: ObjectMeta, old: JSONValue?, _ status: JSONValue) async throws {
        if let old, status.objectValue?.allSatisfy({ old[$0.key] == $0.value }) == true { return }
        var patch: JSONValue = ["status": status]
        patch["metadata"] = ["resourceVersion": .string(metadata.resourceVersion ?? "")]
        _ = try await client.patch(type, name: metadata.name ?? "", namespace: metadata.namespace, .merge(patch), subresource: "status")
    }
}
