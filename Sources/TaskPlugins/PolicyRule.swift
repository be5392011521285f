import KubeClient

/// One rule of an RBAC Role or ClusterRole (`rbac.authorization.k8s.io/v1`): what a plugin
/// declares the executor needs for its children, so `config/rbac` can be generated from the
/// plugins that are registered.
public struct PolicyRule: Sendable, Hashable, Codable {
    public var apiGroups: [String]
    public var resources: [String]
    public var verbs: [String]
    /// Names the rule is limited to; nil for every object of the resources.
    public var resourceNames: [String]?
    /// Why the rule exists, written above it in the generated YAML; not part of the object.
    public var comment: String?

    public init(apiGroups: [String], resources: [String], verbs: [String], resourceNames: [String]? = nil, comment: String? = nil) {
        self.apiGroups = apiGroups
        self.resources = resources
        self.verbs = verbs
        self.resourceNames = resourceNames
        self.comment = comment
    }

    /// What the executor does to every plugin's children: create one per attempt, list and
    /// watch them through a label-scoped informer, get one when the cache lags behind a create,
    /// delete on abort and between attempts, and patch (a plugin that aborts by patching;
    /// `inject-finalizer`'s finalizer taken off).
    public static func children(of resource: ResourceType, comment: String? = nil) -> PolicyRule {
        PolicyRule(apiGroups: [resource.group], resources: [resource.plural], verbs: ["create", "delete", "get", "list", "patch", "watch"], comment: comment)
    }

    enum CodingKeys: String, CodingKey {
        case apiGroups, resources, verbs, resourceNames
    }
}
