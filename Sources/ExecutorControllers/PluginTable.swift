import FlyteDataPlane
import KubeClient
import KubeRuntime
import Logging
import TaskPlugins

/// The running plugins: one driver per registered plugin, found by task type with the
/// registry's rules (exact registration, `default-for-task-types`, default plugin). Built once
/// from the registry, so every plugin a task type resolves to has its driver. Flyte's core
/// plugins, which make no child (`core-sleep`, and the connector plugin's task types), come
/// before the default plugin: a registration or `default-for-task-types` naming their task type
/// wins over them, and `default-for-task-types` may name a core plugin.
struct PluginTable: Sendable {
    let registry: PluginRegistry
    private let drivers: [String: any PluginDriver]
    /// Task type → core plugin.
    private let core: [String: any PluginDriver]

    /// - Parameter errorDocuments: checks every reported success for an error document;
    ///   nil takes successes as they come (`storage.type: none`).
    /// - Parameter metrics: where the drivers count their plugins' slow calls; nil counts none.
    /// - Parameter podTemplates: where the base PodTemplate of a child is read; nil reads none.
    /// - Parameter blobStore: where core plugins read a task's inputs; nil reads local files.
    init(registry: PluginRegistry, client: KubernetesClient, errorDocuments: ErrorDocumentCheck? = nil, podTemplates: PodTemplateSource? = nil, blobStore: (any BlobStore)? = nil, connectors: ConnectorServiceConfig = ConnectorServiceConfig(), metrics: MetricsRegistry? = nil, logger: Logger) {
        self.registry = registry
        drivers = registry.plugins.mapValues { Self.driver(for: $0, client: client, errorDocuments: errorDocuments, podTemplates: podTemplates, metrics: metrics, logger: logger) }
        var core: [String: any PluginDriver] = [SleepDriver.taskType: SleepDriver(store: blobStore)]
        if connectors.isConfigured {
            do {
                let driver = try ConnectorDriver(config: connectors, store: blobStore, metrics: metrics, logger: logger)
                for taskType in driver.taskTypes where core[taskType] == nil { core[taskType] = driver }
            } catch {
                // ExecutorConfig.parse checks the endpoints; a config built in code may not.
                logger.error("the connector plugin is not started", metadata: ["error": "\(error)"])
            }
        }
        self.core = core
    }

    private static func driver<P: KubernetesTaskPlugin>(for plugin: P, client: KubernetesClient, errorDocuments: ErrorDocumentCheck?, podTemplates: PodTemplateSource?, metrics: MetricsRegistry?, logger: Logger) -> any PluginDriver {
        KubernetesPluginDriver(plugin: plugin, client: client, errorDocuments: errorDocuments, podTemplates: podTemplates, metrics: metrics, logger: logger)
    }

    /// Every driver, in plugin id order, then the core plugins' (each once, though the
    /// connector plugin runs several task types).
    var all: [any PluginDriver] {
        var seen = Set<String>()
        let coreDrivers = core.keys.sorted().compactMap { core[$0] }.filter { seen.insert($0.id).inserted }
        return drivers.keys.sorted().compactMap { drivers[$0] } + coreDrivers
    }

    /// The driver of the plugin that runs `taskType`.
    func driver(for taskType: String) throws(PluginRegistry.NotFound) -> any PluginDriver {
        if let driver = core[taskType], !registry.names(taskType) { return driver }
        // `default-for-task-types: {spark: connector-service}` sends a type a Kubernetes plugin
        // registers to a core plugin instead (Flyte's way to run Spark on Databricks).
        if let id = registry.defaultForTaskTypes[taskType], let driver = core.values.first(where: { $0.id == id }) { return driver }
        let id = try registry.pluginID(for: taskType)
        guard let driver = drivers[id] else {
            // Unreachable: the drivers were made from the same registry.
            throw PluginRegistry.NotFound(taskType: taskType, reason: "plugin \"\(id)\" has no driver")
        }
        return driver
    }
}
