import KubeClient

/// A resource the sandbox serves: a built-in kind or one version of a CRD.
struct ResourceDefinition: Sendable {
    var type: ResourceType
    var singular: String
    var shortNames: [String] = []
    var categories: [String] = []
    /// Whether `/status` is a subresource that splits writes (main endpoint ignores status, `/status` the rest).
    var hasStatusSubresource = false
    /// Whether `metadata.generation` is kept and bumped on spec changes.
    var tracksGeneration = false
    /// Fields other than metadata and status whose change does not bump the generation.
    var verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    /// Extra field selector paths besides `metadata.name` and `metadata.namespace`.
    var selectableFields: [String] = []
    /// Columns of `kubectl get` besides NAME (and AGE, appended unless a column says otherwise).
    var printerColumns: [PrinterColumn] = []
    /// The structural schema of a CRD version; `nil` for built-ins, whose fields are not validated.
    var schema: JSONValue?
    /// For CRDs: the CRD's name.
    var crdName: String?

    /// Where the registry files this definition: one entry per group, version and plural.
    var registryKey: String { Self.registryKey(group: type.group, version: type.version, plural: type.plural) }

    static func registryKey(group: String, version: String, plural: String) -> String { "\(group)/\(version)/\(plural)" }

    /// Storage shared with another resource: events.k8s.io Events live with core Events.
    var sharedStorage: String?

    /// Storage identity shared by every version of a resource.
    var storageKey: String { sharedStorage ?? type.groupResource }

    struct PrinterColumn: Sendable {
        var name: String
        var type: String
        var jsonPath: String
        var format: String = ""
        var description: String = ""
        var priority: Int = 0
    }
}

extension ResourceDefinition {
    static func builtin(_ group: String, _ version: String, _ kind: String, _ plural: String, namespaced: Bool, short: [String] = [], status: Bool = false, generation: Bool = false, fields: [String] = [], columns: [PrinterColumn] = []) -> ResourceDefinition {
        ResourceDefinition(
            type: ResourceType(group: group, version: version, kind: kind, plural: plural, namespaced: namespaced),
            singular: kind.lowercased(), shortNames: short, hasStatusSubresource: status, tracksGeneration: generation,
            selectableFields: fields, printerColumns: columns)
    }

    /// The kinds kube-apiserver serves that the executor and kubectl use.
    static let namespaces = builtin("", "v1", "Namespace", "namespaces", namespaced: false, short: ["ns"], status: true, fields: ["status.phase"],
                                    columns: [.init(name: "Status", type: "string", jsonPath: ".status.phase")])
    static let customResourceDefinitions = builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced: false, short: ["crd", "crds"], status: true, generation: true,
                                                   columns: [.init(name: "Created At", type: "date", jsonPath: ".metadata.creationTimestamp")])

    /// `kubectl auth can-i`'s review: created, never stored.
    static let selfSubjectAccessReviews: ResourceDefinition = {
        var def = builtin("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", namespaced: false)
        def.verbs = ["create"]
        return def
    }()

    /// Whether this is the CustomResourceDefinition resource itself.
    var isCRD: Bool { type.group == "apiextensions.k8s.io" && type.plural == "customresourcedefinitions" }

    static let builtins: [ResourceDefinition] = [
        namespaces, customResourceDefinitions, selfSubjectAccessReviews,
        builtin("", "v1", "Pod", "pods", namespaced: true, short: ["po"], status: true, generation: true,
                fields: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"],
                columns: [
                    .init(name: "Ready", type: "string", jsonPath: "{ready}"),
                    .init(name: "Status", type: "string", jsonPath: "{podStatus}"),
                    .init(name: "Restarts", type: "string", jsonPath: "{restarts}"),
                    .init(name: "IP", type: "string", jsonPath: "{podIP}", priority: 1),
                    .init(name: "Node", type: "string", jsonPath: "{nodeName}", priority: 1),
                    .init(name: "Nominated Node", type: "string", jsonPath: "{nominatedNode}", priority: 1),
                    .init(name: "Readiness Gates", type: "string", jsonPath: "{readinessGates}", priority: 1),
                ]),
        builtin("", "v1", "ConfigMap", "configmaps", namespaced: true, short: ["cm"],
                columns: [.init(name: "Data", type: "integer", jsonPath: "{dataCount}")]),
        builtin("", "v1", "Secret", "secrets", namespaced: true, fields: ["type"],
                columns: [.init(name: "Type", type: "string", jsonPath: ".type"), .init(name: "Data", type: "integer", jsonPath: "{dataCount}")]),
        builtin("", "v1", "Service", "services", namespaced: true, short: ["svc"], status: true,
                columns: [.init(name: "Type", type: "string", jsonPath: ".spec.type"), .init(name: "Cluster-IP", type: "string", jsonPath: ".spec.clusterIP")]),
        builtin("", "v1", "ServiceAccount", "serviceaccounts", namespaced: true, short: ["sa"]),
        // The base of a task's Pods (`default-pod-template-name`); stored, as kube-apiserver stores it.
        builtin("", "v1", "PodTemplate", "podtemplates", namespaced: true),
        builtin("", "v1", "Event", "events", namespaced: true, short: ["ev"],
                fields: ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"],
                columns: [.init(name: "Type", type: "string", jsonPath: ".type"), .init(name: "Reason", type: "string", jsonPath: ".reason"), .init(name: "Message", type: "string", jsonPath: ".message")]),
        {
            var events = builtin("events.k8s.io", "v1", "Event", "events", namespaced: true, short: ["ev"],
                                 fields: ["regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "regarding.apiVersion", "regarding.resourceVersion", "regarding.fieldPath", "reason", "type", "reportingController"],
                                 columns: [.init(name: "Type", type: "string", jsonPath: ".type"), .init(name: "Reason", type: "string", jsonPath: ".reason"), .init(name: "Message", type: "string", jsonPath: ".message")])
            events.sharedStorage = "events"
            return events
        }(),
        builtin("coordination.k8s.io", "v1", "Lease", "leases", namespaced: true,
                columns: [.init(name: "Holder", type: "string", jsonPath: ".spec.holderIdentity")]),
        // Stored, not acted on (no controllers run them), so an installer applies cleanly.
        builtin("apps", "v1", "Deployment", "deployments", namespaced: true, short: ["deploy"], status: true, generation: true,
                columns: [.init(name: "Replicas", type: "integer", jsonPath: ".spec.replicas")]),
        builtin("batch", "v1", "Job", "jobs", namespaced: true, status: true, generation: true,
                columns: [.init(name: "Status", type: "string", jsonPath: "{jobStatus}"), .init(name: "Completions", type: "string", jsonPath: "{jobCompletions}")]),
        builtin("", "v1", "Node", "nodes", namespaced: false, short: ["no"], status: true,
                columns: [.init(name: "Status", type: "string", jsonPath: "{nodeStatus}"), .init(name: "Roles", type: "string", jsonPath: "{nodeRoles}"), .init(name: "Version", type: "string", jsonPath: ".status.nodeInfo.kubeletVersion")]),
        builtin("", "v1", "Endpoints", "endpoints", namespaced: true, short: ["ep"]),
        builtin("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", namespaced: true,
                columns: [.init(name: "AddressType", type: "string", jsonPath: ".addressType")]),
        builtin("rbac.authorization.k8s.io", "v1", "Role", "roles", namespaced: true),
        builtin("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", namespaced: true),
        builtin("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced: false),
        builtin("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced: false),
        // Called on creates (AdmissionWebhooks).
        AdmissionWebhooks.definition,
    ]
}
