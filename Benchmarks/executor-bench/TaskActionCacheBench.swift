import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import TaskPlugins

/// What a cached TaskAction costs: `count` completed TaskActions, as the executor leaves them
/// (four phases, two conditions, plugin state), decoded the way an informer decodes them and
/// kept as its store keeps them, with and without ``SharedStrings``. They finish 40 a second,
/// as in the saturated end-to-end run, so timestamps repeat across about 40 of them.
enum TaskActionCacheBench {
    /// The fact sheet's test vector 7.1 (a `busybox` container task; 124 characters of base64).
    static let vectorTemplate = "Cg8IARIBcBoBZCIBdCoCdjESCWNvbnRhaW5lchoEKgIoAjI4CgxidXN5Ym94OjEuMzYSAnNoEgItYxoKZWNobyBoZWxsbyIUCggIARIEMTAwbQoICAMSBDY0TWk="

    /// A Python task's template as an SDK writes one: its image, the entrypoint with
    /// its arguments (code bundle, resolver, module and task), environment and resources.
    /// Its base64 is longer than ``SharedStrings`` keeps, so each decoded TaskAction holds its own.
    static let pythonTemplate: String = {
        var t = Flyteidl2_Core_TaskTemplate()
        t.id.resourceType = .task
        t.id.project = "flytesnacks"
        t.id.domain = "development"
        t.id.name = "workflows.training.train_model"
        t.id.version = "Kq3vZ2a9mYw1m0mJHXkq5A"
        t.type = "python"
        t.metadata.retries.retries = 3
        var c = Flyteidl2_Core_Container()
        c.image = "ghcr.io/flyteorg/flyte:py3.12-v2.0.0b21-6b1f7c0d5a8e4b3c9d2e1f0a7b6c5d4e"
        c.args = ["a0", "--inputs", "{{.input}}", "--outputs-path", "{{.outputPrefix}}", "--version", "Kq3vZ2a9mYw1m0mJHXkq5A",
                  "--raw-data-path", "{{.rawOutputDataPrefix}}", "--checkpoint-path", "{{.checkpointOutputPrefix}}", "--prev-checkpoint", "{{.prevCheckpointPrefix}}",
                  "--run-name", "{{.runName}}", "--name", "{{.actionName}}",
                  "--image-cache", "eyJpbWFnZV9sb29rdXAiOnsiZGVmYXVsdCI6eyIzLjEyIjoiZ2hjci5pby9mbHl0ZW9yZy9mbHl0ZTpweTMuMTItdjIuMC4wYjIxIn19fQ==",
                  "--tgz", "s3://flyte-data/flytesnacks/development/fast/5a1e0b4c7d9f2e8a3b6c1d0e9f8a7b6c.tar.gz", "--dest", ".",
                  "--resolver", "flyte._internal.resolvers.default.DefaultTaskResolver", "mod", "workflows.training", "instance", "train_model"]
        c.env = [("FLYTE_INTERNAL_IMAGE", c.image), ("LOG_LEVEL", "20"), ("_F_SVC_HOST", "flyte-actions.flyte.svc.cluster.local:80"), ("PYTHONUNBUFFERED", "1")].map { key, value in
            var pair = Flyteidl2_Core_KeyValuePair()
            pair.key = key
            pair.value = value
            return pair
        }
        var cpu = Flyteidl2_Core_Resources.ResourceEntry()
        cpu.name = .cpu
        cpu.value = "2"
        var memory = Flyteidl2_Core_Resources.ResourceEntry()
        memory.name = .memory
        memory.value = "8Gi"
        c.resources.requests = [cpu, memory]
        c.resources.limits = [cpu, memory]
        t.container = c
        let bytes: Data = try! t.serializedBytes()
        return bytes.base64EncodedString()
    }()

    static func json(_ i: Int, template: String) -> [UInt8] {
        let second = 1_796_000_000 + i / 40
        func time(_ offset: Int) -> String { KubeTime.format(Date(timeIntervalSince1970: Double(second + offset))) }
        let uid = UUID().uuidString.lowercased()
        let state = Data(#"{"childUID":"\#(UUID().uuidString.lowercased())","phase":6,"phaseVersion":0,"reason":"","started":true}"#.utf8).base64EncodedString()
        let action: JSONValue = [
            "apiVersion": "flyte.org/v1", "kind": "TaskAction",
            "metadata": ["name": .string("bench-a\(i)"), "namespace": "default", "uid": .string(uid), "resourceVersion": .string(String(100_000 + i)), "generation": 1,
                         "creationTimestamp": .string(time(0)), "finalizers": ["flyte.org/plugin-finalizer"],
                         "managedFields": [["manager": "executor", "operation": "Update", "apiVersion": "flyte.org/v1", "time": .string(time(1)), "fieldsType": "FieldsV1", "fieldsV1": ["f:status": [:]]]]],
            "spec": ["runName": "bench", "project": "p", "domain": "d", "actionName": .string("a\(i)"), "taskType": "container",
                     "taskTemplate": .string(template),
                     "inputUri": .string("s3://bucket/in/\(i)"), "runOutputBase": "s3://bucket/out"],
            "status": [
                "attempts": 1, "systemFailures": 0, "pluginPhase": "PhaseSuccess", "pluginPhaseVersion": 0, "pluginStateVersion": 1, "pluginState": .string(state),
                "stateJson": .string(#"{"actionId":"bench/a\#(i)","phase":"PhaseSuccess","timestamp":"\#(time(1))"}"#),
                "conditions": [
                    ["type": "Progressing", "status": "False", "reason": "Completed", "message": "TaskAction has completed", "lastTransitionTime": .string(time(1))],
                    ["type": "Succeeded", "status": "True", "reason": "Completed", "message": "TaskAction completed successfully", "lastTransitionTime": .string(time(1))],
                ],
                "phaseHistory": [
                    ["phase": "Queued", "occurredAt": .string(time(0)), "message": "task submitted to K8s"],
                    ["phase": "Initializing", "occurredAt": .string(time(0)), "message": .string("[ContainersNotReady|ContainerCreating]: containers with unready status: [bench-a\(i)-0]|")],
                    ["phase": "Executing", "occurredAt": .string(time(0))],
                    ["phase": "Completed", "occurredAt": .string(time(1)), "message": "TaskAction completed successfully"],
                ],
            ],
        ]
        return Array(action.serialized())
    }

    /// How a Pod of a finished TaskAction is kept.
    enum EndedPodView {
        /// The generic status view.
        case statusView
        /// The Pod plugin's cache transform, which drops an ended Pod's conditions.
        case plugin
        /// That, then the Pod plugin's finished cache transform: metadata and phase.
        case finished
    }

    /// Heap bytes per kept Pod of a finished TaskAction: `count` Succeeded Pods (three
    /// conditions, one container status) decoded as the Pod plugin's informer decodes them and
    /// kept as `view` says.
    static func heapPerEndedPod(count: Int, view: EndedPodView) throws -> Int {
        let documents = (0..<count).map { Array(PodEvents.pod($0, phase: "Succeeded").serialized()) }
        let plugin = PodPlugin()
        let transform: (inout Pod) -> Void = switch view {
        case .statusView: { pod in pod.trimToStatusView(keepingLabels: ["attempt"], annotations: [PodPlugin.primaryContainerAnnotation]) }
        case .plugin: plugin.cacheTransform!
        case .finished: { pod in plugin.cacheTransform!(&pod); plugin.finishedCacheTransform!(&pod) }
        }
        return try heapPerKept(documents) { document in
            var pod = try Pod.statusViewDecoder.decode(Pod.self, from: document)
            transform(&pod)
            return pod
        }
    }

    /// Heap bytes per kept TaskAction, each run through the executor's cache transform when
    /// `trimmed` (a finished one keeps only what the executor reads of it,
    /// ``TaskAction/trimToFinishedView()``).
    static func heapPerTaskAction(count: Int, sharing: Bool, trimmed: Bool = false, template: String = vectorTemplate) throws -> Int {
        let documents = (0..<count).map { json($0, template: template) }
        let decoder = JSONBytesDecoder(discardManagedFields: true, sharedStrings: sharing ? SharedStrings(slots: 4096, maxLength: 1024) : nil)
        return try heapPerKept(documents) { document in
            var action = try decoder.decode(TaskAction.self, from: document)
            if trimmed { TaskAction.cacheTransform(&action) }
            return action
        }
    }

    /// glibc in-use bytes after minus before, over the documents' count, of keeping each
    /// document as `decode` makes it, boxed and keyed by name as an informer's store keeps it.
    static func heapPerKept<Object: KubernetesObject>(_ documents: [[UInt8]], decode: ([UInt8]) throws -> Object) throws -> Int {
        Memory.trim()
        let before = Memory.heapInUse()
        var kept: [String: Box<Object>] = [:]
        for document in documents {
            let object = try decode(document)
            kept["\(object.metadata.namespace ?? "")/\(object.metadata.name ?? "")"] = Box(object)
        }
        let after = Memory.heapInUse()
        // Both live to here: Swift may free an array after its last use, which would count the
        // documents' bytes against the cache.
        withExtendedLifetime((documents, kept)) {}
        return (after - before) / documents.count
    }
}
