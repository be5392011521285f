import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntime
import Logging
import TaskPlugins

/// Wires the TaskAction executor into a ``Manager``: TaskAction informers per watched
/// namespace, one label-scoped child informer per plugin and namespace, the controller, the
/// event recorder and the garbage collector.
public final class Executor: Sendable {
    public let controller: Controller
    public let reconciler: TaskActionReconciler
    let informers: [String: Informer<TaskAction>]

    /// - Parameters:
    ///   - namespaces: namespaces to watch; empty watches all.
    ///   - plugins: registered in order (the last registration of a task type wins); the
    ///     Pod plugin is the default unless `registry` says otherwise.
    public init(manager: Manager, config: ExecutorConfig, namespaces: [String] = [], registry: PluginRegistry? = nil, sink: any ActionEventSink = LoggingActionEventSink(), options: ControllerOptions = ControllerOptions(maxConcurrentReconciles: 10), logger: Logger = Logger(label: "executor")) {
        let scopes: [String?] = namespaces.isEmpty ? [nil] : namespaces
        var registry = registry ?? Executor.defaultRegistry(config: config, logger: logger)
        registry.defaultForTaskTypes.merge(config.defaultForTaskTypes) { $1 }

        var informers: [String: Informer<TaskAction>] = [:]
        for scope in scopes {
            informers[scope ?? ""] = manager.informers.informer(TaskAction.self, scope: InformerScope(namespace: scope))
        }
        self.informers = informers
        let byNamespace = informers

        var drivers: [String: any PluginDriver] = [:]
        for (id, plugin) in registry.plugins {
            drivers[id] = Self.driver(for: plugin, client: manager.client, logger: logger)
        }

        let events = EventRecorder(client: manager.client, reportingController: config.eventsReportingController, logger: logger)
        let lookup: @Sendable (String?) -> Informer<TaskAction>? = { namespace in byNamespace[namespace ?? ""] ?? byNamespace[""] }
        reconciler = TaskActionReconciler(client: manager.client, config: config, registry: registry, drivers: drivers, sink: sink, events: events, taskActions: lookup)
        controller = manager.controller(name: "taskaction", reconciler: reconciler, options: options)
        for informer in informers.values {
            controller.watch(informer)
        }
        for driver in drivers.values {
            driver.attach(informers: manager.informers, controller: controller, namespaces: scopes)
        }
        manager.add(name: "event recorder", leaderOnly: false) { await events.run() }
        let gc = GarbageCollector(client: manager.client, config: config.gc, namespaces: scopes, clock: manager.clock, logger: logger)
        manager.add(name: "garbage collector") { await gc.run() }
    }

    /// The stock plugins: the Pod plugin, registered as the default.
    public static func defaultRegistry(config: ExecutorConfig, logger: Logger) -> PluginRegistry {
        var registry = PluginRegistry(logger: logger)
        registry.register(PodPlugin(config: config.plugins), isDefault: true)
        return registry
    }

    static func driver<P: KubernetesTaskPlugin>(for plugin: P, client: KubernetesClient, logger: Logger) -> any PluginDriver {
        KubernetesPluginDriver(plugin: plugin, client: client, logger: logger)
    }
}
