import Foundation
import KubeClient
import Testing

@Suite("Decoding typed models from bytes")
struct JSONBytesDecoderTests {
    static let pod = #"""
    {"apiVersion":"v1","kind":"Pod","future":{"x":[1,2]},
     "metadata":{"name":"p\u00e9","namespace":"n","generation":7,"labels":{"a":"b","c":"d"},
       "managedFields":[{"manager":"kubelet","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:status":{}}}],
       "ownerReferences":[{"apiVersion":"flyte.org/v1","kind":"TaskAction","name":"t","uid":"u","controller":true}]},
     "spec":{"containers":[{"name":"c","image":"i","args":["a","b\"q"],"resources":{"limits":{"cpu":"1"}},"stdin":true}],
       "restartPolicy":"Never","activeDeadlineSeconds":-5,"volumes":[{"name":"v","emptyDir":{}}]},
     "status":{"phase":"Running","containerStatuses":[{"name":"c","ready":true,"restartCount":2,
       "state":{"terminated":{"exitCode":137,"reason":"OOMKilled"}}}]}}
    """#

    @Test("decodes the same Pod as the tree decoder, every field kept")
    func sameAsTree() throws {
        let fromBytes = try JSONBytesDecoder().decode(Pod.self, from: Array(Self.pod.utf8))
        let fromTree = try JSONValueDecoder().decode(Pod.self, from: try JSONValue.parse(Self.pod))
        #expect(fromBytes == fromTree)
        #expect(fromBytes.metadata.name == "pé")
        #expect(fromBytes.spec?.containers[0].args == ["a", "b\"q"])
        #expect(fromBytes.spec?.activeDeadlineSeconds == -5)
        #expect(fromBytes.status?.containerStatuses?[0].state?.terminated?.exitCode == 137)
        #expect(fromBytes.unknownFields["future"] == ["x": [1, 2]])
        #expect(fromBytes.spec?.containers[0].unknownFields["stdin"] == true)
        #expect(fromBytes.metadata.managedFields?.first?.manager == "kubelet")
    }

    @Test("a cache's decoder drops managedFields and unknown fields but keeps what the model declares")
    func lean() throws {
        let pod = try JSONBytesDecoder(discardUnknownFields: true, discardManagedFields: true).decode(Pod.self, from: Array(Self.pod.utf8))
        #expect(pod.metadata.managedFields == nil)
        #expect(pod.unknownFields.isEmpty)
        #expect(pod.spec?.containers[0].unknownFields.isEmpty == true)
        #expect(pod.metadata.labels == ["a": "b", "c": "d"])
        #expect(pod.metadata.ownerReferences?.first?.controller == true)
        #expect(pod.status?.phase == "Running")
    }

    @Test("rejects malformed input and wrong types with an error, never a crash", arguments: [
        #"{"metadata":{"name":5}}"#, #"{"metadata":"#, #"{"metadata":{}} x"#, #"{"spec":{"containers":{}}}"#, #"[1]"#,
    ])
    func rejects(text: String) {
        #expect(throws: (any Error).self) { _ = try JSONBytesDecoder().decode(Pod.self, from: Array(text.utf8)) }
    }

    @Test("escaped member names and repeated members decode as in Go: the last one wins")
    func escapedAndRepeated() throws {
        let cm = try JSONBytesDecoder().decode(ConfigMap.self, from: Array(#"{"metadata":{"n\u0061me":"x","name":"y"},"data":{"k":"1","k":"2"}}"#.utf8))
        #expect(cm.metadata.name == "y")
        #expect(cm.data == ["k": "2"])
    }
}
