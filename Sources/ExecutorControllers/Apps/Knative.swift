import Foundation
import KubeClient

/// A Knative Serving `Service` (`serving.knative.dev/v1`, a "KService"): what an App becomes.
/// Spec and status stay JSON, as Knative's CRD defines them.
public struct KnativeService: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "serving.knative.dev", version: "v1", kind: "Service", plural: "services", namespaced: true)

    public var apiVersion: String? = "serving.knative.dev/v1"
    public var kind: String? = "Service"
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(metadata: ObjectMeta = ObjectMeta(), spec: JSONValue? = nil, status: JSONValue? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `status.conditions[]` whose `type` is `type`.
    public func condition(_ type: String) -> JSONValue? {
        status?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    public var latestReadyRevisionName: String? { status?["latestReadyRevisionName"]?.stringValue }
    public var latestCreatedRevisionName: String? { status?["latestCreatedRevisionName"]?.stringValue }
}

/// A Knative `Revision`: one immutable snapshot of a Service's template, whose
/// `status.actualReplicas` says how many pods serve it.
public struct KnativeRevision: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "serving.knative.dev", version: "v1", kind: "Revision", plural: "revisions", namespaced: true)

    public var apiVersion: String? = "serving.knative.dev/v1"
    public var kind: String? = "Revision"
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(metadata: ObjectMeta = ObjectMeta(), spec: JSONValue? = nil, status: JSONValue? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public var actualReplicas: Int? { status?["actualReplicas"]?.intValue.map { Int($0) } }

    /// Knative's labels: the Service a Revision (and its pods) belongs to.
    public static let serviceLabel = "serving.knative.dev/service"
    public static let revisionLabel = "serving.knative.dev/revision"
}
