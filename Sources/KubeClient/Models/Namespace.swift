/// A core/v1 Namespace.
public struct Namespace: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false)

    /// Absent on the items of a list, as kube-apiserver sends them.
    public var apiVersion: String? = "v1"
    public var kind: String? = "Namespace"
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

/// A core/v1 ConfigMap.
public struct ConfigMap: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true)

    /// Absent on the items of a list, as kube-apiserver sends them.
    public var apiVersion: String? = "v1"
    public var kind: String? = "ConfigMap"
    public var metadata: ObjectMeta
    public var data: [String: String]?
    /// Base64-encoded values, as on the wire.
    public var binaryData: [String: String]?
    public var immutable: Bool?

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        self.metadata = metadata
        self.data = data
    }
}
