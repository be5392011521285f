import KubeClient

/// A `batch/v1` Job: the child of `k8s_job` tasks. Only what the plugin reads is typed.
public struct Job: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true)

    public var apiVersion: String? = "batch/v1"
    public var kind: String? = "Job"
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(metadata: ObjectMeta = ObjectMeta(), spec: JSONValue? = nil, status: JSONValue? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The status of condition `type` (`Complete`, `Failed`, `Suspended`), if the Job has it.
    public func condition(_ type: String) -> JSONValue? {
        status?["conditions"]?.arrayValue?.first { $0["type"] == .string(type) && $0["status"] == "True" }
    }
}
