import Foundation
import KubeClient

extension APIServer {
    /// The authorizer's view of a resource request: the verb from the method, whether a name
    /// is given and whether it watches, as kube-apiserver's request info resolver derives it.
    static func attributes(_ request: SandboxRequest, _ t: Target) -> RequestAttributes {
        let watching = request.query["watch"] == "true" || request.query["watch"] == "1"
        let verb: String = switch request.method {
        case .GET, .HEAD: watching ? "watch" : (t.name == nil ? "list" : "get")
        case .POST: "create"
        case .PUT: "update"
        case .PATCH: "patch"
        case .DELETE: t.name == nil ? "deletecollection" : "delete"
        default: request.method.rawValue.lowercased()
        }
        // As kube-apiserver's request info: a list or watch whose field selector asks for exactly
        // one name is that name's, so `resourceNames` rules can allow it.
        var name = t.name
        if name == nil, verb == "list" || verb == "watch", let selector = request.query["fieldSelector"] {
            name = exactName(selector)
        }
        return RequestAttributes(verb: verb, group: t.def.type.group, resource: t.def.type.plural, subresource: t.subresource, namespace: t.namespace, name: name)
    }

    /// `x` from a field selector with the term `metadata.name=x` (or `==x`), parsed as the API
    /// server parses it (apimachinery's `RequiresExactMatch`).
    static func exactName(_ selector: String) -> String? {
        guard let parsed = try? FieldSelector(parsing: selector) else { return nil }
        return parsed.requirements.first { $0.field == "metadata.name" && !$0.negated }?.value
    }

    /// Whether `user` may do what `attributes` say; everyone in RBAC-less mode.
    func isAllowed(_ user: SandboxUser?, _ attributes: RequestAttributes) async -> Bool {
        guard authorization == .rbac else { return true }
        guard let user else { return false }
        if user.isSuperuser { return true }
        if attributes.verb == "create", attributes.group == "authorization.k8s.io", RBACAuthorizer.selfReviews.contains(attributes.resource) { return true }
        let rules = await store.rbacRules(for: user, namespace: attributes.namespace)
        return RBACAuthorizer.allows(rules, attributes)
    }

    func authorize(_ user: SandboxUser?, _ attributes: RequestAttributes) async throws(APIError) {
        guard await isAllowed(user, attributes) else {
            throw attributes.forbidden(user ?? SandboxUser(name: "system:anonymous", groups: ["system:unauthenticated"]))
        }
    }

    /// The OwnerReferencesPermissionEnforcement admission plugin: setting
    /// `blockOwnerDeletion` on a reference needs `update` on the owner's `finalizers`
    /// subresource, a rule operators often forget (their role works until this check runs).
    func checkOwnerReferences(_ user: SandboxUser?, _ object: JSONValue, _ attributes: RequestAttributes) async throws(APIError) {
        guard authorization == .rbac else { return }
        for reference in object.value(atPath: "metadata.ownerReferences")?.arrayValue ?? [] where reference["blockOwnerDeletion"]?.boolValue == true {
            let apiVersion = reference["apiVersion"]?.stringValue ?? ""
            let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
            let kind = reference["kind"]?.stringValue ?? ""
            guard let owner = await store.allDefinitions().first(where: { $0.type.group == group && $0.type.kind == kind }) else { continue }
            let needed = RequestAttributes(verb: "update", group: group, resource: owner.type.plural, subresource: "finalizers",
                                           namespace: owner.type.namespaced ? attributes.namespace : nil, name: reference["name"]?.stringValue)
            if await isAllowed(user, needed) { continue }
            let subject = (object.value(atPath: "metadata.name")?.stringValue).map { "\(attributes.resource) \"\($0)\"" } ?? attributes.resource
            let who = user?.name ?? "system:anonymous"
            throw APIError(code: 403, reason: "Forbidden",
                           message: "\(subject) is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: User \"\(who)\" cannot update resource \"\(owner.type.plural)/finalizers\" in API group \"\(group)\"\(owner.type.namespaced ? " in the namespace \"\(attributes.namespace ?? "")\"" : " at the cluster scope"), \(String(decoding: reference.serialized(), as: UTF8.self))",
                           details: StatusDetails(name: object.value(atPath: "metadata.name")?.stringValue, group: attributes.group, kind: attributes.resource))
        }
    }

    /// `SelfSubjectAccessReview`: whether the caller may do what the spec describes, which
    /// `kubectl auth can-i` asks.
    func selfSubjectAccessReview(_ user: SandboxUser?, _ review: JSONValue) async throws(APIError) -> JSONValue {
        var allowed: Bool
        if let resource = review.value(atPath: "spec.resourceAttributes") {
            let text = { (key: String) -> String? in resource[key]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
            let attributes = RequestAttributes(verb: text("verb") ?? "", group: text("group") ?? "", resource: text("resource") ?? "",
                                               subresource: text("subresource"), namespace: text("namespace"), name: text("name"))
            allowed = await isAllowed(user, attributes)
        } else if let nonResource = review.value(atPath: "spec.nonResourceAttributes") {
            allowed = authorization != .rbac || user?.isSuperuser == true
            if !allowed, let user {
                let rules = await store.rbacRules(for: user, namespace: nil)
                allowed = RBACAuthorizer.allowsNonResource(rules, path: nonResource["path"]?.stringValue ?? "", verb: nonResource["verb"]?.stringValue ?? "")
            }
        } else {
            throw APIError.invalid(ResourceDefinition.selfSubjectAccessReviews, "", [FieldError(field: "spec.resourceAttributes", reason: "FieldValueRequired", detail: "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        }
        var out = review
        out["apiVersion"] = "authorization.k8s.io/v1"
        out["kind"] = "SelfSubjectAccessReview"
        out["metadata"] = ["creationTimestamp": .null]
        out["status"] = allowed ? ["allowed": true, "reason": "RBAC: allowed"] : ["allowed": false]
        return out
    }

    /// The `serviceaccounts/token` subresource (TokenRequest), which `kubectl create token`
    /// calls: a token for an existing ServiceAccount.
    func tokenRequest(namespace: String, name: String, body: JSONValue) async throws -> JSONValue {
        guard let accounts = await store.definition(group: "", version: "v1", plural: "serviceaccounts") else { throw Self.notFoundPath }
        _ = try await store.get(accounts, namespace: namespace, name: name)
        guard let tokens else { throw APIError.notImplemented("this sandbox issues no tokens") }
        let seconds = body.value(atPath: "spec.expirationSeconds")?.intValue ?? 3600
        return [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(KubeTime.format(clock()))],
            "spec": ["audiences": body.value(atPath: "spec.audiences") ?? ["https://kubernetes.default.svc"], "expirationSeconds": .int(seconds), "boundObjectRef": body.value(atPath: "spec.boundObjectRef") ?? .null],
            "status": ["token": .string(tokens.issue(namespace: namespace, name: name)), "expirationTimestamp": .string(KubeTime.format(clock().addingTimeInterval(TimeInterval(seconds))))],
        ]
    }
}
