import KubeClient
import KubeRuntime
import Testing

@Suite("Cache transforms")
struct CacheTransformTests {
    static func pod() -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: "a-0", namespace: "flytesnacks-development", labels: ["flyte.org/managed": "true", "execution-id": "a"], annotations: ["primary_container_name": "a-0", "other": "x"], finalizers: ["flyte.org/flyte-finalizer"]))
        pod.metadata.managedFields = [try! JSONValueDecoder().decode(ManagedFieldsEntry.self, from: ["manager": "kubelet"])]
        pod.spec = PodSpec(containers: [Container(name: "a-0", image: "img", args: ["pyflyte-execute", "--inputs", "s3://x"], env: [EnvVar(name: "A", value: "b")])], restartPolicy: "Never", serviceAccountName: "sa")
        pod.spec?.nodeName = "node-1"
        var status = PodStatus()
        status.phase = "Running"
        var container = ContainerStatus(name: "a-0")
        container.imageID = "sha256:abc"
        container.containerID = "containerd://abc"
        container.restartCount = 1
        status.containerStatuses = [container]
        pod.status = status
        return pod
    }

    @Test("the Pod status view keeps status, owners and the named labels and annotations, and drops the rest")
    func statusView() {
        var pod = Self.pod()
        CacheTransforms.podStatusView(keepingLabels: ["execution-id"], annotations: ["primary_container_name"])(&pod)
        #expect(pod.metadata.managedFields == nil)
        #expect(pod.metadata.labels == ["execution-id": "a"])
        #expect(pod.metadata.annotations == ["primary_container_name": "a-0"])
        #expect(pod.metadata.finalizers == ["flyte.org/flyte-finalizer"])
        #expect(pod.spec?.containers.map(\.name) == ["a-0"])
        #expect(pod.spec?.containers.first?.args == nil)
        #expect(pod.spec?.containers.first?.env == nil)
        #expect(pod.spec?.serviceAccountName == nil)
        #expect(pod.spec?.nodeName == "node-1")
        #expect(pod.spec?.restartPolicy == "Never")
        #expect(pod.status?.phase == "Running")
        #expect(pod.status?.containerStatuses?.first?.restartCount == 1)
        #expect(pod.status?.containerStatuses?.first?.imageID == nil)
    }

    @Test("shared strings: one storage for equal long strings, short ones left inline, never more than the slots")
    func sharing() {
        let table = SharedStrings(slots: 2, maxLength: 64)
        let a = table(String("flytesnacks-development".reversed().reversed()))
        let b = table(String("flytesnacks-development".reversed().reversed()))
        #expect(a == b)
        #expect(a.utf8.withContiguousStorageIfAvailable { $0.baseAddress } == b.utf8.withContiguousStorageIfAvailable { $0.baseAddress })
        _ = table("short")
        #expect(table.count == 1)
        for i in 0..<50 { _ = table("another-long-string-here-\(i)") }
        #expect(table.count <= 2)
        // Too long to be worth hashing: returned as it is, not stored.
        let long = String(repeating: "x", count: 65)
        let before = table.count
        #expect(table(long) == long)
        #expect(table.count == before)
    }

    @Test("a string read from bytes is the stored one when the table holds it, a new one when its slot holds another")
    func sharingFromBytes() {
        let table = SharedStrings(slots: 1, maxLength: 64)
        func read(_ text: String) -> String { Array(text.utf8).withUnsafeBufferPointer { table.string($0) } }
        let first = read("2026-11-30T16:11:55Z")
        let second = read("2026-11-30T16:11:55Z")
        #expect(first == second)
        #expect(first.utf8.withContiguousStorageIfAvailable { $0.baseAddress } == second.utf8.withContiguousStorageIfAvailable { $0.baseAddress })
        // One slot: another string takes it, and the first is made anew (equal, not shared).
        #expect(read("2026-11-30T16:11:56Z") == "2026-11-30T16:11:56Z")
        let third = read("2026-11-30T16:11:55Z")
        #expect(third == first)
        #expect(third.utf8.withContiguousStorageIfAvailable { $0.baseAddress } != first.utf8.withContiguousStorageIfAvailable { $0.baseAddress })
    }

    @Test("shared string maps: one storage for equal maps, unequal ones kept apart, never more than the slots")
    func sharingMaps() {
        let table = SharedStringMaps.table(slots: 4)
        func storage(_ map: [String: String]) -> UInt { unsafeBitCast(map, to: UInt.self) }
        let a = table(["attempt": "0", "example.com/primary": String("main".reversed().reversed())])
        let b = table(["example.com/primary": "main", "attempt": "0"])
        #expect(a == b)
        #expect(storage(a) == storage(b), "an equal map is the stored one")
        let other = table(["attempt": "1"])
        #expect(other == ["attempt": "1"])
        #expect(storage(other) != storage(a))
        #expect(table([:]).isEmpty)
        for i in 0..<50 { _ = table(["attempt": "\(i)"]) }
        #expect(table.count <= 4)
        // The table's hash ignores order: a map grown large and emptied again walks its entries
        // in another order than a small one with the same two.
        var grown: [String: String] = [:]
        for i in 0..<64 { grown["k\(i)"] = "v\(i)" }
        for i in 2..<64 { grown["k\(i)"] = nil }
        #expect(SharedStringMaps.hash(grown) == SharedStringMaps.hash(["k1": "v1", "k0": "v0"]))
        #expect(SharedStringMaps.hash(["k0": "v0"]) != SharedStringMaps.hash(["k0": "v1"]))
        #expect(SharedStringMaps.hash(["k0": "v0"]) != SharedStringMaps.hash(["v0": "k0"]))
        #expect(storage(table(grown)) == storage(table(["k0": "v0", "k1": "v1"])))
    }

    @Test("the Pods' status views share their kept labels and annotations when equal")
    func statusViewsShareKeptMaps() {
        // Labels and annotations each through a table of their own: in one table the two maps
        // could take one slot (the hash is seeded per process) and evict each other.
        func pods(keepingLabels labels: Set<String>, annotations: Set<String>) -> (Pod, Pod) {
            let maps = SharedStringMaps.table(slots: 8)
            func pod(_ name: String) -> Pod {
                var pod = Pod(metadata: ObjectMeta(name: name, namespace: "flytesnacks-development", labels: ["attempt": "0", "run": name], annotations: ["primary": "task", "note": name]))
                pod.trimToStatusView(keepingLabels: labels, annotations: annotations, maps: maps)
                return pod
            }
            return (pod("a-0"), pod("b-0"))
        }
        let (a, b) = pods(keepingLabels: ["attempt"], annotations: [])
        #expect(a.metadata.labels == ["attempt": "0"] && b.metadata.annotations == nil)
        #expect(unsafeBitCast(a.metadata.labels!, to: UInt.self) == unsafeBitCast(b.metadata.labels!, to: UInt.self))
        let (c, d) = pods(keepingLabels: [], annotations: ["primary"])
        #expect(c.metadata.annotations == ["primary": "task"] && d.metadata.labels == nil)
        #expect(unsafeBitCast(c.metadata.annotations!, to: UInt.self) == unsafeBitCast(d.metadata.annotations!, to: UInt.self))
    }

    @Test("the status view keeps exactly the asked labels and annotations, whether the Pod has more of them than asked or fewer")
    func statusViewKeepsAskedKeys() {
        func kept(_ labels: [String: String]?, _ keys: Set<String>) -> [String: String]? {
            var pod = Pod(metadata: ObjectMeta(name: "p", namespace: "default", labels: labels, annotations: labels))
            pod.trimToStatusView(keepingLabels: keys, annotations: keys, maps: SharedStringMaps.table(slots: 8))
            #expect(pod.metadata.labels == pod.metadata.annotations)
            return pod.metadata.labels
        }
        let many = ["attempt": "0", "run": "r1", "action": "a0", "project": "p", "domain": "d"]
        // More labels than keys.
        #expect(kept(many, ["attempt"]) == ["attempt": "0"])
        #expect(kept(many, ["attempt", "missing"]) == ["attempt": "0"])
        #expect(kept(many, ["missing"]) == nil)
        // As many or fewer.
        #expect(kept(["attempt": "1"], ["attempt", "run", "action"]) == ["attempt": "1"])
        #expect(kept(["run": "r1", "attempt": "2"], ["attempt", "run"]) == ["run": "r1", "attempt": "2"])
        #expect(kept(["run": "r1"], ["attempt", "other"]) == nil)
        // Nothing asked, or nothing there.
        #expect(kept(many, []) == nil)
        #expect(kept(nil, ["attempt"]) == nil)
        #expect(kept([:], ["attempt"]) == nil)
    }

    @Test("a Pod decoded for a cache keeps its annotations out of the shared map table: they are its own, and its status view drops them")
    func podAnnotationsNotShared() throws {
        let bytes = try JSONValue(encoding: Self.pod()).serialized()
        let cache = JSONBytesDecoder(discardManagedFields: true, sharedStrings: SharedStrings(slots: 64, maxLength: 1024))
        let one = try cache.decode(Pod.self, from: bytes)
        let two = try cache.decode(Pod.self, from: bytes)
        #expect(one.metadata.annotations == Self.pod().metadata.annotations)
        // Sent through `SharedStringMaps.shared`, the second decode would hand out the first's map.
        #expect(unsafeBitCast(one.metadata.annotations!, to: UInt.self) != unsafeBitCast(two.metadata.annotations!, to: UInt.self))
    }
}
