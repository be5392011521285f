import KubeClient

/// The Knative Serving `Service` kind (`serving.knative.dev/v1`, a "KService"): what an App
/// becomes.
public enum KnativeServiceKind: CustomObjectKind {
    public static let resourceType = ResourceType(group: "serving.knative.dev", version: "v1", kind: "Service", plural: "services", namespaced: true)
}

/// A Knative Service. Spec and status stay JSON, as Knative's CRD defines them.
public typealias KnativeService = CustomObject<KnativeServiceKind>

extension KnativeService {
    /// `status.conditions[]` whose `type` is `type`.
    public func condition(_ type: String) -> JSONValue? {
        conditions.first { $0["type"]?.stringValue == type }
    }

    public var latestReadyRevisionName: String? { status?["latestReadyRevisionName"]?.stringValue }
    public var latestCreatedRevisionName: String? { status?["latestCreatedRevisionName"]?.stringValue }
}

/// The Knative `Revision` kind: one immutable snapshot of a Service's template.
public enum KnativeRevisionKind: CustomObjectKind {
    public static let resourceType = ResourceType(group: "serving.knative.dev", version: "v1", kind: "Revision", plural: "revisions", namespaced: true)
}

/// A Knative Revision, whose `status.actualReplicas` says how many pods serve it.
public typealias KnativeRevision = CustomObject<KnativeRevisionKind>

extension KnativeRevision {
    public var actualReplicas: Int? { status?["actualReplicas"]?.intValue.map { Int($0) } }

    /// Knative's labels: the Service a Revision (and its pods) belongs to. (Computed: a generic
    /// type's extension holds no stored statics.)
    public static var serviceLabel: String { "serving.knative.dev/service" }
    public static var revisionLabel: String { "serving.knative.dev/revision" }
}
