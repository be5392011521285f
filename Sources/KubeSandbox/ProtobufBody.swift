import Foundation
import KubeClient

/// Request bodies in `application/vnd.kubernetes.protobuf`, for the built-in kinds kubectl's
/// `create` subcommands send that way (namespace, configmap, secret, serviceaccount, role,
/// rolebinding, clusterrole, clusterrolebinding, token) and `kubectl auth can-i`.
///
/// client-go only falls back to JSON after a 415 for CBOR, not for protobuf, so answering 415
/// would break `kubectl create namespace`. The body is the 4-byte magic `k8s\0` followed by a
/// `runtime.Unknown` whose `raw` holds the object's message; each message is decoded by its
/// field numbers from k8s.io/api's `generated.proto`, into the same JSON the JSON path stores.
/// Kinds not listed here are 415, naming what is supported.
enum ProtobufBody {
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    /// The kinds this decoder knows.
    static var supportedKinds: [String] { schemas.keys.sorted() }

    static func decode(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        guard bytes.count >= 4, Array(bytes.prefix(4)) == magic else {
            throw .badRequest("the protobuf body does not start with the Kubernetes magic number")
        }
        let envelope: JSONValue
        do { envelope = try read(bytes[4...], unknown) } catch { throw .badRequest("the protobuf envelope could not be decoded: \(error.message)") }
        let apiVersion = envelope.value(atPath: "typeMeta.apiVersion")?.stringValue ?? ""
        let kind = envelope.value(atPath: "typeMeta.kind")?.stringValue ?? ""
        guard !kind.isEmpty else { throw .badRequest("Object 'Kind' is missing in the protobuf body") }
        guard let schema = schemas[kind], let raw = envelope["raw"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) else {
            throw .unsupportedMediaType("application/vnd.kubernetes.protobuf (the sandbox decodes protobuf bodies of \(supportedKinds.joined(separator: ", ")) only; send \(kind) as JSON)")
        }
        var object: JSONValue
        do { object = try read(ArraySlice(raw), schema) } catch { throw .badRequest("the protobuf body of a \(kind) could not be decoded: \(error.message)") }
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return object
    }

    // MARK: Schemas (field numbers from k8s.io/api and k8s.io/apimachinery generated.proto)

    indirect enum FieldType: Sendable {
        case string, bytes, int64, bool, time
        case message(Message)
        case stringMap, bytesMap
    }

    struct Field: Sendable {
        var name: String
        var type: FieldType
        var repeated = false
    }

    typealias Message = [UInt64: Field]

    static func f(_ name: String, _ type: FieldType, repeated: Bool = false) -> Field { Field(name: name, type: type, repeated: repeated) }

    static let typeMeta: Message = [1: f("apiVersion", .string), 2: f("kind", .string)]
    static let unknown: Message = [1: f("typeMeta", .message(typeMeta)), 2: f("raw", .bytes), 3: f("contentEncoding", .string), 4: f("contentType", .string)]
    static let ownerReference: Message = [1: f("kind", .string), 3: f("name", .string), 4: f("uid", .string), 5: f("apiVersion", .string), 6: f("controller", .bool), 7: f("blockOwnerDeletion", .bool)]
    static let objectMeta: Message = [
        1: f("name", .string), 2: f("generateName", .string), 3: f("namespace", .string), 4: f("selfLink", .string), 5: f("uid", .string),
        6: f("resourceVersion", .string), 7: f("generation", .int64), 8: f("creationTimestamp", .time), 9: f("deletionTimestamp", .time),
        10: f("deletionGracePeriodSeconds", .int64), 11: f("labels", .stringMap), 12: f("annotations", .stringMap),
        13: f("ownerReferences", .message(ownerReference), repeated: true), 14: f("finalizers", .string, repeated: true),
    ]
    static let policyRule: Message = [1: f("verbs", .string, repeated: true), 2: f("apiGroups", .string, repeated: true), 3: f("resources", .string, repeated: true), 4: f("resourceNames", .string, repeated: true), 5: f("nonResourceURLs", .string, repeated: true)]
    static let labelSelector: Message = [
        1: f("matchLabels", .stringMap),
        2: f("matchExpressions", .message([1: f("key", .string), 2: f("operator", .string), 3: f("values", .string, repeated: true)]), repeated: true),
    ]
    static let subject: Message = [1: f("kind", .string), 2: f("apiGroup", .string), 3: f("name", .string), 4: f("namespace", .string)]
    static let roleRef: Message = [1: f("apiGroup", .string), 2: f("kind", .string), 3: f("name", .string)]
    static let objectReference: Message = [1: f("kind", .string), 2: f("namespace", .string), 3: f("name", .string), 4: f("uid", .string), 5: f("apiVersion", .string), 6: f("resourceVersion", .string), 7: f("fieldPath", .string)]

    static let schemas: [String: Message] = [
        "Namespace": [1: f("metadata", .message(objectMeta)), 2: f("spec", .message([1: f("finalizers", .string, repeated: true)])), 3: f("status", .message([1: f("phase", .string)]))],
        "ConfigMap": [1: f("metadata", .message(objectMeta)), 2: f("data", .stringMap), 3: f("binaryData", .bytesMap), 4: f("immutable", .bool)],
        "Secret": [1: f("metadata", .message(objectMeta)), 2: f("data", .bytesMap), 3: f("type", .string), 4: f("stringData", .stringMap), 5: f("immutable", .bool)],
        "ServiceAccount": [1: f("metadata", .message(objectMeta)), 2: f("secrets", .message(objectReference), repeated: true), 3: f("imagePullSecrets", .message([1: f("name", .string)]), repeated: true), 4: f("automountServiceAccountToken", .bool)],
        "Role": [1: f("metadata", .message(objectMeta)), 2: f("rules", .message(policyRule), repeated: true)],
        "ClusterRole": [1: f("metadata", .message(objectMeta)), 2: f("rules", .message(policyRule), repeated: true), 3: f("aggregationRule", .message([1: f("clusterRoleSelectors", .message(labelSelector), repeated: true)]))],
        "RoleBinding": [1: f("metadata", .message(objectMeta)), 2: f("subjects", .message(subject), repeated: true), 3: f("roleRef", .message(roleRef))],
        "ClusterRoleBinding": [1: f("metadata", .message(objectMeta)), 2: f("subjects", .message(subject), repeated: true), 3: f("roleRef", .message(roleRef))],
        // kubectl auth can-i and kubectl create token.
        "SelfSubjectAccessReview": [1: f("metadata", .message(objectMeta)), 2: f("spec", .message([
            1: f("resourceAttributes", .message([1: f("namespace", .string), 2: f("verb", .string), 3: f("group", .string), 4: f("version", .string), 5: f("resource", .string), 6: f("subresource", .string), 7: f("name", .string)])),
            2: f("nonResourceAttributes", .message([1: f("path", .string), 2: f("verb", .string)])),
        ]))],
        "TokenRequest": [1: f("metadata", .message(objectMeta)), 2: f("spec", .message([
            1: f("audiences", .string, repeated: true), 4: f("expirationSeconds", .int64),
            3: f("boundObjectRef", .message([1: f("kind", .string), 2: f("apiVersion", .string), 3: f("name", .string), 4: f("uid", .string)])),
        ]))],
    ]

    // MARK: Wire format

    struct WireError: Error {
        var message: String
    }

    /// Reads one message: every field it knows, in proto3-JSON shape; unknown fields are skipped.
    static func read(_ bytes: ArraySlice<UInt8>, _ message: Message) throws(WireError) -> JSONValue {
        var reader = Reader(bytes: bytes)
        var out: [String: JSONValue] = [:]
        while !reader.atEnd {
            let tag = try reader.varint()
            let number = tag >> 3
            let wireType = tag & 7
            guard let field = message[number] else {
                try reader.skip(wireType)
                continue
            }
            let value: JSONValue
            switch field.type {
            case .string:
                value = .string(String(decoding: try reader.lengthDelimited(wireType), as: UTF8.self))
            case .bytes:
                value = .string(Data(try reader.lengthDelimited(wireType)).base64EncodedString())
            case .int64:
                guard wireType == 0 else { throw WireError(message: "field \(field.name) is not a varint") }
                value = .int(Int64(bitPattern: try reader.varint()))
            case .bool:
                guard wireType == 0 else { throw WireError(message: "field \(field.name) is not a varint") }
                value = .bool(try reader.varint() != 0)
            case .time:
                let time = try read(try reader.lengthDelimited(wireType), [1: f("seconds", .int64), 2: f("nanos", .int64)])
                // Go's zero time (year 1) is how an unset non-pointer time is written.
                let seconds = time["seconds"]?.intValue ?? 0
                value = seconds <= -62_135_596_800 ? .null : .string(KubeTime.format(Date(timeIntervalSince1970: TimeInterval(seconds))))
            case .message(let inner):
                value = try read(try reader.lengthDelimited(wireType), inner)
            case .stringMap, .bytesMap:
                let entry = try read(try reader.lengthDelimited(wireType), [1: f("key", .string), 2: f("value", field.type.isBytesMap ? .bytes : .string)])
                var map = out[field.name]?.objectValue ?? [:]
                map[entry["key"]?.stringValue ?? ""] = entry["value"] ?? ""
                out[field.name] = .object(map)
                continue
            }
            // Go writes every non-pointer field, empty or not; JSON omits the empty ones
            // (`omitempty`), and so does the stored object.
            if !field.repeated, value == "" || value == .int(0) || value.isNull { continue }
            if field.repeated {
                out[field.name] = .array((out[field.name]?.arrayValue ?? []) + [value])
            } else {
                out[field.name] = value
            }
        }
        return .object(out)
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>
        var atEnd: Bool { bytes.isEmpty }

        mutating func varint() throws(WireError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.popFirst() {
                result |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
                if shift > 63 { throw WireError(message: "varint too long") }
            }
            throw WireError(message: "truncated varint")
        }

        mutating func lengthDelimited(_ wireType: UInt64) throws(WireError) -> ArraySlice<UInt8> {
            guard wireType == 2 else { throw WireError(message: "expected a length-delimited field, found wire type \(wireType)") }
            let length = Int(try varint())
            guard length <= bytes.count else { throw WireError(message: "a field's length runs past the end of the body") }
            let slice = bytes.prefix(length)
            bytes = bytes.dropFirst(length)
            return slice
        }

        mutating func skip(_ wireType: UInt64) throws(WireError) {
            switch wireType {
            case 0: _ = try varint()
            case 1: guard bytes.count >= 8 else { throw WireError(message: "truncated fixed64") }; bytes = bytes.dropFirst(8)
            case 2: _ = try lengthDelimited(2)
            case 5: guard bytes.count >= 4 else { throw WireError(message: "truncated fixed32") }; bytes = bytes.dropFirst(4)
            default: throw WireError(message: "unsupported wire type \(wireType)")
            }
        }
    }
}

extension ProtobufBody.FieldType {
    var isBytesMap: Bool {
        if case .bytesMap = self { return true }
        return false
    }
}
