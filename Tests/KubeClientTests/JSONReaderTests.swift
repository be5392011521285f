import Foundation
@testable import KubeClient
import Testing

@Suite("JSONReader: the forward-only reader under typed decoding")
struct JSONReaderTests {
    func read<T: JSONReadable>(_ type: T.Type, _ text: String, lean: Bool = false) throws -> T {
        try JSONReader.withReader(Array(text.utf8), discardUnknownFields: lean, discardManagedFields: lean) { try T(json: &$0) }
    }

    @Test("strings decode as Foundation decodes them, whatever the length and wherever a quote or escape falls")
    func stringsAtEveryAlignment() throws {
        // The reader looks at eight bytes per step; put the interesting byte at every offset
        // of a word and past the last whole word.
        for length in 0..<40 {
            for position in 0...length {
                for special in [#"\""#, #"\\"#, #"\n"#, #"\u00e9"#, "é", "/"] {
                    var body = String(repeating: "a", count: length)
                    body.insert(contentsOf: special, at: body.index(body.startIndex, offsetBy: position))
                    let json = "\"\(body)\""
                    // An independent decoder: the tree parser shares the reader's string scan.
                    let expected = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed) as? String
                    #expect(try read(String.self, json) == expected, "\(json)")
                    #expect(try JSONValue.parse(json).stringValue == expected, "\(json)")
                }
            }
        }
    }

    @Test("a control character inside a string is rejected wherever it falls")
    func controlCharacters() {
        for length in 1..<20 {
            for position in 0..<length {
                var bytes = Array("\"\(String(repeating: "a", count: length))\"".utf8)
                bytes[1 + position] = 0x01
                #expect(throws: JSONParseError.self) {
                    _ = try JSONReader.withReader(bytes) { try $0.readString() }
                }
            }
        }
    }

    @Test("skipping finds the end of strings with escaped quotes and backslashes at every alignment")
    func skipping() throws {
        for length in 0..<24 {
            let padding = String(repeating: "x", count: length)
            let json = #"{"skip":{"a":"\#(padding)\"}\\","b":["]\\\"",{"c":"}"}]},"keep":"\#(padding)"}"#
            var kept: String?
            try JSONReader.withReader(Array(json.utf8)) { reader in
                try reader.readObject { key, value in
                    if key == "keep" { kept = try value.read() }  // "skip" is left unread, so skipped
                }
            }
            #expect(kept == padding)
        }
    }

    @Test("a wrong type names the member path and what was found")
    func mismatchPath() {
        do {
            _ = try read(Pod.self, #"{"metadata":{"labels":{"a":"b","c":1}}}"#)
            Issue.record("expected an error")
        } catch let error as JSONParseError {
            #expect(error.path == ["metadata", "labels", "c"])
            #expect(error.description.contains("metadata.labels.c"))
            #expect(error.reason == "expected a string, found a number")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a missing required member is an error naming it, as with synthesized Codable")
    func requiredMembers() {
        do {
            _ = try read(Pod.self, #"{"status":{"conditions":[{"type":"Ready","status":"True"},{"status":"False"}]}}"#)
            Issue.record("expected an error")
        } catch let error as JSONParseError {
            #expect(error.path == ["status", "conditions", "1"])
            #expect(error.reason == #"missing required member "type""#)
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: JSONParseError.self) { _ = try read(OwnerReference.self, #"{"apiVersion":"v1","kind":"Pod","name":"p"}"#) }
        #expect(throws: JSONParseError.self) { _ = try read(ContainerState.Terminated.self, #"{"reason":"Error"}"#) }
    }

    @Test("null reads as absent; a null list of containers as none")
    func nulls() throws {
        let pod = try read(Pod.self, #"{"metadata":{"name":null,"labels":null},"spec":{"containers":null,"nodeName":null},"status":null}"#)
        #expect(pod.metadata.name == nil)
        #expect(pod.metadata.labels == nil)
        #expect(pod.spec?.containers == [])
        #expect(pod.spec?.nodeName == nil)
        #expect(pod.status == nil)
    }

    @Test("integers: whole numbers in any notation count, fractions and overflow are errors")
    func integers() throws {
        #expect(try read(Int64.self, "7") == 7)
        #expect(try read(Int64.self, "-0") == 0)
        #expect(try read(Int64.self, "1.0") == 1)
        #expect(try read(Int64.self, "2e3") == 2000)
        #expect(try read(Int64.self, "9223372036854775807") == Int64.max)
        #expect(try read(Int64.self, "-9223372036854775808") == Int64.min)
        #expect(throws: JSONParseError.self) { _ = try read(Int64.self, "1.5") }
        #expect(throws: JSONParseError.self) { _ = try read(Int64.self, "9223372036854775808") }
        #expect(throws: JSONParseError.self) { _ = try read(Int64.self, #""1""#) }
        #expect(throws: JSONParseError.self) { _ = try read(Int32.self, "4294967296") }
        #expect(try read(Double.self, "-1.25e2") == -125)
    }

    @Test("an object read after its members' type decides decodes the same: the watch event's object before its type")
    func objectBeforeType() throws {
        let object = #"{"metadata":{"name":"p","resourceVersion":"5"},"spec":{"containers":[{"name":"c"}]}}"#
        let typeFirst = try WatchEventDecoder.typed(ArraySlice(#"{"type":"MODIFIED","object":\#(object)}"#.utf8), as: Pod.self)
        let objectFirst = try WatchEventDecoder.typed(ArraySlice(#"{"object":\#(object),"type":"MODIFIED"}"#.utf8), as: Pod.self)
        #expect(typeFirst.type == .modified)
        #expect(objectFirst.type == .modified)
        #expect(typeFirst.object == objectFirst.object)
        #expect(objectFirst.object?.metadata.resourceVersion == "5")
        let bookmark = try WatchEventDecoder.typed(ArraySlice(#"{"object":{"kind":"Pod","metadata":{"resourceVersion":"9"}},"type":"BOOKMARK"}"#.utf8), as: Pod.self)
        guard case .bookmark(let version) = bookmark else { Issue.record("expected a bookmark"); return }
        #expect(version == "9")
        #expect(throws: KubeClientError.self) { _ = try WatchEventDecoder.typed(ArraySlice(#"{"object":\#(object)}"#.utf8), as: Pod.self) }
        #expect(throws: KubeClientError.self) { _ = try WatchEventDecoder.typed(ArraySlice(#"{"type":"ADDED","object":\#(object)} x"#.utf8), as: Pod.self) }
    }

    @Test("every Decoder reaches the same model: Foundation's JSONDecoder, the tree decoder and the byte decoder")
    func codableBridge() throws {
        let text = JSONBytesDecoderTests.pod
        let fromReader = try JSONBytesDecoder().decode(Pod.self, from: Array(text.utf8))
        let fromFoundation = try JSONDecoder().decode(Pod.self, from: Data(text.utf8))
        let fromTree = try JSONValueDecoder().decode(Pod.self, from: try JSONValue.parse(text))
        #expect(fromFoundation == fromReader)
        #expect(fromTree == fromReader)
        // A model that is not readable itself still reaches ObjectMeta's reader through Codable.
        struct Wrapper: Decodable { var metadata: ObjectMeta; var extra: Int }
        let lean = JSONBytesDecoder(discardUnknownFields: true, discardManagedFields: true)
        let wrapped = try lean.decode(Wrapper.self, from: Array(#"{"extra":1,"metadata":{"name":"w","managedFields":[{}],"zz":1}}"#.utf8))
        #expect(wrapped.metadata.name == "w")
        #expect(wrapped.metadata.managedFields == nil)
        #expect(wrapped.metadata.unknownFields.isEmpty)
    }

    @Test("a readable model's Codable init is its reader, not a synthesized one")
    func codableInitIsTheReader() throws {
        struct Probe: Codable, JSONReadable {
            var read = false
            init(json: inout JSONReader) throws {
                try json.skipValue()
                read = true
            }
        }
        #expect(try JSONDecoder().decode(Probe.self, from: Data(#"{"read":false}"#.utf8)).read)
        #expect(try JSONDecoder().decode(Toleration.self, from: Data(#"{"key":"k","tolerationSeconds":1.0}"#.utf8)).tolerationSeconds == 1)
    }

    @Test("a Pod read and written back keeps every member it was read with")
    func roundTrip() throws {
        let text = JSONBytesDecoderTests.pod
        let pod = try JSONBytesDecoder().decode(Pod.self, from: Array(text.utf8))
        let written = try JSONValue.parse(JSONEncoder().encode(pod))
        #expect(written == (try JSONValue.parse(text)))
    }

    @Test("lists of readable items are read in one pass, null items as none")
    func lists() throws {
        let list = try JSONBytesDecoder().decode(
            ObjectList<Pod>.self,
            from: Array(#"{"kind":"PodList","metadata":{"resourceVersion":"12","continue":"c"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#.utf8))
        #expect(list.items.map(\.metadata.name) == ["a", "b"])
        #expect(list.metadata.resourceVersion == "12")
        #expect(list.metadata.continue == "c")
        let empty = try JSONBytesDecoder().decode(ObjectList<Pod>.self, from: Array(#"{"metadata":{},"items":null}"#.utf8))
        #expect(empty.items.isEmpty)
    }

    @Test("member counts that size collections up front", arguments: [
        ("[]", 0), ("{}", 0), ("[ ]", 0), ("[1]", 1), (#"["a,b","]"]"#, 2), (#"[{"a":[1,2,3]},[4,5],"x"]"#, 3),
        (#"{"a":{"b":1,"c":2},"d":"}"}"#, 2), (#"[[],{}]"#, 2), ("5", 0),
    ])
    func countMembers(json: String, count: Int) throws {
        try JSONReader.withReader(Array(json.utf8)) { reader in
            #expect(reader.countMembers() == count)
            try reader.skipValue()
        }
    }

    @Test("nesting deeper than the limit is an error, not a crashed stack")
    func depth() {
        let deep = String(repeating: #"{"a":"#, count: 600) + "1" + String(repeating: "}", count: 600)
        struct Deep: JSONReadable {
            init(json: inout JSONReader) throws {
                try json.readObject { _, value in _ = try Deep(json: &value) }
            }
        }
        #expect(throws: JSONParseError.self) { _ = try read(Deep.self, deep) }
    }
}

@Suite("JSONPrunedFields: members a cache skips while decoding")
struct JSONPrunedFieldsTests {
    /// A Pod as kube-apiserver sends it, with what a status-view cache drops and what it keeps.
    static let pod = #"""
    {"kind":"Pod","apiVersion":"v1",
     "metadata":{"name":"a-n0-0","namespace":"ns","uid":"u1","resourceVersion":"42","generation":1,
       "labels":{"attempt":"0","flyte.org/managed":"true"},"annotations":{"primary_container_name":"main","other":"x"},
       "ownerReferences":[{"apiVersion":"flyte.org/v1","kind":"TaskAction","name":"a","uid":"t1","controller":true}],
       "finalizers":["flyte.org/flyte-finalizer"],"selfLink":"/api/v1/x",
       "managedFields":[{"manager":"executor","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{}}}]},
     "spec":{"restartPolicy":"Never","nodeName":"node-3","serviceAccountName":"sa","schedulerName":"default-scheduler",
       "nodeSelector":{"pool":"a"},"tolerations":[{"key":"k","operator":"Exists"}],"affinity":{"nodeAffinity":{}},
       "terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
       "initContainers":[{"name":"init","image":"busybox","args":["true"]}],
       "containers":[{"name":"main","image":"img","command":["sh"],"args":["-c","echo \"hi\""],"workingDir":"/w",
         "env":[{"name":"A","value":"1"}],"resources":{"limits":{"cpu":"1"}},"imagePullPolicy":"IfNotPresent",
         "volumeMounts":[{"name":"v","mountPath":"/v"}]},{"name":"sidecar","image":"img2"}],
       "volumes":[{"name":"v","emptyDir":{}}]},
     "status":{"phase":"Running","hostIP":"10.0.0.1","podIP":"10.1.0.1","startTime":"2026-11-23T12:00:01Z","qosClass":"Burstable",
       "conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-23T12:00:05Z"}],
       "initContainerStatuses":[{"name":"init","ready":false,"restartCount":0,"image":"busybox","imageID":"sha","containerID":"c://0",
         "state":{"terminated":{"exitCode":0,"reason":"Completed","containerID":"c://0"}}}],
       "containerStatuses":[{"name":"main","ready":true,"restartCount":1,"image":"img","imageID":"sha2","containerID":"c://1","started":true,
         "state":{"running":{"startedAt":"2026-11-23T12:00:04Z"}},"lastState":{"terminated":{"exitCode":137,"reason":"OOMKilled"}}}]}}
    """#

    func trimmed(_ pod: Pod) -> Pod {
        var pod = pod
        pod.trimToStatusView(keepingLabels: ["attempt"], annotations: ["primary_container_name"])
        return pod
    }

    @Test("decoding with the status view's pruned fields and trimming equals decoding everything and trimming")
    func statusViewEquivalence() throws {
        let full = try JSONBytesDecoder().decode(Pod.self, from: Array(Self.pod.utf8))
        let pruned = try Pod.statusViewDecoder.decode(Pod.self, from: Array(Self.pod.utf8))
        #expect(trimmed(pruned) == trimmed(full))
        // And the pruned decode really left out what the view drops.
        #expect(pruned.spec?.containers.first?.args == nil)
        #expect(pruned.spec?.containers.first?.env == nil)
        #expect(pruned.spec?.containers.first?.image == nil)
        #expect(pruned.spec?.volumes == nil)
        #expect(pruned.spec?.tolerations == nil)
        #expect(pruned.spec?.initContainers?.first?.args == nil)
        #expect(pruned.status?.containerStatuses?.first?.imageID == nil)
        #expect(pruned.metadata.managedFields == nil)
        #expect(pruned.spec?.containers.map(\.name) == ["main", "sidecar"])
        #expect(pruned.status?.containerStatuses?.first?.lastState?.terminated?.reason == "OOMKilled")
    }

    @Test("the same holds for a watch event and for every item of a list")
    func rootsOfEventsAndLists() throws {
        let event = try WatchEventDecoder.typed(ArraySlice(#"{"type":"MODIFIED","object":\#(Self.pod)}"#.utf8), as: Pod.self, decoder: Pod.statusViewDecoder)
        #expect(event.object?.spec?.containers.first?.args == nil)
        #expect(event.object?.status?.phase == "Running")
        let list = try Pod.statusViewDecoder.decode(ObjectList<Pod>.self, from: Array(#"{"kind":"PodList","metadata":{"resourceVersion":"9"},"items":[\#(Self.pod),\#(Self.pod)]}"#.utf8))
        #expect(list.items.count == 2)
        #expect(list.items.allSatisfy { $0.spec?.volumes == nil && $0.spec?.nodeName == "node-3" })
        #expect(list.metadata.resourceVersion == "9")
    }

    @Test("paths: arrays are transparent, a shared prefix prunes only its leaves, other members are untouched")
    func paths() throws {
        let fields: JSONPrunedFields = ["spec.containers.args", "spec.containers.env", "status", "metadata.labels"]
        let decoder = JSONBytesDecoder(prunedFields: fields)
        let pod = try decoder.decode(Pod.self, from: Array(Self.pod.utf8))
        #expect(pod.spec?.containers.allSatisfy { $0.args == nil && $0.env == nil } == true)
        #expect(pod.spec?.containers.first?.command == ["sh"])
        #expect(pod.spec?.initContainers?.first?.args == ["true"])  // another path
        #expect(pod.status == nil)
        #expect(pod.metadata.labels == nil)
        #expect(pod.metadata.annotations?["other"] == "x")
        #expect(pod.spec?.containers.first?.unknownFields["volumeMounts"] != nil)  // unknown members kept unless discarded
        // A member named like a pruned one elsewhere in the tree is not pruned.
        let other = try JSONBytesDecoder(prunedFields: ["args"]).decode(Pod.self, from: Array(Self.pod.utf8))
        #expect(other.spec?.containers.first?.args == ["-c", #"echo "hi""#])
        #expect(fields.paths.count == 4)
    }
}
