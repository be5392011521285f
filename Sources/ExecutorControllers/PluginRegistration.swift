import Logging
import TaskPlugins

/// How a plugin joins an executor: made from the configuration once it is loaded, so a plugin
/// can read its settings. Pass these to ``Executor`` or to the command line's entry point.
///
/// ```swift
/// let plugins = PluginRegistration.builtIn + [.plugin { _ in JobPlugin() }]
/// ```
public struct PluginRegistration: Sendable {
    public var make: @Sendable (ExecutorConfig) -> any KubernetesTaskPlugin
    /// Run task types no plugin registered with this one (Flyte's `IsDefault`).
    public var isDefault: Bool

    public init(isDefault: Bool = false, make: @escaping @Sendable (ExecutorConfig) -> any KubernetesTaskPlugin) {
        self.make = make
        self.isDefault = isDefault
    }

    /// A plugin built from the configuration.
    public static func plugin(isDefault: Bool = false, _ make: @escaping @Sendable (ExecutorConfig) -> any KubernetesTaskPlugin) -> Self {
        Self(isDefault: isDefault, make: make)
    }

    /// A plugin that needs no configuration.
    public static func plugin(_ plugin: any KubernetesTaskPlugin, isDefault: Bool = false) -> Self {
        Self(isDefault: isDefault) { _ in plugin }
    }

    /// The plugins this executor ships: the Pod plugin (`container`, `python`, `raw-container`,
    /// `sidecar`), registered as the default, and the Spark, Ray, Kubeflow (PyTorch,
    /// TensorFlow, MPI), Dask and clustered-task (JobSet) plugins: the Kubernetes task types
    /// Flyte v2's executor registers.
    public static var builtIn: [PluginRegistration] {
        [
            .plugin(isDefault: true) { PodPlugin(config: $0.plugins) },
            .plugin { SparkPlugin(config: $0.plugins, spark: $0.spark) },
            .plugin { RayPlugin(config: $0.plugins, ray: $0.ray) },
            .plugin { PyTorchPlugin(config: $0.plugins, kubeflow: $0.kfOperator) },
            .plugin { TensorFlowPlugin(config: $0.plugins, kubeflow: $0.kfOperator) },
            .plugin { MPIPlugin(config: $0.plugins, kubeflow: $0.kfOperator) },
            .plugin { DaskPlugin(config: $0.plugins, dask: $0.dask) },
            .plugin { ClusteredTaskPlugin(config: $0.plugins) },
        ]
    }

    /// The registry of `registrations` in order (the last registration of a task type wins).
    public static func registry(_ registrations: [PluginRegistration], config: ExecutorConfig, logger: Logger) -> PluginRegistry {
        var registry = PluginRegistry(logger: logger)
        for registration in registrations {
            registry.register(registration.make(config), isDefault: registration.isDefault)
        }
        return registry
    }
}
