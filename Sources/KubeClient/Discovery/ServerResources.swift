import Foundation

/// One entry of a group version's discovery document (`GET /apis/<group>/<version>`).
public struct APIResourceInfo: Codable, Sendable, Hashable {
    /// The plural name, or `<plural>/<subresource>`.
    public var name: String
    public var namespaced: Bool
    public var kind: String
    public var verbs: [String]

    public init(name: String, namespaced: Bool, kind: String, verbs: [String]) {
        self.name = name
        self.namespaced = namespaced
        self.kind = kind
        self.verbs = verbs
    }
}

/// A group version's discovery document.
public struct APIResourceList: Codable, Sendable {
    public var groupVersion: String
    public var resources: [APIResourceInfo]
}

extension KubernetesClient {
    /// The resources the server serves at `groupVersion` (`v1`, `ray.io/v1`), or nil when it
    /// does not serve that group version at all (404), as when a CRD is not installed.
    public func serverResources(groupVersion: String) async throws -> APIResourceList? {
        let path = groupVersion.contains("/") ? "/apis/\(groupVersion)" : "/api/\(groupVersion)"
        let response = try await raw(method: "GET", path: path)
        if response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else {
            throw Self.apiError(status: response.status, body: response.body)
        }
        return try Self.decode(APIResourceList.self, from: response.body)
    }

    /// True when the server serves `resource` (its group version lists its plural). This is
    /// what controller-runtime's REST mapper answers with "no matches for kind".
    public func isServed(_ resource: ResourceType) async throws -> Bool {
        guard let list = try await serverResources(groupVersion: resource.apiVersion) else { return false }
        return list.resources.contains { $0.name == resource.plural }
    }
}
