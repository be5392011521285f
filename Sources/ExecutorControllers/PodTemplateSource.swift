import ExecutorAPI
import KubeClient
import TaskPlugins

/// Finds the PodTemplate a task's Pod is built on, as Flyte's `getBasePodTemplate` and
/// `PodTemplateStore.LoadOrDefault` do: the one the task names (`metadata.pod_template_name`),
/// else `default-pod-template-name`; in the task's namespace, else in the executor's own.
///
/// It is read when a child is built (once per attempt, one or two GETs), not cached by an
/// informer: most installations use none, and those that do pay a read per launch instead of a
/// cluster-wide watch of every PodTemplate.
struct PodTemplateSource: Sendable {
    var client: KubernetesClient
    /// `default-pod-template-name`; empty for none.
    var defaultName: String
    /// Where a template missing from the task's namespace is looked for (the executor's Pod's
    /// namespace, `POD_NAMESPACE`, as Flyte's).
    var defaultNamespace: String?

    /// The template for `context`, nil when none is asked for or the default one does not
    /// exist. A template the task names that exists nowhere is the task's error; a refused or
    /// failed read is thrown (a system error, retried).
    func template(for context: TaskExecutionContext) async throws -> PodTemplate? {
        let named = context.template.metadata.podTemplateName
        let name = named.isEmpty ? defaultName : named
        guard !name.isEmpty else { return nil }
        var namespaces = [context.namespace]
        if let defaultNamespace, !defaultNamespace.isEmpty, defaultNamespace != context.namespace { namespaces.append(defaultNamespace) }
        for namespace in namespaces {
            do {
                return try await client.get(PodTemplate.self, name: name, namespace: namespace)
            } catch let error as KubeAPIError where error.isNotFound {
                continue
            }
        }
        if named.isEmpty { return nil }
        throw ExecutionError(code: "BadTaskSpecification", message: "PodTemplate '\(name)' does not exist", kind: .user)
    }
}
