import Foundation
import KubeClient
import KubeRuntimeTesting
@testable import KubeSandbox
import Testing

@Suite("API server semantics")
struct SemanticsTests {
    func pod(_ name: String, owner: JSONValue? = nil, namespace: String = "default") -> JSONValue {
        var p: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": .string(namespace)], "spec": ["containers": [["name": "c", "image": "busybox"]]]]
        if let owner {
            p["metadata"]?["ownerReferences"] = [["apiVersion": "v1", "kind": "ConfigMap", "name": owner.value(atPath: "metadata.name") ?? "", "uid": owner.value(atPath: "metadata.uid") ?? "", "controller": true, "blockOwnerDeletion": true]]
        }
        return p
    }

    func exists(_ client: KubernetesClient, _ type: ResourceType, _ name: String, namespace: String? = "default") async -> Bool {
        (try? await client.get(type, name: name, namespace: namespace)) != nil
    }

    @Test("background deletion of an owner deletes its dependents")
    func backgroundGC() async throws {
        try await KubeSandbox.with { _, client in
            let owner = try await client.create(ConfigMap.resourceType, ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "owner", "namespace": "default"]])
            _ = try await client.create(Pod.resourceType, pod("child", owner: owner))
            try await client.delete(ConfigMap.resourceType, name: "owner", namespace: "default")
            #expect(await !exists(client, Pod.resourceType, "child"))
        }
    }

    @Test("orphan deletion keeps dependents and removes their owner reference")
    func orphanGC() async throws {
        try await KubeSandbox.with { _, client in
            let owner = try await client.create(ConfigMap.resourceType, ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "owner", "namespace": "default"]])
            _ = try await client.create(Pod.resourceType, pod("child", owner: owner))
            try await client.delete(ConfigMap.resourceType, name: "owner", namespace: "default", options: DeleteOptions(propagationPolicy: .orphan))
            let child = try await client.get(Pod.self, name: "child", namespace: "default")
            #expect(child.metadata.ownerReferences?.isEmpty ?? true)
            #expect(await !exists(client, ConfigMap.resourceType, "owner"))
        }
    }

    @Test("foreground deletion removes the owner only after its blocking dependents are gone")
    func foregroundGC() async throws {
        try await KubeSandbox.with { _, client in
            let owner = try await client.create(ConfigMap.resourceType, ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "owner", "namespace": "default"]])
            var child = pod("child", owner: owner)
            child["metadata"]?["finalizers"] = ["test/hold"]
            _ = try await client.create(Pod.resourceType, child)
            let status = try await client.delete(ConfigMap.resourceType, name: "owner", namespace: "default", options: DeleteOptions(propagationPolicy: .foreground))
            #expect(status.value(atPath: "metadata.finalizers") == ["foregroundDeletion"])
            #expect(await exists(client, ConfigMap.resourceType, "owner"), "waits for the child's finalizer")
            _ = try await client.patch(Pod.resourceType, name: "child", namespace: "default", .merge(["metadata": ["finalizers": nil]]))
            #expect(await !exists(client, Pod.resourceType, "child"))
            #expect(await !exists(client, ConfigMap.resourceType, "owner"))
        }
    }

    @Test("garbage collection can be switched off")
    func gcOff() async throws {
        var options = KubeSandbox.Options()
        options.garbageCollection = false
        try await KubeSandbox.with(options) { _, client in
            let owner = try await client.create(ConfigMap.resourceType, ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "owner", "namespace": "default"]])
            _ = try await client.create(Pod.resourceType, pod("child", owner: owner))
            try await client.delete(ConfigMap.resourceType, name: "owner", namespace: "default")
            #expect(await exists(client, Pod.resourceType, "child"))
        }
    }

    @Test("namespaces: objects need an existing namespace, and deleting one deletes its content")
    func namespaces() async throws {
        try await KubeSandbox.with { _, client in
            let missing = try? await client.create(Pod.resourceType, pod("p", namespace: "nope"))
            #expect(missing == nil)
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: "team")))
            var held = pod("held", namespace: "team")
            held["metadata"]?["finalizers"] = ["test/hold"]
            _ = try await client.create(Pod.resourceType, held)
            _ = try await client.create(Pod.resourceType, pod("free", namespace: "team"))
            try await client.delete(Namespace.self, name: "team")
            #expect(await !exists(client, Pod.resourceType, "free", namespace: "team"))
            let ns = try await client.get(Namespace.self, name: "team")
            #expect(ns.status?["phase"] == "Terminating")
            do {
                _ = try await client.create(Pod.resourceType, pod("late", namespace: "team"))
                Issue.record("creating in a terminating namespace is forbidden")
            } catch let error as KubeAPIError {
                #expect(error.isForbidden)
            }
            _ = try await client.patch(Pod.resourceType, name: "held", namespace: "team", .merge(["metadata": ["finalizers": nil]]))
            #expect(await !exists(client, Namespace.resourceType, "team", namespace: nil))
        }
    }

    @Test("pods are validated and defaulted, and their spec is immutable")
    func pods() async throws {
        try await KubeSandbox.with { _, client in
            do {
                _ = try await client.create(Pod.resourceType, ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "Bad_Name", "namespace": "default"], "spec": ["containers": [["name": "c"]]]])
                Issue.record("expected 422")
            } catch let error as KubeAPIError {
                #expect(error.isInvalid)
                let fields = error.status.details?.causes?.compactMap(\.field) ?? []
                #expect(fields.contains("metadata.name"))
                #expect(fields.contains("spec.containers[0].image"))
            }
            let created = try await client.create(Pod.resourceType, pod("p"))
            #expect(created.value(atPath: "spec.restartPolicy") == "Always")
            #expect(created.value(atPath: "status.phase") == "Pending")
            do {
                _ = try await client.patch(Pod.resourceType, name: "p", namespace: "default", .merge(["spec": ["restartPolicy": "Never"]]))
                Issue.record("pod spec updates are forbidden")
            } catch let error as KubeAPIError {
                #expect(error.isInvalid)
            }
            let image = try await client.patch(Pod.resourceType, name: "p", namespace: "default", .strategicMerge(["spec": ["containers": [["name": "c", "image": "alpine"]]]]))
            #expect(image.value(atPath: "spec.containers")?[0]?["image"] == "alpine")
        }
    }

    @Test("generateName gets a random suffix")
    func generateName() async throws {
        try await KubeSandbox.with { _, client in
            let a = try await client.create(ConfigMap.resourceType, ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["generateName": "gen-", "namespace": "default"]])
            let name = a.value(atPath: "metadata.name")?.stringValue ?? ""
            #expect(name.hasPrefix("gen-") && name.count == 9)
        }
    }

    @Test("finalizers cannot be added once deletion started")
    func noNewFinalizers() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "f", namespace: "default", finalizers: ["a/b"])))
            try await client.delete(ConfigMap.self, name: "f", namespace: "default")
            do {
                _ = try await client.patch(ConfigMap.self, name: "f", namespace: "default", .merge(["metadata": ["finalizers": ["a/b", "c/d"]]]))
                Issue.record("expected 422")
            } catch let error as KubeAPIError {
                #expect(error.isInvalid)
            }
        }
    }

    @Test("unsupported media types and subresources answer 415 and 501, never a silent success")
    func unsupported() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Pod.resourceType, pod("p"))
            // A protobuf Pod (a kind whose protobuf the sandbox does not decode) is 415; a body
            // that is not Kubernetes protobuf at all is 400.
            let envelope = ProtobufBodyTests.envelope(apiVersion: "v1", kind: "Pod", raw: [])
            let proto = try await client.raw(method: "POST", path: "/api/v1/namespaces/default/pods", body: envelope, contentType: "application/vnd.kubernetes.protobuf")
            #expect(proto.status == 415)
            let garbage = try await client.raw(method: "POST", path: "/api/v1/namespaces/default/configmaps", body: [1, 2, 3], contentType: "application/vnd.kubernetes.protobuf")
            #expect(garbage.status == 400)
            let exec = try await client.raw(method: "GET", path: "/api/v1/namespaces/default/pods/p/exec")
            #expect(exec.status == 501)
            let weird = try await client.raw(method: "GET", path: "/apis/nothing.example/v1/things")
            #expect(weird.status == 404)
        }
    }

    @Test("the state survives a stop and restart, and watches are closed by it")
    func restart() async throws {
        // One attempt, so the call while stopped fails; a connect timeout that holds on a loaded machine.
        try await KubeSandbox.with(configure: { $0.retry = .init(maxAttempts: 1); $0.connectTimeout = .seconds(5) }) { sandbox, client in
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "kept", namespace: "default")))
            let before = await sandbox.currentResourceVersion()
            await sandbox.stop()
            await #expect(throws: (any Error).self) { _ = try await client.list(ConfigMap.self, namespace: "default") }
            try await sandbox.restart()
            // The client's pool may still be backing off from the refused connections while the
            // server was down; what is tested is the state.
            try await eventually("the ConfigMap served again") { (try? await client.get(ConfigMap.self, name: "kept", namespace: "default")) != nil }
            #expect(await sandbox.currentResourceVersion() == before)
        }
    }

    @Test("any free port is one below the ephemeral range, which no outgoing connection can take before a restart")
    func portBelowEphemeralRange() async throws {
        let low = try #require(ListenPort.ephemeralRangeStart())
        try await KubeSandbox.with { sandbox, _ in
            #expect(sandbox.port >= 10_000 && sandbox.port < low, "port \(sandbox.port), ephemeral range from \(low)")
        }
    }
}
