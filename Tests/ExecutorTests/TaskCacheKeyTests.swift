@testable import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import Testing

/// The task cache's keys are Flyte's, bit for bit: the vectors below are the ones Flyte's and
/// objecthash's own tests assert, so an executor swapped for Flyte's finds the entries Flyte's
/// wrote, and the other way round.
@Suite("Task cache keys")
struct TaskCacheKeyTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// From objecthash's `common_json.test` (github.com/benlaurie/objecthash): JSON → hash.
    @Test("objecthash agrees with objecthash's common JSON vectors", arguments: [
        ("[]", "acac86c0e609ca906f632b0e2dacccb2b77d22b0621f20ebece1a4835b93f6f0"),
        ("[\"foo\", \"bar\"]", "32ae896c413cfdc79eec68be9139c86ded8b279238467c216cf2bec4d5f1e4a2"),
        ("[123456789012345, 678901234567890]", "d4cca471f1c68f62fbc815b88effa7e52e79d110419a7c64c1ebb107b07f7f56"),
        ("{}", "18ac3e7343f016890c510e93f935261169d9e3f565436429830faf0934f4f8e4"),
        ("{\"foo\": [\"bar\", \"baz\"], \"qux\": [\"norf\"]}", "f1a9389f27558538a064f3cc250f8686a0cebb85f1cab7f4d4dcc416ceda3c92"),
        ("[null]", "5fb858ed3ef4275e64c2d5c44b77534181f7722b7765288e76924ce2f9f7f7db"),
        ("false", "c02c0b965e023abee808f2b548d8d5193a8b5229be6f3121a6f16e2d41a449b3"),
        ("0.0", "60101d8c9cb988411468e38909571f357daa67bff5a7b0a3f9ae295cd4aba33d"),
        ("-10.1234", "59b49ae24998519925833e3ff56727e5d4868aba4ecf4c53653638ebff53c366"),
        ("[\"foo\", {\"bar\": [\"baz\", null, 1.0, 1.5, 0.0001, 1000.0, 2.0, -23.1234, 2.0]}]", "783a423b094307bcb28d005bc2f026ff44204442ef3513585e7e73b66e3c2213"),
        ("[\"foo\", {\"bar\": [\"baz\", null, 1, 1.5, 0.0001, 1000, 2, -23.1234, 2]}]", "783a423b094307bcb28d005bc2f026ff44204442ef3513585e7e73b66e3c2213"),
        ("{\"k2\": \"v2\", \"k1\": \"v1\", \"k3\": \"v3\"}", "ddd65f1f7568269a30df7cafc26044537dc2f02a1a0d830da61762fc3e687057"),
        ("\"\\u03d3\"", "f72826713a01881404f34975447bd6edcb8de40b191dc57097ebf4f5417a554d"),
        ("\"\\u03d2\\u0301\"", "42d5b13fb064849a988a86eb7650a22881c0a9ecf77057a1b07ab0dad385889c"),
    ])
    func objectHashVectors(json: String, expected: String) throws {
        #expect(Self.hex(try ObjectHash.digest(JSONValue.parse(json))) == expected)
    }

    /// From Flyte's `flytestdlib/pbhash` tests: the JSON golang/protobuf's jsonpb writes for
    /// their mock message, hashed.
    @Test("objecthash agrees with Flyte's pbhash vectors")
    func pbhashVectors() throws {
        let full = #"{"integer":"18","floatValue":1.3,"stringValue":"lets test this","boolean":true,"datetime":"2019-03-29T12:00:00Z","duration":"0.001s","mapValue":{"z":"last","a":"first"},"collections":["1","2","3"]}"#
        #expect(Data(try ObjectHash.digest(JSONValue.parse(full))).base64EncodedString() == "YpWyLCP1NW0DVk3Hj64tK70H/9t+5fQlj7yyDK2lSEQ=")
        let partial = #"{"integer":"18","floatValue":1.3,"stringValue":"lets test this","boolean":true}"#
        #expect(Data(try ObjectHash.digest(JSONValue.parse(partial))).base64EncodedString() == "GhPMTKvJfUPHK8U3vEmoi/wdVBx7IQSPqyjGXAZzquI=")
    }

    static func integer(_ value: Int64) -> Flyteidl2_Core_Literal {
        var literal = Flyteidl2_Core_Literal()
        literal.scalar.primitive.integer = value
        return literal
    }

    static func literals(_ pairs: [String: Flyteidl2_Core_Literal]) -> Flyteidl2_Core_LiteralMap {
        var map = Flyteidl2_Core_LiteralMap()
        map.literals = pairs
        return map
    }

    /// Flyte's `catalog/hashing_test.go`: the inputs hash of no inputs, of {1: 1, 2: 2} in
    /// either order, and with an ignored input.
    @Test("the inputs hash is Flyte's")
    func inputsHash() throws {
        #expect(try CacheKey.inputsHash(.init(), ignoring: []) == "GKw-c0PwFokMUQ6T-TUmEWnZ4_VlQ2Qpgw-vCTT0-OQ")
        let two = Self.literals(["1": Self.integer(1), "2": Self.integer(2)])
        #expect(try CacheKey.inputsHash(two, ignoring: []) == "GQid5LjHbakcW68DS3P2jp80QLbiF0olFHF2hTh5bg8")
        let three = Self.literals(["2": Self.integer(2), "1": Self.integer(1), "3": Self.integer(3)])
        #expect(try CacheKey.inputsHash(three, ignoring: ["3"]) == "GQid5LjHbakcW68DS3P2jp80QLbiF0olFHF2hTh5bg8")
        #expect(try CacheKey.inputsHash(three, ignoring: []) != "GQid5LjHbakcW68DS3P2jp80QLbiF0olFHF2hTh5bg8")
    }

    /// A literal that carries a hash is hashed as that hash alone: two different datasets with
    /// the same hash give one key, the same dataset with two hashes two keys.
    @Test("a literal's own hash stands for its value")
    func literalHash() throws {
        func dataset(_ uri: String, hash: String) -> Flyteidl2_Core_Literal {
            var literal = Flyteidl2_Core_Literal()
            literal.scalar.structuredDataset.uri = uri
            literal.scalar.structuredDataset.metadata.structuredDatasetType.format = "parquet"
            literal.hash = hash
            return literal
        }
        var nested = Flyteidl2_Core_Literal()
        nested.collection.literals = [dataset("s3://a", hash: "h1")]
        var other = Flyteidl2_Core_Literal()
        other.collection.literals = [dataset("s3://b", hash: "h1")]
        #expect(try CacheKey.inputsHash(Self.literals(["d": nested]), ignoring: []) == CacheKey.inputsHash(Self.literals(["d": other]), ignoring: []))
        other.collection.literals = [dataset("s3://a", hash: "h2")]
        #expect(try CacheKey.inputsHash(Self.literals(["d": nested]), ignoring: []) != CacheKey.inputsHash(Self.literals(["d": other]), ignoring: []))
    }

    /// Flyte's `TestHashIdentifierExceptVersion`, and the key's shape: a new version of the
    /// task finds the same entries; the cache version and the interface do not.
    @Test("the key leaves the task's version out and takes the cache version")
    func key() throws {
        var id = Flyteidl2_Core_Identifier()
        id.project = "project_1"
        id.domain = "domain_1"
        id.name = "name_1"
        id.version = "0"
        id.org = "org_1"
        #expect(try ProtoHash.base64(CacheKey.withoutVersion(id)) == "+UmrGhEwHv3FesdpA4gliBluF3FUXz4tshmuOlw1FSk=")

        var interface = Flyteidl2_Core_TypedInterface()
        var entry = Flyteidl2_Core_VariableEntry()
        entry.key = "x"
        entry.value.type.simple = .integer
        interface.inputs.variables = [entry]
        let inputs = Self.literals(["x": Self.integer(7)])
        let key = try CacheKey(task: id, interface: interface, inputs: inputs, ignoredInputs: [], cacheVersion: "v1")
        // <identifier>-<inputs signature>-<outputs signature (of an empty map)>-<inputs>-<version>
        let inputsSignature = try String(ProtoHash.rawURLBase64(interface.inputs).prefix(8))
        let outputsSignature = try String(ProtoHash.rawURLBase64(Flyteidl2_Core_VariableMap()).prefix(8))
        #expect(outputsSignature == "GKw-c0Pw")
        #expect(key.value == "+UmrGhEwHv3FesdpA4gliBluF3FUXz4tshmuOlw1FSk=-\(inputsSignature)-\(outputsSignature)-\(try CacheKey.inputsHash(inputs, ignoring: []))-v1")

        id.version = "1"
        #expect(try CacheKey(task: id, interface: interface, inputs: inputs, ignoredInputs: [], cacheVersion: "v1") == key)
        #expect(try CacheKey(task: id, interface: interface, inputs: inputs, ignoredInputs: [], cacheVersion: "v2") != key)
        entry.value.type.simple = .string
        interface.inputs.variables = [entry]
        #expect(try CacheKey(task: id, interface: interface, inputs: inputs, ignoredInputs: [], cacheVersion: "v1") != key)
        // Without an input map the inputs are not read: any inputs give the same key.
        interface.clearInputs()
        #expect(try CacheKey(task: id, interface: interface, inputs: inputs, ignoredInputs: [], cacheVersion: "v1")
            == CacheKey(task: id, interface: interface, inputs: .init(), ignoredInputs: [], cacheVersion: "v1"))
    }
}
