/// The kind of a ``CustomObject``: which resource it is.
public protocol CustomObjectKind: Sendable {
    static var resourceType: ResourceType { get }
}

/// An object of a kind another project defines (an operator's custom resource, or a built-in
/// kind only a few fields of which are read): typed metadata, and spec and status kept as the
/// JSON the API server holds, so nothing a newer version of the kind adds is lost on a write.
/// A kind is declared once, as an enum naming its ``ResourceType``, and read through
/// extensions of its alias:
///
/// ```swift
/// public enum RayJobKind: CustomObjectKind {
///     public static let resourceType = ResourceType(group: "ray.io", version: "v1", kind: "RayJob", plural: "rayjobs", namespaced: true)
/// }
/// public typealias RayJob = CustomObject<RayJobKind>
/// extension RayJob { public var deploymentStatus: String? { status?["jobDeploymentStatus"]?.stringValue } }
/// ```
public struct CustomObject<Kind: CustomObjectKind>: KubernetesObject, Hashable {
    public static var resourceType: ResourceType { Kind.resourceType }

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    /// A new object of the kind, its `apiVersion` and `kind` set.
    public init(metadata: ObjectMeta = ObjectMeta(), spec: JSONValue? = nil, status: JSONValue? = nil) {
        self.apiVersion = Kind.resourceType.apiVersion
        self.kind = Kind.resourceType.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `status.conditions`, empty when there are none.
    public var conditions: [JSONValue] { status?["conditions"]?.arrayValue ?? [] }
}
