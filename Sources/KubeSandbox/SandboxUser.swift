import Foundation
import Synchronization

/// Who made a request, as kube-apiserver's authenticators describe a user.
struct SandboxUser: Sendable, Equatable {
    var name: String
    var groups: [String]

    /// The sandbox's own admin (its client certificate and static token) and plain-HTTP
    /// callers: members of `system:masters`, which RBAC never refuses.
    static func admin(_ name: String) -> SandboxUser { SandboxUser(name: name, groups: ["system:masters", "system:authenticated"]) }

    /// A ServiceAccount's identity: `system:serviceaccount:<ns>:<name>` in the groups every
    /// ServiceAccount and every one of its namespace belongs to.
    static func serviceAccount(namespace: String, name: String) -> SandboxUser {
        SandboxUser(name: "system:serviceaccount:\(namespace):\(name)", groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"])
    }

    var isSuperuser: Bool { groups.contains("system:masters") }

    /// For a ServiceAccount user, its namespace and name.
    var serviceAccount: (namespace: String, name: String)? {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount" else { return nil }
        return (String(parts[2]), String(parts[3]))
    }
}

/// Bearer tokens the sandbox accepts: its static admin token, and ServiceAccount tokens it
/// issued (through ``KubeSandbox/serviceAccountToken(namespace:name:)`` or the
/// `serviceaccounts/token` subresource, which `kubectl create token` calls).
final class TokenRegistry: Sendable {
    private let tokens: Mutex<[String: SandboxUser]>

    init(admin token: String) {
        tokens = Mutex([token: .admin("sandbox")])
    }

    func user(for token: String) -> SandboxUser? { tokens.withLock { $0[token] } }

    /// Issues a new token for a ServiceAccount.
    func issue(namespace: String, name: String) -> String {
        let token = "sa-" + UUID().uuidString.lowercased()
        tokens.withLock { $0[token] = .serviceAccount(namespace: namespace, name: name) }
        return token
    }
}
