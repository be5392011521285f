/// Where a kind of object lives in the Kubernetes REST API.
///
/// ```swift
/// let pods = ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true)
/// pods.path(namespace: "default", name: "p1") // "/api/v1/namespaces/default/pods/p1"
/// ```
public struct ResourceType: Hashable, Sendable, CustomStringConvertible {
    /// API group; empty for the core group.
    public var group: String
    public var version: String
    public var kind: String
    /// The lower-case plural used in URLs.
    public var plural: String
    public var namespaced: Bool

    public init(group: String, version: String, kind: String, plural: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
    }

    /// `v1` for the core group, `group/version` otherwise.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `plural.group`, the name Kubernetes uses for the resource in RBAC and CRD names.
    public var groupResource: String { group.isEmpty ? plural : "\(plural).\(group)" }

    public var description: String { "\(groupResource)/\(version)" }

    /// `apiextensions.k8s.io/v1` CustomResourceDefinitions.
    public static let customResourceDefinitions = ResourceType(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", namespaced: false)

    /// The URL path prefix of the group version: `/api/v1` or `/apis/group/version`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection or object path; `namespace` is ignored for cluster-scoped resources and
    /// a `nil` namespace on a namespaced resource addresses all namespaces.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = groupVersionPath
        if namespaced, let namespace, !namespace.isEmpty {
            path += "/namespaces/\(Self.escape(namespace))"
        }
        path += "/\(plural)"
        if let name {
            path += "/\(Self.escape(name))"
            if let subresource { path += "/\(subresource)" }
        }
        return path
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathSegmentAllowed) ?? segment
    }
}

/// A Kubernetes object type the client can read and write in typed form.
///
/// Conformers declare where they live with ``resourceType``; `apiVersion` and `kind` are
/// filled in by the client on writes.
public protocol KubernetesObject: Codable, Sendable {
    static var resourceType: ResourceType { get }
    var metadata: ObjectMeta { get set }

    /// Whether `other` is known to hold the same content as this object. An `Equatable`
    /// conformer compares (the default); any other answers false, which is always safe: it
    /// only means a cache cannot skip work for an unchanged object.
    func isKnownSame(as other: Self) -> Bool
}

extension KubernetesObject {
    public func isKnownSame(as other: Self) -> Bool { false }
}

extension KubernetesObject where Self: Equatable {
    public func isKnownSame(as other: Self) -> Bool { self == other }
}

import Foundation

extension CharacterSet {
    /// RFC 3986 unreserved characters: what may stand unescaped in one path segment.
    static let urlPathSegmentAllowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()
}
