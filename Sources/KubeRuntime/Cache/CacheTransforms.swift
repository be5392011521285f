import KubeClient

/// Transforms that shrink objects before an informer stores them, for caches that are read
/// to learn state and never written back.
public enum CacheTransforms {
    /// A transform that keeps what a controller reads to follow a Pod it created: declared metadata
    /// without managedFields and with only the labels and annotations named, the status without
    /// image and container IDs, and of the spec only container names, `nodeName` and
    /// `restartPolicy`. Arguments, environment, volumes and the rest are dropped: the controller
    /// that built the Pod knows them, and they are most of its size. Strings that repeat across
    /// Pods (namespace, finalizers, owner kinds, label and annotation keys and values) are
    /// shared through `interner`.
    public static func podStatusView(keepingLabels labels: Set<String> = [], annotations: Set<String> = [], interner: SharedStrings = .shared) -> @Sendable (inout Pod) -> Void {
        { pod in pod.trimToStatusView(keepingLabels: labels, annotations: annotations, interner: interner) }
    }
}
