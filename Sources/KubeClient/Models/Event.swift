/// An `events.k8s.io/v1` Event.
public struct Event: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true)

    /// Absent on the items of a list, as kube-apiserver sends them.
    public var apiVersion: String? = "events.k8s.io/v1"
    public var kind: String? = "Event"
    public var metadata: ObjectMeta
    /// MicroTime of the first occurrence.
    public var eventTime: String?
    public var series: EventSeries?
    public var reportingController: String?
    public var reportingInstance: String?
    public var action: String?
    public var reason: String?
    public var regarding: ObjectReference?
    public var related: ObjectReference?
    public var note: String?
    /// `Normal` or `Warning`.
    public var type: String?
    public var deprecatedCount: Int32?
    public var deprecatedFirstTimestamp: String?
    public var deprecatedLastTimestamp: String?
    public var deprecatedSource: JSONValue?

    public init(metadata: ObjectMeta, eventTime: String? = nil, reportingController: String? = nil, reportingInstance: String? = nil, action: String? = nil, reason: String? = nil, regarding: ObjectReference? = nil, note: String? = nil, type: String? = nil) {
        self.metadata = metadata
        self.eventTime = eventTime
        self.reportingController = reportingController
        self.reportingInstance = reportingInstance
        self.action = action
        self.reason = reason
        self.regarding = regarding
        self.note = note
        self.type = type
    }
}

/// `events.k8s.io/v1 EventSeries`: repeats folded into one Event.
public struct EventSeries: Codable, Sendable, Hashable {
    public var count: Int32
    public var lastObservedTime: String
    public init(count: Int32, lastObservedTime: String) {
        self.count = count
        self.lastObservedTime = lastObservedTime
    }
}

/// `core/v1 ObjectReference`.
public struct ObjectReference: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var resourceVersion: String?
    public var fieldPath: String?
    public init(apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil, resourceVersion: String? = nil, fieldPath: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.fieldPath = fieldPath
    }
}
