import Foundation
import KubeClient

/// A `kubeflow.org/v1` PyTorchJob: the PyTorch plugin's child, for the Kubeflow training
/// operator to run. Spec and status stay JSON, as the operator's CRD defines them.
public struct PyTorchJob: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "kubeflow.org", version: "v1", kind: "PyTorchJob", plural: "pytorchjobs", namespaced: true)

    public var apiVersion: String? = "kubeflow.org/v1"
    public var kind: String? = "PyTorchJob"
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(metadata: ObjectMeta = ObjectMeta(), spec: JSONValue? = nil, status: JSONValue? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `spec.pytorchReplicaSpecs.<type>.replicas`, 0 when the type is absent.
    public func replicas(_ type: String) -> Int {
        Int(spec?.value(atPath: "pytorchReplicaSpecs")?[type]?["replicas"]?.intValue ?? 0)
    }

    /// Whether the job has a Master (an elastic job has only Workers).
    public var hasMaster: Bool { spec?.value(atPath: "pytorchReplicaSpecs")?["Master"] != nil }

    /// `status.conditions`.
    public var conditions: [JSONValue] { status?["conditions"]?.arrayValue ?? [] }
}
