import KubeClient

/// Adds and removes finalizers with JSON patches guarded by a `test` op, so a concurrent
/// writer's change is never overwritten: when the guard fails the server answers 422 and the
/// caller requeues with the fresh object. Nothing else of the object is sent, so nothing is
/// lost.
public enum Finalizers {
    /// The patch adding `finalizer`, or nil when `metadata` already has it.
    public static func addPatch(_ finalizer: String, to metadata: ObjectMeta) -> [JSONPatchOperation]? {
        let current = metadata.finalizers ?? []
        if current.contains(finalizer) { return nil }
        if metadata.finalizers == nil {
            // No list to test against: guard on the version read instead.
            return [
                .test("/metadata/resourceVersion", .string(metadata.resourceVersion ?? "")),
                .add("/metadata/finalizers", .array([.string(finalizer)])),
            ]
        }
        return [
            .test("/metadata/finalizers", .array(current.map { .string($0) })),
            .add("/metadata/finalizers/-", .string(finalizer)),
        ]
    }

    /// The patch removing `finalizer`, or nil when `metadata` does not have it.
    public static func removePatch(_ finalizer: String, from metadata: ObjectMeta) -> [JSONPatchOperation]? {
        guard let index = metadata.finalizers?.firstIndex(of: finalizer) else { return nil }
        return [
            .test("/metadata/finalizers/\(index)", .string(finalizer)),
            .remove("/metadata/finalizers/\(index)"),
        ]
    }

    /// Adds `finalizer` to the object; returns the object as written, or nil when it was
    /// already there.
    @discardableResult
    public static func add<T: KubernetesObject>(_ finalizer: String, to object: T, client: KubernetesClient) async throws -> T? {
        guard let patch = addPatch(finalizer, to: object.metadata) else { return nil }
        return try await client.patch(T.self, name: object.metadata.name ?? "", namespace: object.metadata.namespace, .json(patch))
    }

    /// Removes `finalizer` from the object; returns the object as written, or nil when it was
    /// not there. A 404 (already gone) counts as removed.
    @discardableResult
    public static func remove<T: KubernetesObject>(_ finalizer: String, from object: T, client: KubernetesClient) async throws -> T? {
        guard let patch = removePatch(finalizer, from: object.metadata) else { return nil }
        do {
            return try await client.patch(T.self, name: object.metadata.name ?? "", namespace: object.metadata.namespace, .json(patch))
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }
}
