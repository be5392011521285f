import ExecutorAPI
import Foundation
import KubeClient
import Testing

/// The one-pass reader of TaskActions (what the informers and every decode use).
@Suite("TaskAction decoding")
struct TaskActionDecodingTests {
    static let full: JSONValue = [
        "apiVersion": "flyte.org/v1", "kind": "TaskAction",
        "metadata": ["name": "a", "namespace": "ns", "uid": "u", "resourceVersion": "7", "generation": 2, "labels": ["x": "y"], "finalizers": ["flyte.org/plugin-finalizer"],
                     "managedFields": [["manager": "m", "operation": "Update"]]],
        "spec": ["runName": "r", "project": "p", "domain": "d", "actionName": "a0", "parentActionName": "root", "actionType": "task", "conditionSpec": "AA==",
                 "inputUri": "s3://b/in", "runOutputBase": "s3://b/out", "cacheKey": "k", "taskType": "container", "shortName": "t", "taskTemplate": "CgA=",
                 "envVars": ["A": "1", "B": "2"], "interruptible": true, "group": "g", "unknownSpecField": [1, 2]],
        "status": ["stateJson": "{}", "pluginState": "e30=", "pluginStateVersion": 1, "pluginPhase": "PhaseRunning", "pluginPhaseVersion": 3, "attempts": 2,
                   "systemFailures": 1, "cacheStatus": 0,
                   "conditions": [["type": "Progressing", "status": "True", "reason": "Executing", "message": "m", "lastTransitionTime": "2026-11-30T00:00:00Z", "observedGeneration": 2]],
                   "phaseHistory": [["phase": "Queued", "occurredAt": "2026-11-30T00:00:00Z"], ["phase": "Executing", "occurredAt": "2026-11-30T00:00:01Z", "message": "running"]],
                   "errorState": ["code": "OOMKilled", "kind": "USER", "message": "boom"], "signalValue": "AQ==", "signalledBy": "me", "signalledAt": "2026-11-30T00:00:02Z"],
    ]

    @Test("every field of the CRD is read, unknown members skipped")
    func everyField() throws {
        let action = try JSONBytesDecoder().decode(TaskAction.self, from: Self.full.serialized())
        var spec = TaskActionSpec(runName: "r", project: "p", domain: "d", actionName: "a0", taskType: "container", inputUri: "s3://b/in", runOutputBase: "s3://b/out")
        spec.parentActionName = "root"
        spec.actionType = "task"
        spec.conditionSpec = "AA=="
        spec.cacheKey = "k"
        spec.shortName = "t"
        spec.taskTemplate = "CgA="
        spec.envVars = ["A": "1", "B": "2"]
        spec.interruptible = true
        spec.group = "g"
        #expect(action.spec == spec)
        var status = TaskActionStatus()
        status.stateJson = "{}"
        status.pluginState = "e30="
        status.pluginStateVersion = 1
        status.pluginPhase = "PhaseRunning"
        status.pluginPhaseVersion = 3
        status.attempts = 2
        status.systemFailures = 1
        status.cacheStatus = 0
        status.conditions = [Condition(type: "Progressing", status: "True", reason: "Executing", message: "m", lastTransitionTime: "2026-11-30T00:00:00Z", observedGeneration: 2)]
        status.phaseHistory = [PhaseTransition(phase: "Queued", occurredAt: "2026-11-30T00:00:00Z"), PhaseTransition(phase: "Executing", occurredAt: "2026-11-30T00:00:01Z", message: "running")]
        status.errorState = ErrorState(code: "OOMKilled", kind: "USER", message: "boom")
        status.signalValue = "AQ=="
        status.signalledBy = "me"
        status.signalledAt = "2026-11-30T00:00:02Z"
        #expect(action.status == status)
        #expect(action.metadata.name == "a" && action.metadata.resourceVersion == "7" && action.metadata.finalizers == ["flyte.org/plugin-finalizer"])
        #expect(action.apiVersion == "flyte.org/v1" && action.kind == "TaskAction")
        // What is read is what is written back.
        #expect(try JSONBytesDecoder().decode(TaskAction.self, from: try JSONValue(encoding: action).serialized()) == action)
    }

    @Test("decoded for a cache (shareStrings), two TaskActions hold one copy of the strings they repeat and equal what a plain decode reads")
    func sharedStrings() throws {
        let bytes = Self.full.serialized()
        let cache = JSONBytesDecoder(discardManagedFields: true, sharedStrings: SharedStrings(slots: 4096, maxLength: 1024))
        let one = try cache.decode(TaskAction.self, from: bytes)
        let two = try cache.decode(TaskAction.self, from: bytes)
        let plain = try JSONBytesDecoder(discardManagedFields: true).decode(TaskAction.self, from: bytes)
        #expect(one == plain && two == plain)
        func storage(_ s: String?) -> UnsafePointer<UInt8>? { s?.utf8.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil }
        #expect(storage(one.metadata.finalizers?.first) == storage(two.metadata.finalizers?.first))
        #expect(storage(one.status?.phaseHistory?.last?.occurredAt) == storage(two.status?.phaseHistory?.last?.occurredAt))
        #expect(storage(one.status?.conditions?.first?.lastTransitionTime) == storage(two.status?.conditions?.first?.lastTransitionTime))
        #expect(storage(plain.metadata.finalizers?.first) != storage(one.metadata.finalizers?.first))
    }

    @Test("required fields missing from the spec read as empty, so validation can name them")
    func missingSpecFields() throws {
        let sparse: JSONValue = ["apiVersion": "flyte.org/v1", "kind": "TaskAction", "metadata": ["name": "a"], "spec": ["inputUri": "x"]]
        let fast = try JSONBytesDecoder().decode(TaskAction.self, from: sparse.serialized())
        #expect(fast.spec.runName == "" && fast.spec.inputUri == "x")
    }
}
