extension Pod {
    /// Shrinks the Pod to what a controller reads to follow a Pod it created: metadata
    /// without managedFields and with only the labels and annotations named, the status without
    /// image and container IDs, and of the spec only container names, `nodeName` and
    /// `restartPolicy`. Arguments, environment, volumes and the rest are dropped: the controller
    /// that built the Pod knows them, and they are most of its size. Strings that repeat across
    /// Pods (namespace, finalizers, owner kinds, kept label and annotation keys and values) are
    /// shared through `interner`. Never write a trimmed Pod back.
    public mutating func trimToStatusView(keepingLabels labels: Set<String> = [], annotations: Set<String> = [], interner: StringInterner) {
        metadata.managedFields = nil
        metadata.namespace = interner(metadata.namespace)
        metadata.finalizers = metadata.finalizers?.map { interner($0) }
        metadata.ownerReferences = metadata.ownerReferences?.map { ref in
            var ref = ref
            ref.apiVersion = interner(ref.apiVersion)
            ref.kind = interner(ref.kind)
            return ref
        }
        metadata.labels = Self.kept(metadata.labels, labels, interner)
        metadata.annotations = Self.kept(metadata.annotations, annotations, interner)
        unknownFields = [:]
        if var status {
            status.containerStatuses = status.containerStatuses.map(Self.trim)
            status.initContainerStatuses = status.initContainerStatuses.map(Self.trim)
            status.unknownFields = [:]
            self.status = status
        }
        guard let spec else { return }
        var trimmed = PodSpec(containers: spec.containers.map { Container(name: $0.name) })
        trimmed.initContainers = spec.initContainers?.map { Container(name: $0.name) }
        trimmed.nodeName = spec.nodeName
        trimmed.restartPolicy = spec.restartPolicy
        self.spec = trimmed
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
