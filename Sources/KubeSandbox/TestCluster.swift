import Foundation
import KubeClient

/// Where a portable test runs: a ``KubeSandbox`` in this process (the default), or the cluster
/// `KUBECONFIG` names when `EXECUTOR_E2E=1` (`make e2e`). The same test body runs on either.
///
/// On a cluster each test gets a namespace of its own (`executor-e2e-…`, deleted afterwards)
/// with its `default` ServiceAccount (made if no controller makes it), and, when the options
/// ask for a kubelet, a ``SimulatedKubelet`` running as an API client that takes only that
/// namespace's Pods naming the scheduler ``schedulerName`` and binds them to the Node
/// `sandbox-node` (created once, labelled `executor.flyte.org/e2e=true`, for `make e2e` to
/// delete). Code under test that makes Pods there must name that scheduler, so the cluster's
/// own scheduler and kubelets leave them alone. In the sandbox the namespace is `default`.
public struct TestCluster: Sendable {
    /// The in-process sandbox; nil on a real cluster.
    public let sandbox: KubeSandbox?
    public let client: KubernetesClient
    /// How to reach the cluster, for more clients.
    public let configuration: ClientConfiguration
    /// Where the test's objects live.
    public let namespace: String

    /// Whether tests run against the cluster `KUBECONFIG` names.
    public static var isExternal: Bool { ProcessInfo.processInfo.environment["EXECUTOR_E2E"] == "1" }
    /// The scheduler the simulated kubelet stands in for on a cluster.
    public static let schedulerName = "executor-e2e"

    /// Runs `body` on the backend the environment chooses, and cleans up after it.
    public static func with<T>(_ options: KubeSandbox.Options = KubeSandbox.Options(), _ body: (TestCluster) async throws -> T) async throws -> T {
        if !isExternal {
            return try await KubeSandbox.with(options) { sandbox, client in
                try await body(TestCluster(sandbox: sandbox, client: client, configuration: sandbox.clientConfiguration(), namespace: "default"))
            }
        }
        let configuration = try ClientConfiguration.load()
        let client = try KubernetesClient(configuration: configuration)
        let namespace = "executor-e2e-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        var kubelet: SimulatedKubelet?
        func cleanUp() async {
            await kubelet?.stop()
            _ = try? await client.delete(Namespace.self, name: namespace)
            try? await client.shutdown()
        }
        do {
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: namespace)))
            try await ensureDefaultServiceAccount(client, namespace: namespace)
            if options.kubelet {
                try await ensureNode(client)
                kubelet = try SimulatedKubelet.start(configuration: configuration, scope: .init(namespace: namespace, schedulerName: schedulerName))
            }
            let result = try await body(TestCluster(sandbox: nil, client: client, configuration: configuration, namespace: namespace))
            await cleanUp()
            return result
        } catch {
            await cleanUp()
            throw error
        }
    }

    /// Creates `definition` unless the cluster has it, and waits (up to a minute) until it is
    /// Established.
    public func ensureCRD(_ definition: JSONValue) async throws {
        do {
            _ = try await client.create(.customResourceDefinitions, definition)
        } catch let error as KubeAPIError where error.code == 409 {}
        let name = definition.value(atPath: "metadata.name")?.stringValue ?? ""
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let crd = try? await client.get(.customResourceDefinitions, name: name)
            if crd?.value(atPath: "status.conditions")?.arrayValue?.contains(where: { $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True" }) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw KubeClientError.invalidConfiguration("the CustomResourceDefinition \(name) was not Established within 60 s")
    }

    /// A new namespace's `default` ServiceAccount, which kube-controller-manager makes a moment
    /// later (and a cluster without it never makes): Pods are refused until it exists.
    static func ensureDefaultServiceAccount(_ client: KubernetesClient, namespace: String) async throws {
        let serviceAccounts = ResourceType(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true)
        for _ in 0..<20 {
            if (try? await client.get(serviceAccounts, name: "default", namespace: namespace)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        do {
            _ = try await client.create(serviceAccounts, ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default"]], namespace: namespace)
        } catch let error as KubeAPIError where error.code == 409 {}
    }

    /// The Node the simulated kubelet binds Pods to, so the cluster's Pod GC does not delete
    /// them as orphans.
    static func ensureNode(_ client: KubernetesClient) async throws {
        let nodes = ResourceType(group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false)
        do {
            _ = try await client.create(nodes, ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(SimulatedKubelet.nodeName), "labels": ["executor.flyte.org/e2e": "true"]]])
        } catch let error as KubeAPIError where error.code == 409 {}
    }
}
