import KubeClient

/// What the executor sets on every child before creating it: the generated name, the
/// namespace, the executor's labels (over the plugin's), the executor's annotations (under the
/// plugin's), and the controller owner reference to the TaskAction unless the plugin opts out.
public enum ChildMetadata {
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
    }
}
