extension Pod {
    /// What ``trimToStatusView(keepingLabels:annotations:interner:)`` drops from the spec and
    /// the container statuses, as paths a decoder skips without building them. Decode a
    /// status-view cache with these, unknown members and managedFields discarded, and the
    /// trim that follows has only labels and annotations left to do.
    public static let statusViewPrunedFields: JSONPrunedFields = {
        let spec = ["volumes", "tolerations", "affinity", "securityContext", "nodeSelector", "serviceAccountName",
                    "schedulerName", "priorityClassName", "activeDeadlineSeconds", "terminationGracePeriodSeconds", "hostNetwork"]
        let container = ["image", "command", "args", "workingDir", "env", "resources", "imagePullPolicy"]
        let containerStatus = ["image", "imageID", "containerID"]
        return JSONPrunedFields(
            spec.map { "spec.\($0)" }
                + ["containers", "initContainers"].flatMap { list in container.map { "spec.\(list).\($0)" } }
                + ["containerStatuses", "initContainerStatuses"].flatMap { list in containerStatus.map { "status.\(list).\($0)" } })
    }()

    /// A decoder for a status-view cache: skips ``statusViewPrunedFields``, unknown members and
    /// managedFields, so a decoded Pod holds little more than the view keeps, and shares
    /// repeated strings (``SharedStrings``).
    public static let statusViewDecoder = JSONBytesDecoder(discardUnknownFields: true, discardManagedFields: true, sharedStrings: .shared, prunedFields: statusViewPrunedFields)

    /// Shrinks the Pod to what a controller reads to follow a Pod it created: declared metadata
    /// without managedFields and with only the labels and annotations named, the status without
    /// image and container IDs, and of the spec only container names, `nodeName` and
    /// `restartPolicy`. Arguments, environment, volumes and the rest are dropped: the controller
    /// that built the Pod knows them, and they are most of its size. Strings that repeat across
    /// Pods (namespace, finalizers, owner kinds, kept label and annotation keys and values) are
    /// shared through `interner`, and equal kept maps through `maps`. Never
    /// write a trimmed Pod back.
    ///
    /// With `keepingContainerIDs` the containers' IDs stay (a log link that names the container
    /// needs them).
    public mutating func trimToStatusView(keepingLabels labels: Set<String> = [], annotations: Set<String> = [], keepingContainerIDs: Bool = false, interner: SharedStrings = .shared, maps: SharedStringMaps = .shared) {
        metadata.managedFields = nil
        metadata.unknownFields = [:]
        metadata.namespace = interner(metadata.namespace)
        metadata.finalizers = metadata.finalizers?.map { interner($0) }
        metadata.ownerReferences = metadata.ownerReferences?.map { ref in
            var ref = ref
            ref.apiVersion = interner(ref.apiVersion)
            ref.kind = interner(ref.kind)
            return ref
        }
        metadata.labels = Self.kept(metadata.labels, labels, interner, maps)
        metadata.annotations = Self.kept(metadata.annotations, annotations, interner, maps)
        unknownFields = [:]
        if var status {
            status.containerStatuses = status.containerStatuses.map { Self.trim($0, keepingIDs: keepingContainerIDs) }
            status.initContainerStatuses = status.initContainerStatuses.map { Self.trim($0, keepingIDs: keepingContainerIDs) }
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

    static func kept(_ all: [String: String]?, _ keys: Set<String>, _ interner: SharedStrings, _ maps: SharedStringMaps) -> [String: String]? {
        guard let all, !keys.isEmpty else { return nil }
        var kept: [String: String] = [:]
        // A view keeps a key or two of a Pod's dozen labels: look those up, rather than hash
        // every label against the set (on every watch event of every Pod).
        for key in keys { if let value = all[key] { kept[interner(key)] = interner(value) } }
        return kept.isEmpty ? nil : maps(kept)
    }

    static func trim(_ statuses: [ContainerStatus], keepingIDs: Bool = false) -> [ContainerStatus] {
        statuses.map { status in
            var status = status
            status.image = nil
            status.imageID = nil
            if !keepingIDs { status.containerID = nil }
            status.unknownFields = [:]
            return status
        }
    }
}
