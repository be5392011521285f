import KubeClient

/// What the executor sets on every child before creating it: the generated name, the
/// namespace, the executor's labels (over the plugin's), the executor's annotations (under the
/// plugin's), the controller owner reference to the TaskAction unless the plugin opts out, and
/// with `inject-finalizer` the finalizer ``finalizer``.
public enum ChildMetadata {
    /// Flyte's finalizer on children (`flytek8s`'s `inject-finalizer`).
    public static let finalizer = "flyte/flytek8s"

    public static func apply<Child: KubernetesObject>(to child: inout Child, context: TaskExecutionContext, properties: PluginProperties) {
        child.metadata.name = context.generatedName
        child.metadata.namespace = context.namespace
        var labels = child.metadata.labels ?? [:]
        for (k, v) in context.labels { labels[k] = v }
        child.metadata.labels = labels
        var annotations = context.annotations
        for (k, v) in child.metadata.annotations ?? [:] { annotations[k] = v }
        child.metadata.annotations = annotations
        if !properties.disableInjectOwnerReferences {
            child.metadata.ownerReferences = (child.metadata.ownerReferences ?? []) + [context.ownerReference]
        }
        if context.config.injectFinalizer, !(child.metadata.finalizers ?? []).contains(finalizer) {
            child.metadata.finalizers = (child.metadata.finalizers ?? []) + [finalizer]
        }
    }
}
