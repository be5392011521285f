import KubeClient

/// An object's namespace and name as a table key, the two strings kept as they are.
///
/// The `namespace/name` text (``storeKey(namespace:name:)``) is a new string, and a heap
/// allocation of its own once it passes Swift's 15 inline bytes, for every table that keeps
/// it. This key holds the object's own strings instead, which share their storage with it (or
/// are short enough to need none): per TaskAction in flight the executor keeps several such
/// tables, and at 5,000 at once their texts were about 0.9 MiB of its peak heap.
public struct ObjectKey: Hashable, Sendable, CustomStringConvertible {
    /// Empty for a cluster-scoped object, as in `storeKey`, where nil and empty are one.
    public var namespace: String
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace ?? ""
        self.name = name
    }

    /// The key of `object`.
    public init(_ object: some KubernetesObject) {
        self.init(namespace: object.metadata.namespace, name: object.metadata.name ?? "")
    }

    /// `namespace/name`, or `name` for a cluster-scoped object (``storeKey(namespace:name:)``).
    public var description: String { storeKey(namespace: namespace, name: name) }
}

extension ReconcileRequest {
    /// The key of the object this request is for.
    public var key: ObjectKey { ObjectKey(namespace: namespace, name: name) }
}
