import Foundation
import KubeClient

/// A `sparkoperator.k8s.io/v1beta2` SparkApplication: the Spark plugin's child. Spec and status
/// stay JSON, as the operator's CRD defines them (`shared/fixtures`).
public struct SparkApplication: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "sparkoperator.k8s.io", version: "v1beta2", kind: "SparkApplication", plural: "sparkapplications", namespaced: true)

    public var apiVersion: String? = "sparkoperator.k8s.io/v1beta2"
    public var kind: String? = "SparkApplication"
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(metadata: ObjectMeta = ObjectMeta(), spec: JSONValue? = nil, status: JSONValue? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `status.applicationState.state`: NEW, SUBMITTED, RUNNING, COMPLETED, FAILED, …
    public var state: String? { status?.value(atPath: "applicationState.state")?.stringValue }
}
