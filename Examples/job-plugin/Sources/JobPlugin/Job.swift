import KubeClient

/// The `batch/v1` Job kind: the child of `k8s_job` tasks.
public enum JobKind: CustomObjectKind {
    public static let resourceType = ResourceType(group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true)
}

/// A Job. Only what the plugin reads is typed; spec and status stay JSON.
public typealias Job = CustomObject<JobKind>

extension Job {
    /// The status of condition `type` (`Complete`, `Failed`, `Suspended`), if the Job has it.
    public func condition(_ type: String) -> JSONValue? {
        conditions.first { $0["type"] == .string(type) && $0["status"] == "True" }
    }
}
