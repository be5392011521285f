import Foundation
import Synchronization

/// One write the server took: the part of a kube-apiserver audit event (level `Metadata`,
/// stage `ResponseComplete`) that tells who changed which object and when.
public struct AuditRecord: Sendable {
    /// The order the server answered the writes in, from 0.
    public var sequence: Int
    /// When the answer was made.
    public var time: Date
    /// The authenticated user (`system:serviceaccount:<ns>:<name>` for a ServiceAccount token).
    public var user: String
    public var userAgent: String
    /// Kubernetes' verb: `create`, `update`, `patch`, `delete` or `deletecollection`.
    public var verb: String
    /// The API group, empty for the core group.
    public var group: String
    /// The resource's plural name.
    public var resource: String
    public var subresource: String?
    public var namespace: String?
    /// The object's name; for a create, the name the request gave (nil with `generateName`).
    public var name: String?
    /// The HTTP status of the answer (only 2xx answers are recorded).
    public var code: Int
}

/// Successful writes in the order they were answered, kept only when
/// ``KubeSandbox/Options/auditWrites`` asks (a drill's evidence of who wrote what, the role
/// the audit log plays on a real cluster).
final class AuditLog: Sendable {
    private let records = Mutex<[AuditRecord]>([])

    /// Records `attributes` (with `name` the created object's) as answered with `status`.
    func record(_ request: SandboxRequest, attributes: RequestAttributes, name: String?, status: Int) {
        let userAgent = request.headers.first(name: "User-Agent") ?? ""
        records.withLock {
            $0.append(AuditRecord(sequence: $0.count, time: Date(), user: request.user?.name ?? "system:anonymous", userAgent: userAgent, verb: attributes.verb,
                                  group: attributes.group, resource: attributes.resource, subresource: attributes.subresource, namespace: attributes.namespace, name: name, code: status))
        }
    }

    var all: [AuditRecord] { records.withLock { $0 } }
}
