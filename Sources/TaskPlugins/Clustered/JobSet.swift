import KubeClient

/// The `jobset.x-k8s.io/v1alpha2` JobSet kind: the clustered-task plugin's child, run by the
/// JobSet controller as Jobs of Pods.
public enum JobSetKind: CustomObjectKind {
    public static let resourceType = ResourceType(group: "jobset.x-k8s.io", version: "v1alpha2", kind: "JobSet", plural: "jobsets", namespaced: true)
}

/// A JobSet. Spec and status stay JSON, as the JobSet CRD defines them.
public typealias JobSet = CustomObject<JobSetKind>

extension JobSet {
    /// `status.restarts`: how many times the controller recreated the whole set.
    public var restarts: Int { Int(status?["restarts"]?.intValue ?? 0) }

    /// `status.replicatedJobsStatus[]` of the replicated job `name`.
    public func replicatedJobStatus(_ name: String) -> JSONValue? {
        status?["replicatedJobsStatus"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }
}
