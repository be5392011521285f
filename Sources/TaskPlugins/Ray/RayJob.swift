import Foundation
import KubeClient

/// A `ray.io/v1` RayJob with its embedded cluster: the Ray plugin's child. Spec and status
/// stay JSON, as KubeRay's CRD defines them (`shared/fixtures`).
public struct RayJob: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "ray.io", version: "v1", kind: "RayJob", plural: "rayjobs", namespaced: true)

    public var apiVersion: String? = "ray.io/v1"
    public var kind: String? = "RayJob"
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(metadata: ObjectMeta = ObjectMeta(), spec: JSONValue? = nil, status: JSONValue? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `status.jobDeploymentStatus`: Initializing, Running, Complete, Failed, …
    public var deploymentStatus: String? { status?["jobDeploymentStatus"]?.stringValue }
}
