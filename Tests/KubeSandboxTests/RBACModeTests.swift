import Foundation
import KubeClient
import KubeSandbox
import Testing

/// `Authorization.rbac` (issue 17, item 10): Roles, ClusterRoles and bindings enforced for
/// ServiceAccount tokens as kube-apiserver's RBAC authorizer enforces them.
@Suite("RBAC mode")
struct RBACModeTests {
    static let roles = ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", namespaced: true)
    static let roleBindings = ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings", namespaced: true)
    static let clusterRoles = ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles", namespaced: false)
    static let clusterRoleBindings = ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", plural: "clusterrolebindings", namespaced: false)

    static func rbacSandbox(_ body: (KubeSandbox, KubernetesClient) async throws -> Void) async throws {
        var options = KubeSandbox.Options()
        options.authorization = .rbac
        try await KubeSandbox.with(options, body)
    }

    static func forbidden(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as KubeAPIError {
            #expect(error.code == 403)
            return error.status.message
        } catch {
            return "\(error)"
        }
    }

    @Test("a ServiceAccount may do only what its bound roles allow, and the 403 says who, what and where as kube-apiserver words it")
    func serviceAccountRules() async throws {
        try await Self.rbacSandbox { sandbox, admin in
            let bot = try KubernetesClient(configuration: sandbox.clientConfiguration(authentication: .bearerToken(sandbox.serviceAccountToken(namespace: "default", name: "bot"))))
            defer { Task { try? await bot.shutdown() } }
            #expect(await Self.forbidden { _ = try await bot.list(ConfigMap.self, namespace: "default") }
                == #"configmaps is forbidden: User "system:serviceaccount:default:bot" cannot list resource "configmaps" in API group "" in the namespace "default""#)
            // A named group's resource is called <resource>.<group> first, as errors.NewForbidden prints it.
            #expect(await Self.forbidden { _ = try await bot.list(Lease.self, namespace: "default") }
                == #"leases.coordination.k8s.io is forbidden: User "system:serviceaccount:default:bot" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "default""#)

            _ = try await admin.create(Self.roles, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "cm-reader", "namespace": "default"],
                                                    "rules": [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]],
                                                              ["apiGroups": [""], "resources": ["configmaps"], "verbs": ["update"], "resourceNames": ["only-this"]]]])
            _ = try await admin.create(Self.roleBindings, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "bot-reads", "namespace": "default"],
                                                           "subjects": [["kind": "ServiceAccount", "name": "bot", "namespace": "default"]],
                                                           "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"]])
            var onlyThis = try await admin.create(ConfigMap(metadata: ObjectMeta(name: "only-this", namespace: "default")))
            _ = try await admin.create(ConfigMap(metadata: ObjectMeta(name: "other", namespace: "default")))
            #expect(try await bot.list(ConfigMap.self, namespace: "default").items.count == 2)
            onlyThis.data = ["a": "b"]
            _ = try await bot.update(onlyThis)  // resourceNames allows this one
            var other = try await bot.get(ConfigMap.self, name: "other", namespace: "default")
            other.data = ["a": "b"]
            #expect(await Self.forbidden { _ = try await bot.update(other) }
                == #"configmaps "other" is forbidden: User "system:serviceaccount:default:bot" cannot update resource "configmaps" in API group "" in the namespace "default""#)
            #expect(await Self.forbidden { _ = try await bot.create(ConfigMap(metadata: ObjectMeta(name: "new", namespace: "default"))) } != nil)
            _ = try await admin.create(Namespace(metadata: ObjectMeta(name: "elsewhere")))
            #expect(await Self.forbidden { _ = try await bot.list(ConfigMap.self, namespace: "elsewhere") }?.hasSuffix(#"in the namespace "elsewhere""#) == true)
            #expect(await Self.forbidden { _ = try await bot.list(ConfigMap.self) }?.hasSuffix("at the cluster scope") == true)

            // A ClusterRole bound to a group applies everywhere, subresources by name.
            _ = try await admin.create(Self.clusterRoles, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "pod-status"],
                                                           "rules": [["apiGroups": [""], "resources": ["pods/status"], "verbs": ["get"]]]])
            _ = try await admin.create(Self.clusterRoleBindings, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": ["name": "all-sa-pod-status"],
                                                                  "subjects": [["kind": "Group", "name": "system:serviceaccounts", "apiGroup": "rbac.authorization.k8s.io"]],
                                                                  "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-status"]])
            _ = try await admin.create(Pod(metadata: ObjectMeta(name: "p", namespace: "elsewhere"), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")])))
            #expect(try await bot.raw(method: "GET", path: "/api/v1/namespaces/elsewhere/pods/p/status").status == 200)
            #expect(try await bot.raw(method: "GET", path: "/api/v1/namespaces/elsewhere/pods/p").status == 403)
        }
    }

    @Test("list and watch with a metadata.name field selector are that name's requests: resourceNames allows them, and nothing wider")
    func resourceNamesOnListAndWatch() async throws {
        try await Self.rbacSandbox { sandbox, admin in
            let bot = try KubernetesClient(configuration: sandbox.clientConfiguration(authentication: .bearerToken(sandbox.serviceAccountToken(namespace: "default", name: "bot"))))
            defer { Task { try? await bot.shutdown() } }
            _ = try await admin.create(Self.roles, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "one-cm", "namespace": "default"],
                                                    "rules": [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "watch"], "resourceNames": ["only-this"]]]])
            _ = try await admin.create(Self.roleBindings, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "bot-one", "namespace": "default"],
                                                           "subjects": [["kind": "ServiceAccount", "name": "bot", "namespace": "default"]],
                                                           "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "one-cm"]])
            _ = try await admin.create(ConfigMap(metadata: ObjectMeta(name: "only-this", namespace: "default")))
            _ = try await admin.create(ConfigMap(metadata: ObjectMeta(name: "other", namespace: "default")))
            #expect(try await bot.list(ConfigMap.self, namespace: "default", options: ListOptions(fieldSelector: "metadata.name=only-this")).items.map(\.metadata.name) == ["only-this"])
            _ = try await bot.watch(ConfigMap.self, namespace: "default", options: WatchOptions(fieldSelector: "metadata.name=only-this", timeoutSeconds: 1))
            #expect(await Self.forbidden { _ = try await bot.list(ConfigMap.self, namespace: "default") } != nil)
            #expect(await Self.forbidden { _ = try await bot.list(ConfigMap.self, namespace: "default", options: ListOptions(fieldSelector: "metadata.name=other")) } != nil)
            #expect(await Self.forbidden { _ = try await bot.watch(ConfigMap.self, namespace: "default", options: WatchOptions(fieldSelector: "metadata.name=other")) } != nil)
        }
    }

    @Test("SelfSubjectAccessReview answers what the caller may do (kubectl auth can-i), and serviceaccounts/token issues a token that acts as the ServiceAccount")
    func accessReviewAndTokens() async throws {
        try await Self.rbacSandbox { sandbox, admin in
            _ = try await admin.create(ResourceType(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true),
                                       ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "robot", "namespace": "default"]])
            let request: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": 600]]
            let issued = try await admin.raw(method: "POST", path: "/api/v1/namespaces/default/serviceaccounts/robot/token", body: request.serialized(), contentType: "application/json")
            #expect(issued.status == 201)
            let token = try #require(try JSONValue.parse(issued.body).value(atPath: "status.token")?.stringValue)
            let robot = try KubernetesClient(configuration: sandbox.clientConfiguration(authentication: .bearerToken(token)))
            defer { Task { try? await robot.shutdown() } }

            func canI(_ verb: String, _ resource: String) async throws -> Bool? {
                let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                         "spec": ["resourceAttributes": ["namespace": "default", "verb": .string(verb), "resource": .string(resource)]]]
                let answer = try await robot.raw(method: "POST", path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: review.serialized(), contentType: "application/json")
                #expect(answer.status == 201)
                return try JSONValue.parse(answer.body).value(atPath: "status.allowed")?.boolValue
            }
            #expect(try await canI("list", "pods") == false)
            _ = try await admin.create(Self.clusterRoleBindings, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": ["name": "robot-view"],
                                                                  "subjects": [["kind": "ServiceAccount", "name": "robot", "namespace": "default"]],
                                                                  "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "viewer"]])
            _ = try await admin.create(Self.clusterRoles, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "viewer"],
                                                           "rules": [["apiGroups": ["*"], "resources": ["*"], "verbs": ["list", "watch"]]]])
            #expect(try await canI("list", "pods") == true)
            #expect(try await canI("delete", "pods") == false)
            #expect(try await robot.list(Pod.self, namespace: "default").items.isEmpty)
        }
    }

    @Test("setting blockOwnerDeletion needs update on the owner's finalizers subresource (OwnerReferencesPermissionEnforcement)")
    func blockOwnerDeletion() async throws {
        try await Self.rbacSandbox { sandbox, admin in
            let owner = try await admin.create(ConfigMap(metadata: ObjectMeta(name: "owner", namespace: "default")))
            _ = try await admin.create(Self.roles, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "maker", "namespace": "default"],
                                                    "rules": [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]]]])
            _ = try await admin.create(Self.roleBindings, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "maker", "namespace": "default"],
                                                           "subjects": [["kind": "ServiceAccount", "name": "maker", "namespace": "default"]],
                                                           "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "maker"]])
            let maker = try KubernetesClient(configuration: sandbox.clientConfiguration(authentication: .bearerToken(sandbox.serviceAccountToken(namespace: "default", name: "maker"))))
            defer { Task { try? await maker.shutdown() } }
            let reference = OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
            let message = await Self.forbidden { _ = try await maker.create(ConfigMap(metadata: ObjectMeta(name: "child", namespace: "default", ownerReferences: [reference]))) }
            #expect(message?.hasPrefix(#"configmaps "child" is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: User "system:serviceaccount:default:maker" cannot update resource "configmaps/finalizers""#) == true)
            _ = try await admin.patch(Self.roles, name: "maker", namespace: "default", .merge(["rules": [
                ["apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]],
                ["apiGroups": [""], "resources": ["configmaps/finalizers"], "verbs": ["update"]],
            ]]))
            _ = try await maker.create(ConfigMap(metadata: ObjectMeta(name: "child", namespace: "default", ownerReferences: [reference])))
        }
    }
}
