import Foundation
import KubeClient
import KubeSandbox
import Testing

/// Protobuf request bodies (issue 17, item 11): kubectl's `create` subcommands send built-in
/// kinds as `application/vnd.kubernetes.protobuf`, and client-go does not fall back to JSON
/// after a 415 for protobuf, so the sandbox decodes them.
@Suite("Protobuf request bodies")
struct ProtobufBodyTests {
    // A minimal protobuf writer, enough to build what kubectl sends.
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(v & 0x7f)
            v >>= 7
            if v != 0 { byte |= 0x80 }
            out.append(byte)
        } while v != 0
        return out
    }

    static func field(_ number: UInt64, _ bytes: [UInt8]) -> [UInt8] { varint(number << 3 | 2) + varint(UInt64(bytes.count)) + bytes }
    static func field(_ number: UInt64, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }
    static func mapEntry(_ number: UInt64, _ key: String, _ value: [UInt8]) -> [UInt8] { field(number, field(1, key) + field(2, value)) }

    /// `k8s\0` + runtime.Unknown{typeMeta, raw}, as client-go's protobuf serializer writes it.
    static func envelope(apiVersion: String, kind: String, raw: [UInt8]) -> [UInt8] {
        [0x6b, 0x38, 0x73, 0x00] + field(1, field(1, apiVersion) + field(2, kind)) + field(2, raw) + field(3, "") + field(4, "")
    }

    @Test("a ConfigMap and a Secret sent as protobuf are stored as their JSON would be: names, labels, data, binaryData and type")
    func configMapAndSecret() async throws {
        try await KubeSandbox.with { _, client in
            // Go writes empty non-pointer fields too (generateName "" here); they must not appear.
            let meta = Self.field(1, "settings") + Self.field(2, "") + Self.field(3, "default") + Self.mapEntry(11, "app", Array("web".utf8))
            let configMap = Self.field(1, meta) + Self.mapEntry(2, "mode", Array("fast".utf8)) + Self.mapEntry(3, "blob", [0, 1, 2])
            let response = try await client.raw(method: "POST", path: "/api/v1/namespaces/default/configmaps", body: Self.envelope(apiVersion: "v1", kind: "ConfigMap", raw: configMap), contentType: "application/vnd.kubernetes.protobuf")
            #expect(response.status == 201)
            let stored = try await client.get(ConfigMap.self, name: "settings", namespace: "default")
            #expect(stored.data == ["mode": "fast"])
            #expect(stored.binaryData == ["blob": Data([0, 1, 2]).base64EncodedString()])
            #expect(stored.metadata.labels == ["app": "web"])
            #expect(stored.metadata.generateName == nil)

            let secret = Self.field(1, Self.field(1, "token") + Self.field(3, "default")) + Self.mapEntry(2, "key", Array("s3cr3t".utf8))
            let created = try await client.raw(method: "POST", path: "/api/v1/namespaces/default/secrets", body: Self.envelope(apiVersion: "v1", kind: "Secret", raw: secret), contentType: "application/vnd.kubernetes.protobuf")
            #expect(created.status == 201)
            let object = try JSONValue.parse(created.body)
            #expect(object.value(atPath: "data.key") == .string(Data("s3cr3t".utf8).base64EncodedString()))
            #expect(object["type"] == "Opaque")
        }
    }
}
