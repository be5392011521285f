import Foundation
import Testing
@testable import KubeClient

@Suite("JSONBytesEncoder")
struct JSONBytesEncoderTests {
    /// The bytes written as the value is encoded, and whether the conformance kept to the order
    /// the streaming path needs (false: the encoder went through the tree instead).
    static func streamed(_ value: some Encodable, stamping: (apiVersion: String, kind: String)? = nil) throws -> (json: JSONValue, inOrder: Bool) {
        let writer = StreamWriter(stamping: stamping)
        try writer.write(value, path: [])
        writer.closeAll()
        return (writer.outOfOrder ? .null : try JSONValue.parse(writer.out), !writer.outOfOrder)
    }

    static func same(_ value: some Encodable) throws -> Bool {
        // Both read back from bytes: a whole Double prints as an integer either way.
        try JSONValue.parse(JSONBytesEncoder().encode(value)) == JSONValue.parse(JSONValueEncoder().encode(value).serialized())
    }

    @Test("writes what the tree encoder builds, straight to bytes, for synthesized and hand-written conformances")
    func sameAsTree() throws {
        let sample = JSONValueEncoderTests.sample
        let (json, inOrder) = try Self.streamed(sample)
        #expect(inOrder)
        #expect(json == (try JSONValue.parse(JSONValueEncoder().encode(sample).serialized())))
        #expect(try JSONBytesDecoder().decode(JSONValueEncoderTests.Sample.self, from: JSONBytesEncoder().encode(sample)) == sample)
        var status = TaskLikeStatus()
        status.history = [.init(phase: "Queued", at: Date(timeIntervalSince1970: 1_700_000_000)), .init(phase: "Running", at: Date(timeIntervalSince1970: 1_700_000_001))]
        status.attempts = 2
        #expect(try Self.streamed(status).inOrder)
        #expect(try Self.same(status))
        #expect(try Self.same([1, 2, 3]))
        #expect(try Self.same("top \"level\" \\ string\n\u{1}é"))
        #expect(try Self.same(Optional<String>.none))
        #expect(try Self.same([String: [Int]]()))
        #expect(try Self.same([[String: Double]]([["a": 0.5, "b": 1e300, "c": -2]])))
        #expect(try Self.same(UInt64(42)))
        #expect(try Self.same(Int64.min))
    }

    @Test("a Pod encodes as the tree does, its unknown members (a second container on one encoder) in the same pass; an unknown member named like a declared one goes through the tree")
    func pods() throws {
        var pod = Pod(metadata: ObjectMeta(name: "p", namespace: "default", labels: ["a": "b"]), spec: PodSpec(containers: [Container(name: "c")]))
        pod.spec?.containers[0].env = [EnvVar(name: "E", value: "v")]
        #expect(try Self.streamed(pod).inOrder)
        #expect(try Self.same(pod))
        let text = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}],"unknownField":{"x":[1.5]}},"extra":true}"#
        let odd = try JSONBytesDecoder().decode(Pod.self, from: Array(text.utf8))
        #expect(try Self.streamed(odd).inOrder)
        #expect(try Self.same(odd))
        let body = try JSONValue.parse(JSONBytesEncoder().encode(odd))
        #expect(body["extra"] == .bool(true) && body["spec"]?["unknownField"] == ["x": [1.5]])
        var clash = pod
        clash.spec?.unknownFields = ["nodeName": "from-unknown", "hostPID": true]
        clash.spec?.nodeName = "declared"
        #expect(try Self.streamed(clash).inOrder == false)
        #expect(try Self.same(clash))
        #expect(try JSONValue.parse(JSONBytesEncoder().encode(clash))["spec"]?["nodeName"] == JSONValueEncoder().encode(clash)["spec"]?["nodeName"])
    }

    @Test("conformances that leave a container and come back, write a single value twice or leave an encoder unused still come out as the tree has them")
    func outOfOrder() throws {
        struct Back: Encodable {
            enum K: String, CodingKey { case a, b, c }
            func encode(to encoder: any Encoder) throws {
                var top = encoder.container(keyedBy: K.self)
                var a = top.nestedContainer(keyedBy: K.self, forKey: .a)
                var b = top.nestedUnkeyedContainer(forKey: .b)
                try b.encode(1)
                try a.encode("late", forKey: .c)  // `a` was closed when `b` opened
                try top.encode(3, forKey: .c)
            }
        }
        #expect(try Self.streamed(Back()).inOrder == false)
        #expect(try Self.same(Back()))
        #expect(try JSONValue.parse(JSONBytesEncoder().encode(Back())) == ["a": ["c": "late"], "b": [1], "c": 3])

        struct Twice: Encodable {
            func encode(to encoder: any Encoder) throws {
                var single = encoder.singleValueContainer()
                try single.encode(1)
                try single.encode("two")
            }
        }
        #expect(try Self.streamed(Twice()).inOrder == false)
        #expect(try JSONValue.parse(JSONBytesEncoder().encode(Twice())) == "two")

        struct Unused: Encodable {
            enum K: String, CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var top = encoder.container(keyedBy: K.self)
                _ = top.superEncoder(forKey: .a)
                try top.encode(true, forKey: .b)
            }
        }
        #expect(try Self.streamed(Unused()).inOrder)
        #expect(try Self.same(Unused()))

        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        #expect(try Self.same(Nothing()))
        #expect(try Self.same([Nothing(), Nothing()]))

        struct Super: Encodable {
            enum K: String, CodingKey { case own }
            func encode(to encoder: any Encoder) throws {
                var top = encoder.container(keyedBy: K.self)
                try top.encode("o", forKey: .own)
                var parent = top.superEncoder().container(keyedBy: K.self)
                try parent.encode("p", forKey: .own)
                var list = encoder.unkeyedContainer()  // a second container on one encoder
                try list.encode(1)
            }
        }
        #expect(try Self.streamed(Super()).inOrder == false)
    }

    @Test("a request body gets apiVersion and kind where it has none or an empty one, and keeps its own")
    func stamping() throws {
        struct Object: Encodable {
            var apiVersion: String?
            var kind: String?
            var spec = ["x": 1]
        }
        let stamp = (apiVersion: "flyte.org/v1", kind: "TaskAction")
        func encoded(_ o: Object) throws -> JSONValue { try JSONValue.parse(JSONBytesEncoder.encode(o, stamping: stamp)) }
        #expect(try encoded(Object()) == ["apiVersion": "flyte.org/v1", "kind": "TaskAction", "spec": ["x": 1]])
        #expect(try encoded(Object(apiVersion: "", kind: "")) == ["apiVersion": "flyte.org/v1", "kind": "TaskAction", "spec": ["x": 1]])
        #expect(try encoded(Object(apiVersion: "v9", kind: "Other")) == ["apiVersion": "v9", "kind": "Other", "spec": ["x": 1]])
        #expect(try encoded(Object(apiVersion: nil, kind: "K")) == ["apiVersion": "flyte.org/v1", "kind": "K", "spec": ["x": 1]])
        // Only the top-level object is stamped.
        struct Outer: Encodable { var inner = Object() }
        #expect(try JSONValue.parse(JSONBytesEncoder.encode(Outer(), stamping: stamp)) == ["inner": ["spec": ["x": 1]], "apiVersion": "flyte.org/v1", "kind": "TaskAction"])
        let pod = Pod(metadata: ObjectMeta(name: "p"))
        let body = try JSONValue.parse(KubernetesClient.encode(pod))
        #expect(body["apiVersion"] == "v1" && body["kind"] == "Pod")
    }

    @Test("numbers JSON cannot hold are errors, as in the tree")
    func invalidNumbers() throws {
        struct Wrap: Encodable { var values: [Double] }
        #expect(throws: EncodingError.self) { try JSONBytesEncoder().encode(Wrap(values: [1, .infinity])) }
        #expect(throws: EncodingError.self) { try JSONBytesEncoder().encode([UInt64.max]) }
        #expect(throws: EncodingError.self) { try JSONBytesEncoder().encode(["k": Float.nan]) }
    }
}

/// A status in the shape of a TaskAction's: optionals, nested arrays of objects, dates.
struct TaskLikeStatus: Codable {
    struct Entry: Codable { var phase: String; var at: Date }
    var history: [Entry]?
    var attempts: Int32?
    var state: String?
    var labels: [String: String]? = ["a": "b"]
}
