import KubeClient
import Testing

/// `Pod.spec` is stored boxed; it must behave as the plain value it was.
@Suite("A Pod's boxed spec keeps value semantics")
struct PodSpecStorageTests {
    static func pod() -> Pod {
        Pod(metadata: ObjectMeta(name: "p", namespace: "default"), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")]))
    }

    @Test("a copy's spec changes alone, in place or replaced; nil and back")
    func copies() {
        let original = Self.pod()
        var copy = original
        copy.spec?.containers.append(Container(name: "sidecar"))
        copy.spec?.nodeName = "node-1"
        #expect(original.spec?.containers.map(\.name) == ["main"] && original.spec?.nodeName == nil)
        #expect(copy.spec?.containers.map(\.name) == ["main", "sidecar"] && copy.spec?.nodeName == "node-1")
        var cleared = copy
        cleared.spec = nil
        #expect(cleared.spec == nil && copy.spec != nil)
        cleared.spec = original.spec
        #expect(cleared.spec == original.spec)
    }

    @Test("two Pods with equal specs built apart are equal and hash alike; a different spec is not equal")
    func equality() {
        let a = Self.pod(), b = Self.pod()
        #expect(a == b && a.hashValue == b.hashValue)
        var c = b
        c.spec?.restartPolicy = "Never"
        #expect(a != c)
        var none = a
        none.spec = nil
        #expect(none != a && none == { var n = b; n.spec = nil; return n }())
    }

    @Test("the spec survives an encode and a decode")
    func roundTrip() throws {
        var pod = Self.pod()
        pod.spec?.restartPolicy = "Never"
        let decoded = try JSONBytesDecoder().decode(Pod.self, from: try JSONBytesEncoder().encode(pod))
        #expect(decoded.spec == pod.spec)
    }
}
