import Foundation
import KubeClient
import KubeSandbox
import Testing

/// Behaviours of kube-apiserver 1.36 that an operator's tests depend on, each stated as the
/// real server behaves (issue 17).
@Suite("KubeSandbox behaves like kube-apiserver")
struct FidelityTests {
    static let services = ResourceType(group: "", version: "v1", kind: "Service", plural: "services", namespaced: true)

    static func service(ports: [JSONValue]) -> JSONValue {
        ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "namespace": "default"], "spec": ["selector": ["app": "web"], "ports": .array(ports)]]
    }

    @Test("server-side apply merges keyed lists by key: re-applying a port whose stored copy was defaulted adds no duplicate")
    func applyMergesKeyedListsByKey() async throws {
        try await KubeSandbox.with { _, client in
            let config = Self.service(ports: [["name": "http", "port": 80]])
            for _ in 0..<3 {
                _ = try await client.patch(Self.services, name: "web", namespace: "default", .apply(config, fieldManager: "deployer"))
            }
            let stored = try await client.get(Self.services, name: "web", namespace: "default")
            let ports = stored.value(atPath: "spec.ports")?.arrayValue ?? []
            #expect(ports.count == 1)
            #expect(ports.first?["protocol"] == "TCP")
            #expect(ports.first?["targetPort"] == 80)
            // A second port and then dropping the first: keyed by port and protocol.
            _ = try await client.patch(Self.services, name: "web", namespace: "default", .apply(Self.service(ports: [["name": "http", "port": 80], ["name": "dns", "port": 53, "protocol": "UDP"]]), fieldManager: "deployer"))
            _ = try await client.patch(Self.services, name: "web", namespace: "default", .apply(Self.service(ports: [["name": "dns", "port": 53, "protocol": "UDP"]]), fieldManager: "deployer"))
            let after = try await client.get(Self.services, name: "web", namespace: "default")
            #expect(after.value(atPath: "spec.ports")?.arrayValue?.compactMap { $0["port"]?.intValue } == [53])
            let fields = after.value(atPath: "metadata.managedFields")?.arrayValue?.first?["fieldsV1"]
            #expect(fields?.value(atPath: "f:spec.f:ports")?.objectValue?.keys.sorted() == [#"k:{"port":53,"protocol":"UDP"}"#])
        }
    }

    @Test("server-side apply of a container port keys it by containerPort and protocol, the protocol defaulted")
    func applyKeysContainerPorts() async throws {
        try await KubeSandbox.with { _, client in
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "default"],
                                  "spec": ["containers": [["name": "main", "image": "busybox:1.36", "ports": [["containerPort": 8080]]]]]]
            _ = try await client.patch(Pod.resourceType, name: "p", namespace: "default", .apply(pod, fieldManager: "me"))
            _ = try await client.patch(Pod.resourceType, name: "p", namespace: "default", .apply(pod, fieldManager: "me"))
            let stored = try await client.get(Pod.resourceType, name: "p", namespace: "default")
            let ports = stored.value(atPath: "spec.containers")?.arrayValue?.first?["ports"]?.arrayValue ?? []
            #expect(ports == [["containerPort": 8080, "protocol": "TCP"]])
        }
    }

    @Test("a PUT of a custom resource without metadata.resourceVersion is rejected with 422: must be specified for an update")
    func putWithoutResourceVersion() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, try Fixtures.taskActionCRD())
            let created = try await client.create(Fixtures.taskActions, Fixtures.taskAction("put-me"))
            var body = created
            body["metadata"]?["resourceVersion"] = nil
            body["spec"]?["project"] = "changed"
            do {
                _ = try await client.update(Fixtures.taskActions, body)
                Issue.record("the unconditional PUT was accepted")
            } catch let error as KubeAPIError {
                #expect(error.code == 422)
                #expect(error.status.message == #"TaskAction.flyte.org "put-me" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update"#)
            }
            let stored = try await client.get(Fixtures.taskActions, name: "put-me", namespace: "default")
            #expect(stored.value(atPath: "spec.project") == created.value(atPath: "spec.project"))
            // With the version it is an ordinary update, and built-in kinds still allow an
            // unconditional one.
            body["metadata"]?["resourceVersion"] = created.value(atPath: "metadata.resourceVersion")
            _ = try await client.update(Fixtures.taskActions, body)
            var map = try await client.create(ConfigMap(metadata: ObjectMeta(name: "cm", namespace: "default"), data: ["a": "1"]))
            map.metadata.resourceVersion = nil
            map.data = ["a": "2"]
            #expect(try await client.update(map).data == ["a": "2"])
        }
    }
}
