import ExecutorAPI
import Foundation
import KubeClient

/// What a cached TaskAction costs: `count` completed TaskActions, as the executor leaves them
/// (four phases, two conditions, plugin state), decoded the way an informer decodes them and
/// kept as its store keeps them, with and without ``SharedStrings``. They finish 40 a second,
/// as in the saturated end-to-end run, so timestamps repeat across about 40 of them.
enum TaskActionCacheBench {
    static func json(_ i: Int) -> [UInt8] {
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
                     "taskTemplate": "Cg8IARIBcBoBZCIBdCoCdjESCWNvbnRhaW5lchoEKgIoAjI4CgxidXN5Ym94OjEuMzYSAnNoEgItYxoKZWNobyBoZWxsbyIUCggIARIEMTAwbQoICAMSBDY0TWk=",
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

    /// Heap bytes per kept TaskAction (glibc in-use bytes after minus before, over `count`).
    static func heapPerTaskAction(count: Int, sharing: Bool) throws -> Int {
        let documents = (0..<count).map(json)
        let decoder = JSONBytesDecoder(discardManagedFields: true, sharedStrings: sharing ? SharedStrings(slots: 4096, maxLength: 1024) : nil)
        Memory.trim()
        let before = Memory.heapInUse()
        // Boxed, as the informer's store keeps them.
        final class Entry { let action: TaskAction; init(_ action: TaskAction) { self.action = action } }
        var kept: [String: Entry] = [:]
        for document in documents {
            let action = try decoder.decode(TaskAction.self, from: document)
            kept[action.key] = Entry(action)
        }
        let after = Memory.heapInUse()
        // Both live to here: Swift may free an array after its last use, which would count the
        // documents' bytes against the cache.
        withExtendedLifetime((documents, kept)) {}
        return (after - before) / count
    }
}
