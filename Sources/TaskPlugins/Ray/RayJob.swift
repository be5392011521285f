import KubeClient

/// The `ray.io/v1` RayJob kind: the Ray plugin's child, a job with its embedded cluster.
public enum RayJobKind: CustomObjectKind {
    public static let resourceType = ResourceType(group: "ray.io", version: "v1", kind: "RayJob", plural: "rayjobs", namespaced: true)
}

/// A RayJob. Spec and status stay JSON, as KubeRay's CRD defines them (`shared/fixtures`).
public typealias RayJob = CustomObject<RayJobKind>

extension RayJob {
    /// `status.jobDeploymentStatus`: Initializing, Running, Complete, Failed, …
    public var deploymentStatus: String? { status?["jobDeploymentStatus"]?.stringValue }
}
