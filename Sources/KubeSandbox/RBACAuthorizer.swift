import KubeClient

/// What a request asks to do, as kube-apiserver's authorizers see it.
struct RequestAttributes: Sendable {
    var verb: String
    var group: String
    var resource: String
    var subresource: String?
    var namespace: String?
    var name: String?

    /// `resource` or `resource/subresource`, as RBAC rules name it.
    var qualifiedResource: String { subresource.map { "\(resource)/\($0)" } ?? resource }

    /// kube-apiserver's 403 text, e.g. `pods "p" is forbidden: User "u" cannot create resource
    /// "pods" in API group "" in the namespace "ns"`; a resource of a named group is called
    /// `<resource>.<group>` before "is forbidden" (`errors.NewForbidden` prints the GroupResource).
    func forbidden(_ user: SandboxUser) -> APIError {
        let groupResource = group.isEmpty ? resource : "\(resource).\(group)"
        let subject = name.map { "\(groupResource) \"\($0)\"" } ?? groupResource
        let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        return APIError(code: 403, reason: "Forbidden",
                        message: "\(subject) is forbidden: User \"\(user.name)\" cannot \(verb) resource \"\(qualifiedResource)\" in API group \"\(group)\" \(scope)",
                        details: StatusDetails(name: name, group: group, kind: resource))
    }
}

/// RBAC over the stored Roles, ClusterRoles and their bindings, as kube-apiserver's RBAC
/// authorizer decides: a request is allowed when a rule of a role bound to the user (by
/// name, group or ServiceAccount) covers its verb, group, resource and name. Members of
/// `system:masters` are always allowed, and every authenticated user may read discovery
/// and ask what it may do (the `system:discovery`, `system:basic-user` and
/// `system:public-info-viewer` roles a real cluster binds to everyone).
///
/// Not emulated: aggregated ClusterRoles (`aggregationRule`), the escalation check on
/// writing roles and bindings, and impersonation.
enum RBACAuthorizer {
    /// Resources every authenticated user may create, from `system:basic-user`.
    static let selfReviews: Set<String> = ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]

    static func allows(_ rules: [JSONValue], _ a: RequestAttributes) -> Bool {
        rules.contains { rule in
            let verbs = strings(rule["verbs"])
            let groups = strings(rule["apiGroups"])
            let resources = strings(rule["resources"])
            let names = strings(rule["resourceNames"])
            guard verbs.contains(a.verb) || verbs.contains("*") else { return false }
            guard groups.contains(a.group) || groups.contains("*") else { return false }
            let resourceMatches = resources.contains("*") || resources.contains(a.qualifiedResource)
                || (a.subresource == nil ? false : resources.contains("\(a.resource)/*") || resources.contains("*/\(a.subresource ?? "")"))
            guard resourceMatches else { return false }
            if names.isEmpty { return true }
            guard let name = a.name else { return false }
            return names.contains(name)
        }
    }

    static func allowsNonResource(_ rules: [JSONValue], path: String, verb: String) -> Bool {
        rules.contains { rule in
            let verbs = strings(rule["verbs"])
            guard verbs.contains(verb) || verbs.contains("*") else { return false }
            return strings(rule["nonResourceURLs"]).contains { pattern in
                pattern == "*" || pattern == path || (pattern.hasSuffix("*") && path.hasPrefix(String(pattern.dropLast())))
            }
        }
    }

    static func strings(_ value: JSONValue?) -> [String] { value?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// Whether a binding's subjects include `user`.
    static func binds(_ binding: JSONValue, _ user: SandboxUser) -> Bool {
        (binding["subjects"]?.arrayValue ?? []).contains { subject in
            let name = subject["name"]?.stringValue ?? ""
            switch subject["kind"]?.stringValue {
            case "User": return name == user.name
            case "Group": return user.groups.contains(name)
            case "ServiceAccount":
                guard let account = user.serviceAccount else { return false }
                return account.name == name && account.namespace == (subject["namespace"]?.stringValue ?? binding.value(atPath: "metadata.namespace")?.stringValue ?? "")
            default: return false
            }
        }
    }
}

extension ObjectStore {
    /// The rules that apply to `user` for a request in `namespace` (cluster-wide bindings
    /// always; namespaced ones of that namespace).
    func rbacRules(for user: SandboxUser, namespace: String?) -> [JSONValue] {
        func stored(_ plural: String) -> [String: JSONValue] { objects["\(plural).rbac.authorization.k8s.io"] ?? [:] }
        let clusterRoles = stored("clusterroles")
        var rules: [JSONValue] = []
        for (_, binding) in stored("clusterrolebindings") where RBACAuthorizer.binds(binding, user) {
            if let role = binding.value(atPath: "roleRef.name")?.stringValue, let found = clusterRoles[role] {
                rules += found["rules"]?.arrayValue ?? []
            }
        }
        guard let namespace, !namespace.isEmpty else { return rules }
        let roles = stored("roles")
        for (_, binding) in stored("rolebindings") where binding.value(atPath: "metadata.namespace")?.stringValue == namespace && RBACAuthorizer.binds(binding, user) {
            guard let role = binding.value(atPath: "roleRef.name")?.stringValue else { continue }
            let found = binding.value(atPath: "roleRef.kind")?.stringValue == "ClusterRole" ? clusterRoles[role] : roles["\(namespace)/\(role)"]
            rules += found?["rules"]?.arrayValue ?? []
        }
        return rules
    }
}
