import KubeClient

/// The `sparkoperator.k8s.io/v1beta2` SparkApplication kind: the Spark plugin's child.
public enum SparkApplicationKind: CustomObjectKind {
    public static let resourceType = ResourceType(group: "sparkoperator.k8s.io", version: "v1beta2", kind: "SparkApplication", plural: "sparkapplications", namespaced: true)
}

/// A SparkApplication. Spec and status stay JSON, as the operator's CRD defines them
/// (`shared/fixtures`).
public typealias SparkApplication = CustomObject<SparkApplicationKind>

extension SparkApplication {
    /// `status.applicationState.state`: NEW, SUBMITTED, RUNNING, COMPLETED, FAILED, …
    public var state: String? { status?.value(atPath: "applicationState.state")?.stringValue }
}
