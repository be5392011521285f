import Foundation
import KubeClient
import Testing

@Suite("JSONValue parsing and serialization")
struct JSONValueTests {
    @Test("parses every JSON type and keeps int64 exact")
    func parsesEveryType() throws {
        let value = try JSONValue.parse(#"{"a":1,"b":-9223372036854775808,"c":9223372036854775807,"d":1.5,"e":"x","f":true,"g":null,"h":[1,{"i":[]}]}"#)
        #expect(value["a"] == .int(1))
        #expect(value["b"] == .int(Int64.min))
        #expect(value["c"] == .int(Int64.max))
        #expect(value["d"] == .double(1.5))
        #expect(value["e"] == .string("x"))
        #expect(value["f"] == .bool(true))
        #expect(value["g"] == .null)
        #expect(value["h"]?[1]?["i"] == .array([]))
    }

    @Test("integers too large for int64 become doubles")
    func hugeIntegers() throws {
        #expect(try JSONValue.parse("18446744073709551616") == .double(18446744073709551616))
        #expect(try JSONValue.parse("1e3") == .double(1000))
    }

    @Test("decodes escapes and surrogate pairs")
    func escapes() throws {
        let value = try JSONValue.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/d\n\té😀"))
    }

    @Test("round trips through serialization", arguments: [
        #"{"k":"v\n\"q\"","n":[1,2.5,true,null],"o":{"x":{}}}"#,
        #"[]"#, #""\u0001""#, #"-0.5"#,
    ])
    func roundTrip(text: String) throws {
        let value = try JSONValue.parse(text)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    @Test("rejects malformed documents with the offset", arguments: [
        "{", "[1,]", #"{"a" 1}"#, "tru", #""\ud800""#, "01x", "1 2", "\"\u{01}\"",
    ])
    func rejectsMalformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("refuses nesting beyond the depth limit instead of overflowing the stack")
    func depthLimit() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }

    @Test("agrees with JSONDecoder on typed models")
    func agreesWithCodable() throws {
        let text = #"{"metadata":{"name":"p","labels":{"a":"b"},"generation":3},"spec":{"containers":[{"name":"c","image":"i"}]}}"#
        let pod = try JSONDecoder().decode(Pod.self, from: Data(text.utf8))
        let value = try JSONValue.parse(text)
        #expect(pod.metadata.name == value.value(atPath: "metadata.name")?.stringValue)
        #expect(pod.metadata.generation == value.value(atPath: "metadata.generation")?.intValue)
    }

    @Test("parses YAML documents into the same values as JSON")
    func yaml() throws {
        let docs = try JSONValue.documents(yaml: "a: 1\nb: [x, true, null, 2.5]\n---\n---\nc: {d: \"e\"}\n")
        #expect(docs.count == 2)
        #expect(docs[0] == ["a": 1, "b": ["x", true, nil, 2.5]])
        #expect(docs[1] == ["c": ["d": "e"]])
    }

    @Test("writes YAML that reads back as the same values, quoting strings YAML would retype")
    func yamlRoundTrip() throws {
        let value: JSONValue = ["enum": ["True", "False", "Unknown", "yes", "null", "1", "2.5", "~", ""], "bool": true, "n": 3, "text": "plain words", "multi": "a\nb"]
        #expect(try JSONValue(yaml: try value.yaml()) == value)
    }
}

@Suite("Typed models keep unknown fields")
struct UnknownFieldTests {
    @Test("a Pod decoded and encoded again keeps every field it was read with")
    func podRoundTrip() throws {
        let text = #"""
        {"apiVersion":"v1","kind":"Pod","futureTopLevel":{"x":1},
         "metadata":{"name":"p","namespace":"n","futureMeta":"m","labels":{"a":"b"}},
         "spec":{"containers":[{"name":"c","image":"i","futureContainerField":[1,2],"securityContext":{"runAsUser":1000}}],"overhead":{"cpu":"1"}},
         "status":{"phase":"Running","qosClass":"Burstable","containerStatuses":[{"name":"c","ready":true,"allocatedResources":{"cpu":"1"}}]}}
        """#
        let pod = try JSONDecoder().decode(Pod.self, from: Data(text.utf8))
        let again = try JSONValue.parse(JSONEncoder().encode(pod))
        #expect(again == (try JSONValue.parse(text)))
    }
}
