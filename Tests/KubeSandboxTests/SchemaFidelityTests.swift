import Foundation
import KubeClient
import KubeSandbox
import Testing

/// Structural-schema behaviours of kube-apiserver beyond types and enums (issue 17, item 7).
@Suite("CRD schema validation as kube-apiserver does it")
struct SchemaFidelityTests {
    static let gadgets = ResourceType(group: "example.com", version: "v1", kind: "Gadget", plural: "gadgets", namespaced: true)

    static var crd: JSONValue { crd(code: ["type": "string", "maxLength": 3]) }

    static func crd(code: JSONValue) -> JSONValue {
        [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "gadgets.example.com"],
            "spec": ["group": "example.com", "scope": "Namespaced", "names": ["plural": "gadgets", "kind": "Gadget"],
                     "versions": [["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": [
                        "type": "object",
                        "properties": ["spec": [
                            "type": "object",
                            "properties": [
                                "tags": ["type": "array", "items": ["type": "string"], "x-kubernetes-list-type": "set"],
                                "ports": ["type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                                          "items": ["type": "object", "required": ["name"], "properties": ["name": ["type": "string"], "port": ["type": "integer", "format": "int32"]]]],
                                "count": ["type": "integer", "format": "int32"],
                                "big": ["type": "integer", "format": "int64"],
                                "note": ["type": "string"],
                                "mode": ["type": "string", "default": "fast"],
                                "code": code,
                            ],
                        ]],
                     ]]]]],
        ]
    }

    static func gadget(_ name: String, _ spec: JSONValue) -> JSONValue {
        ["apiVersion": "example.com/v1", "kind": "Gadget", "metadata": ["name": .string(name), "namespace": "default"], "spec": spec]
    }

    static func rejection(_ client: KubernetesClient, _ object: JSONValue) async throws -> String? {
        do {
            _ = try await client.create(Self.gadgets, object)
            return nil
        } catch let error as KubeAPIError {
            #expect(error.code == 422)
            return error.status.message
        }
    }

    @Test("duplicates in x-kubernetes-list-type set and map (by key) lists are 422 Duplicate value")
    func listTypeDuplicates() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, Self.crd)
            #expect(try await Self.rejection(client, Self.gadget("s", ["tags": ["a", "b", "a"]])) == #"Gadget.example.com "s" is invalid: spec.tags[2]: Duplicate value: "a""#)
            #expect(try await Self.rejection(client, Self.gadget("m", ["ports": [["name": "http", "port": 80], ["name": "http", "port": 8080]]])) == #"Gadget.example.com "m" is invalid: spec.ports[1]: Duplicate value: map[string]interface {}{"name":"http"}"#)
            _ = try await client.create(Self.gadgets, Self.gadget("ok", ["tags": ["a", "b"], "ports": [["name": "http", "port": 80], ["name": "grpc", "port": 80]]]))
        }
    }

    @Test("format int32 and int64 bound integers")
    func integerFormats() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, Self.crd)
            let message = try await Self.rejection(client, Self.gadget("i", ["count": 3_000_000_000]))
            #expect(message == #"Gadget.example.com "i" is invalid: spec.count: Invalid value: 3000000000: spec.count in body must be of type int32: "3000000000""#)
            _ = try await client.create(Self.gadgets, Self.gadget("fits", ["count": 2_147_483_647, "big": 3_000_000_000]))
        }
    }

    @Test("a null in an optional field that is not nullable is dropped, not rejected, and its default applies")
    func nullDropped() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, Self.crd)
            let created = try await client.create(Self.gadgets, Self.gadget("n", ["note": .null, "mode": .null, "count": 1]))
            #expect(created.value(atPath: "spec.note") == nil)
            #expect(created.value(atPath: "spec.mode") == "fast")
        }
    }

    @Test("validation ratcheting: an update that keeps an invalid value unchanged is accepted; changing it to another invalid value is not")
    func ratcheting() async throws {
        try await KubeSandbox.with { _, client in
            // Stored while the schema allowed it, then the schema got stricter.
            let crd = try await client.create(Fixtures.crdType, Self.crd(code: ["type": "string"]))
            var gadget = try await client.create(Self.gadgets, Self.gadget("r", ["code": "TOOLONG", "count": 1]))
            var strict = Self.crd
            strict["metadata"]?["resourceVersion"] = crd.value(atPath: "metadata.resourceVersion")
            _ = try await client.update(Fixtures.crdType, strict)

            gadget["spec"]?["count"] = 2
            gadget = try await client.update(Self.gadgets, gadget)  // code unchanged: ratcheted
            #expect(gadget.value(atPath: "spec.count") == 2)
            gadget["spec"]?["code"] = "STILLTOOLONG"
            do {
                _ = try await client.update(Self.gadgets, gadget)
                Issue.record("a changed invalid value was accepted")
            } catch let error as KubeAPIError {
                #expect(error.status.message == #"Gadget.example.com "r" is invalid: spec.code: Too long: may not be more than 3 bytes"#)
            }
        }
    }
}
