import KubeClient

/// A core/v1 PodTemplate: the base a task's Pod is merged onto (Flyte's
/// `default-pod-template-name`, or the task's `metadata.pod_template_name`).
public struct PodTemplate: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "PodTemplate", plural: "podtemplates", namespaced: true)

    public var apiVersion: String? = "v1"
    public var kind: String? = "PodTemplate"
    public var metadata: ObjectMeta
    /// A PodTemplateSpec: `metadata` (labels and annotations are used) and `spec`.
    public var template: JSONValue?

    public init(metadata: ObjectMeta = ObjectMeta(), template: JSONValue? = nil) {
        self.metadata = metadata
        self.template = template
    }
}
