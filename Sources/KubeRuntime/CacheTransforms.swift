import KubeClient

/// Transforms that shrink objects before an informer stores them, for caches that are read
/// to learn state and never written back.
public enum CacheTransforms {
    /// A transform that keeps what a controller reads to follow a Pod it created: metadata
    /// without managedFields and with only the labels and annotations named, the status without
    /// image and container IDs, and of the spec only container names, `nodeName` and
    /// `restartPolicy`. Arguments, environment, volumes and the rest are dropped: the controller
    /// that built the Pod knows them, and they are most of its size. Strings that repeat across
    /// Pods (namespace, finalizers, owner kinds, label and annotation keys and values) are
    /// shared through `interner`.
    public static func podStatusView(keepingLabels labels: Set<String> = [], annotations: Set<String> = [], interner: StringInterner = StringInterner()) -> @Sendable (inout Pod) -> Void {
        { pod in
            pod.metadata.managedFields = nil
            pod.metadata.namespace = interner(pod.metadata.namespace)
            pod.metadata.finalizers = pod.metadata.finalizers?.map { interner($0) }
            pod.metadata.ownerReferences = pod.metadata.ownerReferences?.map { ref in
                var ref = ref
                ref.apiVersion = interner(ref.apiVersion)
                ref.kind = interner(ref.kind)
                return ref
            }
            pod.metadata.labels = kept(pod.metadata.labels, labels, interner)
            pod.metadata.annotations = kept(pod.metadata.annotations, annotations, interner)
            pod.unknownFields = [:]
            if var status = pod.status {
                status.containerStatuses = status.containerStatuses.map(trim)
                status.initContainerStatuses = status.initContainerStatuses.map(trim)
                status.unknownFields = [:]
                pod.status = status
            }
            guard let spec = pod.spec else { return }
            var trimmed = PodSpec(containers: spec.containers.map { Container(name: $0.name) })
            trimmed.initContainers = spec.initContainers?.map { Container(name: $0.name) }
            trimmed.nodeName = spec.nodeName
            trimmed.restartPolicy = spec.restartPolicy
            pod.spec = trimmed
        }
    }

    static func kept(_ all: [String: String]?, _ keys: Set<String>, _ interner: StringInterner) -> [String: String]? {
        guard let all else { return nil }
        var kept: [String: String] = [:]
        for (key, value) in all where keys.contains(key) { kept[interner(key)] = interner(value) }
        return kept.isEmpty ? nil : kept
    }

    static func trim(_ statuses: [ContainerStatus]) -> [ContainerStatus] {
        statuses.map { status in
            var status = status
            status.image = nil
            status.imageID = nil
            status.containerID = nil
            status.unknownFields = [:]
            return status
        }
    }
}
