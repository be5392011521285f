import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntime
import Logging

/// Whether Knative Serving can run apps now.
public enum KnativeAvailability: Sendable, Hashable {
    /// Discovery or the first cache sync has not finished.
    case starting
    case ready
    /// Knative's Service CRD is not installed, or RBAC forbids watching it: Apps fail with
    /// this message until it is, checked again with backoff (no restart needed).
    case unavailable(String)
}

/// The App controller's caches, filled as the kinds they follow become served.
final class AppCaches: Sendable {
    private let apps = LockedBox<[String: Informer<App>]>([:])
    private let services = LockedBox<[String: Informer<KnativeService>]>([:])
    private let revisions = LockedBox<[String: Informer<KnativeRevision>]>([:])
    private let pods = LockedBox<[String: Informer<Pod>]>([:])
    let knative = LockedBox(KnativeAvailability.starting)

    static let byService = "service"

    private static func pick<T>(_ box: LockedBox<[String: Informer<T>]>, _ namespace: String?) -> Informer<T>? {
        let all = box.value
        return all[namespace ?? ""] ?? all[""]
    }

    func set(apps informer: Informer<App>, namespace: String?) { apps.withLock { $0[namespace ?? ""] = informer } }
    func set(services informer: Informer<KnativeService>, namespace: String?) { services.withLock { $0[namespace ?? ""] = informer } }
    func set(revisions informer: Informer<KnativeRevision>, namespace: String?) { revisions.withLock { $0[namespace ?? ""] = informer } }
    func set(pods informer: Informer<Pod>, namespace: String?) { pods.withLock { $0[namespace ?? ""] = informer } }

    func app(_ namespace: String?, _ name: String) -> App? { Self.pick(apps, namespace)?.store.get(namespace: namespace, name: name) }
    func service(_ namespace: String?, _ name: String) -> KnativeService? { Self.pick(services, namespace)?.store.get(namespace: namespace, name: name) }
    func revision(_ namespace: String?, _ name: String) -> KnativeRevision? { Self.pick(revisions, namespace)?.store.get(namespace: namespace, name: name) }
    func pods(_ namespace: String?, service: String) -> [Pod] {
        Self.pick(pods, namespace)?.store.byIndex(Self.byService, "\(namespace ?? "")/\(service)") ?? []
    }
    var allApps: [App] { apps.value.values.flatMap { $0.store.list() } }

    /// The App that owns the Knative Service `name`, by the Service's controller reference.
    func owner(ofService name: String, namespace: String?) -> ReconcileRequest? {
        guard let owner = service(namespace, name)?.metadata.ownerReferences?.first(where: { $0.controller == true && $0.kind == App.resourceType.kind }) else { return nil }
        return ReconcileRequest(namespace: namespace, name: owner.name)
    }
}

/// Wires Apps into a ``Manager``: once the App CRD is served, App informers and the
/// controller; once Knative Serving is, informers on the managed Knative Services
/// (`flyte.org/app-managed=true`), their Revisions and their pods, whose events wake the
/// owning App. Nothing polls: a finished rollout costs no API call. While Knative is not
/// installed, Apps fail saying so, and the controller picks Knative up when it appears.
public final class AppController: Sendable {
    public let controller: Controller
    let caches: AppCaches

    public init(manager: Manager, config: ExecutorConfig, namespaces: [String?], events: EventRecorder, notifier: (any PhaseChangeObserver)? = nil, discovery: Backoff, logger: Logger = Logger(label: "apps")) {
        let caches = AppCaches()
        self.caches = caches
        let reconciler = AppReconciler(client: manager.client, config: config.apps, caches: caches, events: events, notifier: notifier)
        let controller = manager.controller(name: "app", reconciler: reconciler, options: ControllerOptions(maxConcurrentReconciles: 4))
        self.controller = controller
        var logger = logger
        logger[metadataKey: "controller"] = "app"
        let log = logger
        let client = manager.client
        let gauge = manager.metrics.gauge("executor_knative_ready", [], help: "1 when Knative Serving's Service kind is served and the App controller's caches synced, else 0.")
        let wakeAll: @Sendable () -> Void = {
            for app in caches.allApps { controller.enqueue(ReconcileRequest(namespace: app.metadata.namespace, name: app.metadata.name ?? "")) }
        }
        manager.add(name: "apps", leaderOnly: false) {
            try await KindDiscovery.waitUntilServed(App.resourceType, client: client, backoff: discovery, clock: manager.clock, logger: log) { first in
                if first { log.warning("\(KindDiscovery.notInstalledMessage(App.resourceType)): Apps are not reconciled until it is (kubectl apply -f dist/install.yaml installs it)") }
            }
            var appInformers: [Informer<App>] = []
            for namespace in namespaces {
                let informer = manager.informers.informer(App.self, scope: InformerScope(namespace: namespace), optional: true)
                caches.set(apps: informer, namespace: namespace)
                controller.watch(informer, waitForSync: false)
                appInformers.append(informer)
            }
            for informer in appInformers { await informer.waitForSync() }

            try await KindDiscovery.waitUntilServed(KnativeService.resourceType, client: client, backoff: discovery, clock: manager.clock, logger: log) { first in
                caches.knative.withLock { $0 = .unavailable("Knative Serving is not installed: \(KindDiscovery.notInstalledMessage(KnativeService.resourceType))") }
                if first {
                    log.warning("\(KindDiscovery.notInstalledMessage(KnativeService.resourceType)): Apps fail until Knative Serving is installed")
                    wakeAll()
                }
            }
            let keptPodLabels: Set<String> = [KnativeRevision.serviceLabel, KnativeRevision.revisionLabel]
            let byService: IndexFunction<Pod> = { pod in
                pod.metadata.labels?[KnativeRevision.serviceLabel].map { ["\(pod.metadata.namespace ?? "")/\($0)"] } ?? []
            }
            var serviceInformers: [Informer<KnativeService>] = []
            for namespace in namespaces {
                let services = manager.informers.informer(KnativeService.self, scope: InformerScope(namespace: namespace, labelSelector: "\(KServiceBuilder.managedLabel)=true"), optional: true)
                caches.set(services: services, namespace: namespace)
                controller.watch(services, handler: .enqueueOwner(group: App.resourceType.group, kind: App.resourceType.kind), waitForSync: false)
                serviceInformers.append(services)

                let revisions = manager.informers.informer(KnativeRevision.self, scope: InformerScope(namespace: namespace, labelSelector: KnativeRevision.serviceLabel),
                                                           transform: { $0.spec = nil; $0.metadata.managedFields = nil }, optional: true)
                caches.set(revisions: revisions, namespace: namespace)
                controller.watch(revisions, handler: .map { revision in
                    guard let service = revision.metadata.labels?[KnativeRevision.serviceLabel] else { return [] }
                    return caches.owner(ofService: service, namespace: revision.metadata.namespace).map { [$0] } ?? []
                }, waitForSync: false)

                let pods = manager.informers.informer(Pod.self, scope: InformerScope(namespace: namespace, labelSelector: KnativeRevision.serviceLabel), indexers: [AppCaches.byService: byService],
                                                      transform: { pod in pod.trimToStatusView(keepingLabels: keptPodLabels, annotations: []) },
                                                      decoder: Pod.statusViewDecoder, optional: true)
                caches.set(pods: pods, namespace: namespace)
                controller.watch(pods, handler: .map { pod in
                    guard let service = pod.metadata.labels?[KnativeRevision.serviceLabel] else { return [] }
                    return caches.owner(ofService: service, namespace: pod.metadata.namespace).map { [$0] } ?? []
                }, waitForSync: false)
            }
            for informer in serviceInformers where !(await KindDiscovery.syncedBeforeForbidden(informer)) {
                caches.knative.withLock { $0 = .unavailable("the executor may not list and watch \(KnativeService.resourceType.groupResource): RBAC needs the rule \(informer.requiredRule)") }
                wakeAll()
                await informer.waitForSync()
                try Task.checkCancellation()
            }
            log.info("Knative Serving found; reconciling Apps")
            caches.knative.withLock { $0 = .ready }
            gauge.set(to: 1.0)
            wakeAll()
        }
    }

    /// Whether Knative can run apps now, for status pages and tests.
    public var knativeAvailability: KnativeAvailability { caches.knative.value }
}
