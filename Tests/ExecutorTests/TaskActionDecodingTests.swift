import ExecutorAPI
import Foundation
import KubeClient
import Testing

/// The one-pass reader of TaskActions (what the informers and every decode use).
@Suite("TaskAction decoding")
struct TaskActionDecodingTests {
    static let full: JSONValue = [
        "apiVersion": "flyte.org/v1", "kind": "TaskAction",
        "metadata": ["name": "a", "namespace": "ns", "uid": "u", "resourceVersion": "7", "generation": 2, "labels": ["x": "y"], "annotations": ["example.com/run-note": "from the run"], "finalizers": ["flyte.org/plugin-finalizer"],
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
        // Their annotations, equal, are one map (a run's, inherited by its actions). The table is
        // the process's: a test decoding other annotations in between may take the slot once.
        let three = try cache.decode(TaskAction.self, from: bytes)
        if let a = one.metadata.annotations, let b = two.metadata.annotations, let c = three.metadata.annotations, let p = plain.metadata.annotations {
            func storage(_ map: [String: String]) -> UInt { unsafeBitCast(map, to: UInt.self) }
            #expect(a == p)
            #expect(storage(a) == storage(b) || storage(b) == storage(c))
            #expect(storage(p) != storage(a))
        } else {
            Issue.record("the fixture has annotations")
        }
    }

    @Test("decoded for a cache, TaskActions with the same long template (past the shared strings' limit) hold one copy of it; a plain decode holds its own")
    func longTemplateShared() throws {
        var action = TaskAction(metadata: ObjectMeta(name: "a", namespace: "default"), spec: TaskActionSpec(runName: "r", project: "p", domain: "d", actionName: "a", taskType: "python-task"))
        action.spec.taskTemplate = String(repeating: "Cg8IARIBcBoBZCIBdCoCdjES", count: 200)  // 4,800 bytes, as a Python task's
        let bytes = try JSONValue(encoding: action).serialized()
        let cache = JSONBytesDecoder(discardManagedFields: true, sharedStrings: SharedStrings(slots: 4096, maxLength: 1024))
        let one = try cache.decode(TaskAction.self, from: bytes)
        let two = try cache.decode(TaskAction.self, from: bytes)
        let three = try cache.decode(TaskAction.self, from: bytes)
        let plain = try JSONBytesDecoder().decode(TaskAction.self, from: bytes)
        #expect(one.spec.taskTemplate == action.spec.taskTemplate && plain.spec.taskTemplate == action.spec.taskTemplate)
        func storage(_ s: String?) -> UnsafePointer<UInt8>? { s?.utf8.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil }
        // The table is the process's: a test decoding another template in between may take the
        // slot once, not twice.
        #expect(storage(one.spec.taskTemplate) != nil)
        #expect(storage(one.spec.taskTemplate) == storage(two.spec.taskTemplate) || storage(two.spec.taskTemplate) == storage(three.spec.taskTemplate))
        #expect(storage(plain.spec.taskTemplate) != storage(one.spec.taskTemplate))
    }

    @Test("a status keeps what only a failure or a signal sets out of line: small inline, equal by value, cleared when unset, read and written as before")
    func rareStatusMembers() throws {
        // Held inline by every cached TaskAction and every status held for coalescing: 208 bytes
        // with the failure and signal members inline.
        #expect(MemoryLayout<TaskActionStatus>.size <= 120)
        var status = TaskActionStatus()
        status.errorState = ErrorState(code: "OOMKilled", kind: "USER", message: "boom")
        status.signalledBy = "me"
        let copy = status
        status.errorState?.message = "changed"
        #expect(copy.errorState?.message == "boom" && status.errorState?.message == "changed", "a copy does not see the other's change")
        var same = TaskActionStatus()
        same.signalledBy = "me"
        same.errorState = ErrorState(code: "OOMKilled", kind: "USER", message: "changed")
        #expect(same == status && same.hashValue == status.hashValue)
        status.errorState = nil
        status.signalledBy = nil
        #expect(status == TaskActionStatus(), "every member unset is the empty status")
        let full = try #require(try JSONBytesDecoder().decode(TaskAction.self, from: Self.full.serialized()).status)
        let viaCodable = try JSONValueDecoder().decode(TaskActionStatus.self, from: try JSONValue(encoding: full))
        #expect(viaCodable == full && full.errorState?.code == "OOMKilled" && full.signalledAt == "2026-11-30T00:00:02Z")
    }

    @Test("a spec keeps what the plugin runs from out of line: small inline, read and written as before, dropped at once by the finished view")
    func specPayload() throws {
        // A TaskAction is held inline by every cache entry: 584 bytes with the payload and the
        // metadata's rare members inline, 448 without.
        #expect(MemoryLayout<TaskActionSpec>.size <= 160 && MemoryLayout<TaskAction>.size <= 448)
        let full = try JSONBytesDecoder().decode(TaskAction.self, from: Self.full.serialized())
        #expect(full.spec.conditionSpec == "AA==" && full.spec.inputUri == "s3://b/in" && full.spec.runOutputBase == "s3://b/out")
        #expect(full.spec.cacheKey == "k" && full.spec.taskTemplate == "CgA=" && full.spec.envVars == ["A": "1", "B": "2"])
        let viaCodable = try JSONValueDecoder().decode(TaskActionSpec.self, from: try JSONValue(encoding: full.spec))
        #expect(viaCodable == full.spec)
        var copy = full.spec
        copy.envVars?["C"] = "3"
        #expect(full.spec.envVars?.count == 2 && copy.envVars?.count == 3, "a copy does not see the other's change")
        var finished = full
        finished.status?.phaseHistory = [PhaseTransition(phase: "Succeeded", occurredAt: "2026-11-30T00:00:03Z")]
        finished.status?.conditions = [Condition(type: "Succeeded", status: "True", reason: "Succeeded", message: "", lastTransitionTime: "2026-11-30T00:00:03Z")]
        try #require(finished.isTerminal)
        finished.trimToFinishedView()
        var identity = full.spec
        identity.conditionSpec = nil
        identity.inputUri = nil
        identity.runOutputBase = nil
        identity.cacheKey = nil
        identity.taskTemplate = nil
        identity.envVars = nil
        #expect(finished.spec == identity && finished.spec.runName == "r" && finished.spec.taskType == "container" && finished.spec.group == "g")
    }

    @Test("required fields missing from the spec read as empty, so validation can name them")
    func missingSpecFields() throws {
        let sparse: JSONValue = ["apiVersion": "flyte.org/v1", "kind": "TaskAction", "metadata": ["name": "a"], "spec": ["inputUri": "x"]]
        let fast = try JSONBytesDecoder().decode(TaskAction.self, from: sparse.serialized())
        #expect(fast.spec.runName == "" && fast.spec.inputUri == "x")
    }
}
