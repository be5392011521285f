import Foundation
import KubeClient
import Testing

/// The client against a real cluster: `make e2e` runs these with EXECUTOR_E2E=1 and the cluster
/// KUBECONFIG names. They work in a namespace of their own and delete it afterwards.
@Suite("E2E client calls against a real cluster", .enabled(if: E2E.enabled, "set EXECUTOR_E2E=1 and KUBECONFIG to run against a real cluster"))
struct E2ETests {
    @Test("create, conflict, paging, watch and delete against the configured cluster")
    func roundTrip() async throws {
        let client = try KubernetesClient(configuration: .load())
        let namespace = "executor-e2e-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: namespace)))
        do {
            for i in 0..<5 { _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "c\(i)", namespace: namespace), data: ["i": String(i)])) }
            let all = try await client.listAll(ConfigMap.resourceType, namespace: namespace, pageSize: 2)
            #expect(all.items.filter { $0.value(atPath: "metadata.name")?.stringValue?.hasPrefix("c") == true }.count == 5)
            let first = try await client.get(ConfigMap.self, name: "c0", namespace: namespace)
            var a = first
            a.data = ["i": "a"]
            _ = try await client.update(a)
            var stale = first
            stale.data = ["i": "b"]
            await #expect(throws: KubeAPIError.self) { _ = try await client.update(stale) }
            let stream = try await client.watch(ConfigMap.self, namespace: namespace, options: WatchOptions(resourceVersion: all.resourceVersion, timeoutSeconds: 10))
            try await client.delete(ConfigMap.self, name: "c1", namespace: namespace)
            var sawDelete = false
            for try await event in stream {
                if case .deleted(let cm) = event, cm.metadata.name == "c1" { sawDelete = true; break }
            }
            #expect(sawDelete)
        } catch {
            _ = try? await client.delete(Namespace.self, name: namespace)
            try await client.shutdown()
            throw error
        }
        try await client.delete(Namespace.self, name: namespace)
        try await client.shutdown()
    }
}

enum E2E {
    static var enabled: Bool { ProcessInfo.processInfo.environment["EXECUTOR_E2E"] == "1" }
}
