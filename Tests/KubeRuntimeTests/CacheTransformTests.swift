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

    @Test("interning returns one instance for equal long strings and leaves short ones alone")
    func interning() {
        let interner = StringInterner(capacity: 2)
        let a = interner(String("flytesnacks-development".reversed().reversed()))
        let b = interner(String("flytesnacks-development".reversed().reversed()))
        #expect(a == b)
        #expect(a.utf8.withContiguousStorageIfAvailable { $0.baseAddress } == b.utf8.withContiguousStorageIfAvailable { $0.baseAddress })
        _ = interner("short")
        #expect(interner.count == 1)
        _ = interner("another-long-string-here")
        _ = interner("a-third-long-string-here")
        #expect(interner.count == 2)
    }
}
