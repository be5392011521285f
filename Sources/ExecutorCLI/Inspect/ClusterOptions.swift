import ArgumentParser
import Foundation
import KubeClient
import Logging

/// How `get`, `describe` and `watch` reach the cluster: the same kubeconfig rules as
/// `executor run` (`--kubeconfig`, else `KUBECONFIG`, else in-cluster, else `~/.kube/config`).
struct ClusterOptions: ParsableArguments {
    @Option(help: "Path to a kubeconfig; default: KUBECONFIG, then in-cluster, then ~/.kube/config.")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use; default: its current-context.")
    var context: String?

    @Option(name: [.short, .customLong("namespace")], help: "The namespace; default: the kubeconfig context's.")
    var namespace: String?

    /// Connects, hands `body` an ``Inspector`` and the namespace (the flag's, else the
    /// context's), and closes the connection afterwards.
    func inspect<T>(_ body: (Inspector, String) async throws -> T) async throws -> T {
        let configuration = try ClientConfiguration.load(kubeconfig: kubeconfig, context: context)
        var logger = Logger(label: "executor-cli")
        logger.logLevel = .error
        let client = try KubernetesClient(configuration: configuration, logger: logger)
        let inspector = Inspector(client: client, style: .detect(), plugins: ExecutorCLI.registry())
        do {
            let result = try await body(inspector, namespace ?? configuration.namespace)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// A failure of `get`, `describe` or `watch`, said in one line.
struct InspectError: Error, CustomStringConvertible {
    var description: String

    /// The line for `error` met while reading `resource` (`taskactions`), naming the fix
    /// where there is one: a CRD not installed, an RBAC rule missing, an API server not reached.
    static func explain(_ error: any Error, resource: ResourceType, namespace: String?) -> InspectError {
        let kind = resource.kind
        if let api = error as? KubeAPIError {
            if api.isNotFound {
                return InspectError(description: "the \(kind) CRD (\(resource.groupResource)) is not installed in this cluster; install the executor (kubectl apply -f dist/install.yaml) or its CRD (executor manifests)")
            }
            if api.isForbidden {
                return InspectError(description: "RBAC denied: \(api.message.isEmpty ? "cannot read \(resource.groupResource)" : api.message)")
            }
            if api.isUnauthorized {
                return InspectError(description: "the API server did not accept the kubeconfig's credentials (401 Unauthorized)")
            }
            return InspectError(description: "the API server answered \(api.code): \(api.message)")
        }
        if let client = error as? KubeClientError, case .transport(let message) = client {
            return InspectError(description: "cannot reach the API server: \(message)")
        }
        return InspectError(description: "\(error)")
    }
}

/// Closest names first, for "did you mean": Levenshtein distance within a third of the
/// name's length (at least 2), or a name that contains the one asked for.
enum NameSuggestions {
    static func closest(to name: String, among names: [String], limit: Int = 3) -> [String] {
        let bound = max(2, name.count / 3)
        let scored = names.compactMap { candidate -> (String, Int)? in
            let distance = levenshtein(name, candidate)
            if distance <= bound || candidate.contains(name) { return (candidate, distance) }
            return nil
        }
        return scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit).map(\.0)
    }

    static func levenshtein(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
