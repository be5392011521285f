import ExecutorAPI
import FlyteDataPlane
import Foundation
import KubeClient
import KubeRuntime
import Logging
import Prometheus
import TaskPlugins

/// Wires the TaskAction executor into a ``Manager``: TaskAction informers per watched
/// namespace, the plugins (each brought up once its child kind is served, with label-scoped
/// informers of its own), the controller, the event recorder and the garbage collector.
///
/// Only the TaskAction caches are required for the manager to start and for `/readyz`; a
/// plugin whose kind is not served or is forbidden does not hold up the others (see
/// ``PluginAvailability``).
public final class Executor: Sendable {
    public let controller: Controller
    public let reconciler: TaskActionReconciler
    let informers: [String: Informer<TaskAction>]
    let plugins: PluginTable
    /// The App controller, unless `apps.enabled` is off.
    public let apps: AppController?
    /// The secrets webhook, when `webhook.enabled`.
    public let webhook: SecretsWebhook?

    /// - Parameters:
    ///   - namespaces: namespaces to watch; empty watches all.
    ///   - plugins: registered in order (the last registration of a task type wins).
    ///   - sink: where ActionEvents go (``DataPlane/make(config:manager:logger:)`` builds the
    ///     one the config names).
    ///   - errorDocuments: the error-document check on success; nil skips it.
    ///   - taskCache: Flyte's task cache for `cache=True` tasks; nil runs them every time.
    ///   - blobStore: where plugins without a child (`core-sleep`) read a task's inputs; nil
    ///     reads local files only.
    ///   - notifier: told of every phase change of TaskActions and Apps (``WebhookNotifier``).
    ///   - podNamespace: the executor's own namespace, where a PodTemplate missing from a
    ///     task's namespace is looked for (`POD_NAMESPACE`, as Flyte's).
    public init(manager: Manager, config: ExecutorConfig, namespaces: [String] = [], plugins registrations: [PluginRegistration] = PluginRegistration.builtIn, sink: any ActionEventSink = LoggingActionEventSink(), errorDocuments: ErrorDocumentCheck? = nil, taskCache: TaskCache? = nil, blobStore: (any BlobStore)? = nil, notifier: (any PhaseChangeObserver)? = nil, options: ControllerOptions = ControllerOptions(maxConcurrentReconciles: 10), podNamespace: String? = ProcessInfo.processInfo.environment["POD_NAMESPACE"], logger: Logger = Logger(label: "executor")) {
        let scopes: [String?] = namespaces.isEmpty ? [nil] : namespaces
        var registry = PluginRegistration.registry(registrations, config: config, logger: logger)
        registry.defaultForTaskTypes.merge(config.defaultForTaskTypes) { $1 }
        let podTemplates = PodTemplateSource(client: manager.client, defaultName: config.plugins.defaultPodTemplateName, defaultNamespace: podNamespace)
        let plugins = PluginTable(registry: registry, client: manager.client, errorDocuments: errorDocuments, podTemplates: podTemplates, blobStore: blobStore, connectors: config.connectorService, metrics: manager.metrics, logger: logger)
        self.plugins = plugins

        var informers: [String: Informer<TaskAction>] = [:]
        for scope in scopes {
            informers[scope ?? ""] = manager.informers.informer(TaskAction.self, scope: InformerScope(namespace: scope), transform: TaskAction.cacheTransform)
        }
        self.informers = informers
        let byNamespace = informers

        let events = EventRecorder(client: manager.client, reportingController: config.eventsReportingController, logger: logger)
        let lookup: @Sendable (String?) -> Informer<TaskAction>? = { namespace in byNamespace[namespace ?? ""] ?? byNamespace[""] }
        reconciler = TaskActionReconciler(client: manager.client, config: config, plugins: plugins, sink: sink, notifier: notifier, events: events, cache: taskCache, taskActions: lookup)
        let controller = manager.controller(name: "taskaction", reconciler: reconciler, options: options)
        self.controller = controller
        let inFlight = reconciler.inFlight
        for informer in informers.values {
            informer.addHandler { inFlight.apply($0) }
            controller.watch(informer, predicates: [reconciler.ownWriteEvents])
        }
        let discovery = Backoff(initial: .seconds(1), maximum: .seconds(max(1, config.kindRecheckSeconds)), resetAfter: .seconds(3600), jitter: 0.2)
        for driver in plugins.all {
            let id = driver.id
            driver.start(manager: manager, controller: controller, namespaces: scopes, discovery: discovery, ownerFinished: { namespace, name in
                guard let owner = lookup(namespace)?.store.get(namespace: namespace, name: name) else { return false }
                return owner.isTerminal && owner.metadata.deletionTimestamp == nil
            }) {
                // Wake the TaskActions that waited while this plugin was starting (those that
                // failed while it was unavailable are terminal and stay so).
                for informer in byNamespace.values {
                    for taskAction in informer.store.list() where !taskAction.isTerminal {
                        guard (try? plugins.driver(for: taskAction.spec.taskType ?? ""))?.id == id else { continue }
                        controller.enqueue(ReconcileRequest(namespace: taskAction.metadata.namespace, name: taskAction.metadata.name ?? ""))
                    }
                }
            }
        }
        apps = config.apps.enabled ? AppController(manager: manager, config: config, namespaces: scopes, events: events, notifier: notifier, discovery: discovery, logger: logger) : nil
        Self.countByPhase(byNamespace, metrics: manager.metrics)
        manager.add(name: "event recorder", leaderOnly: false) { await events.run() }
        webhook = config.webhook.enabled ? SecretsWebhook.install(manager: manager, config: config, namespace: podNamespace ?? manager.client.configuration.namespace, logger: logger) : nil
        let gc = GarbageCollector(client: manager.client, config: config.gc, taskActions: { byNamespace.values.flatMap { $0.store.list() } },
                                  synced: { for informer in byNamespace.values { await informer.waitForSync() } }, clock: manager.clock, logger: logger)
        manager.add(name: "garbage collector") { await gc.run() }
    }

    /// `executor_taskactions{phase}`: the TaskActions the caches hold, by `status.pluginPhase`
    /// (`Unknown` before the executor looked), as Flyte's `taskaction.active`. Counted when
    /// scraped, from the caches: nothing is kept per event.
    static func countByPhase(_ informers: [String: Informer<TaskAction>], metrics: MetricsRegistry) {
        let gauges = LockedBox<[String: Gauge]>([:])
        metrics.onScrape {
            var counts: [String: Int] = [:]
            for informer in informers.values {
                for taskAction in informer.store.list() {
                    let phase = taskAction.status?.pluginPhase ?? ""
                    counts[phase.isEmpty ? "Unknown" : phase, default: 0] += 1
                }
            }
            gauges.withLock { gauges in
                // A phase seen once stays in the family, at 0 when no TaskAction is in it.
                for phase in Set(gauges.keys).union(counts.keys) {
                    let gauge = gauges[phase] ?? metrics.gauge("executor_taskactions", [("phase", phase)], help: "TaskActions in the executor's caches, by status.pluginPhase")
                    gauges[phase] = gauge
                    gauge.set(Double(counts[phase] ?? 0))
                }
            }
        }
    }

    /// The task types of Flyte's core plugins, which make no child and come built in
    /// (``PluginTable``): a registration or `default-for-task-types` naming one takes it over.
    public static let coreTaskTypes = [SleepDriver.taskType]

    /// The plugins without a child that `config` runs, with their task types: `core-sleep`,
    /// and the connector plugin when a connector is configured.
    public static func corePlugins(config: ExecutorConfig) -> [(id: String, taskTypes: [String])] {
        var plugins = [(id: SleepDriver.taskType, taskTypes: coreTaskTypes)]
        if config.connectorService.isConfigured { plugins.append((ConnectorDriver.pluginID, config.connectorService.taskTypes)) }
        return plugins
    }

    /// The plugins' availability by id, for status pages and tests.
    public var pluginAvailability: [String: PluginAvailability] {
        Dictionary(uniqueKeysWithValues: plugins.all.map { ($0.id, $0.availability) })
    }
}
