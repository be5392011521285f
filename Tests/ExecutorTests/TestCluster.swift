import ExecutorAPI
import Foundation
import KubeClient
import KubeSandbox
import Testing

/// Where the portable scenario tests run: a KubeSandbox in this process (the default), or the
/// cluster `KUBECONFIG` names when `EXECUTOR_E2E=1` (`make e2e`).
///
/// On a cluster each test works in a namespace of its own (`executor-e2e-…`, deleted
/// afterwards), the simulated kubelet runs as an API client taking only that namespace's Pods
/// that name the scheduler ``schedulerName`` (the executor under test sets it through
/// `plugins.scheduler-name`, so the cluster's scheduler and kubelets leave them alone), binding
/// them to the Node `sandbox-node` (created once, NotReady; `make e2e` deletes it afterwards).
/// The CRDs are installed if the cluster does not have them. Tests that need the sandbox's
/// powers (fault injection, restarts, create counts) carry ``sandboxOnly`` and are skipped there.
enum TestCluster {
    /// Whether the tests run against the cluster `KUBECONFIG` names.
    static var isExternal: Bool { ProcessInfo.processInfo.environment["EXECUTOR_E2E"] == "1" }
    /// The scheduler the simulated kubelet stands in for on a cluster.
    static let schedulerName = "executor-e2e"
    /// Skips a test on a real cluster: it needs what only the sandbox can do.
    static let sandboxOnly = ConditionTrait.enabled(if: !isExternal, "needs the sandbox's fault injection or bookkeeping; skipped with EXECUTOR_E2E=1")

    /// Runs `body` with a client and the namespace to work in; `sandbox` is nil on a cluster.
    static func with<T>(options: KubeSandbox.Options, _ body: (KubeSandbox?, KubernetesClient, String) async throws -> T) async throws -> T {
        if !isExternal {
            return try await KubeSandbox.with(options) { sandbox, client in try await body(sandbox, client, "default") }
        }
        let configuration = try ClientConfiguration.load()
        let client = try KubernetesClient(configuration: configuration)
        let namespace = "executor-e2e-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        var kubelet: SimulatedKubelet?
        do {
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: namespace)))
            try await ensureDefaultServiceAccount(client, namespace: namespace)
            if options.kubelet {
                try await ensureNode(client)
                kubelet = try SimulatedKubelet.start(configuration: configuration, scope: .init(namespace: namespace, schedulerName: schedulerName))
            }
            let result = try await body(nil, client, namespace)
            await cleanUp(client, namespace: namespace, kubelet: kubelet)
            return result
        } catch {
            await cleanUp(client, namespace: namespace, kubelet: kubelet)
            throw error
        }
    }

    /// Creates `definition` unless the cluster has it, and waits until it is Established.
    static func ensureCRD(_ client: KubernetesClient, _ definition: JSONValue) async throws {
        do {
            _ = try await client.create(.customResourceDefinitions, definition)
        } catch let error as KubeAPIError where error.code == 409 {}
        let name = definition.value(atPath: "metadata.name")?.stringValue ?? ""
        try await eventually("CRD \(name) established", seconds: 60) {
            let crd = try? await client.get(.customResourceDefinitions, name: name)
            return crd?.value(atPath: "status.conditions")?.arrayValue?.contains { $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True" } ?? false
        }
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

    static func cleanUp(_ client: KubernetesClient, namespace: String, kubelet: SimulatedKubelet?) async {
        await kubelet?.stop()
        _ = try? await client.delete(Namespace.self, name: namespace)
        try? await client.shutdown()
    }
}
