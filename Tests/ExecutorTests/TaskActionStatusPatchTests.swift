import ExecutorAPI
import Foundation
import KubeClient
import Testing
@testable import ExecutorControllers

@Suite("Status patch body")
struct TaskActionStatusPatchTests {
    @Test("a status write sends every field the executor owns, null where it has none, never the signal, and the resourceVersion it is based on")
    func body() throws {
        var status = TaskActionStatus()
        status.attempts = 2
        status.pluginPhase = "Running"
        status.phaseHistory = [PhaseTransition(phase: "Queued", occurredAt: "2026-11-30T00:00:00Z"), PhaseTransition(phase: "Executing", occurredAt: "2026-11-30T00:00:01Z", message: "running \"x\"\n")]
        status.errorState = ErrorState(code: "E", kind: "USER", message: nil)
        status.signalValue = "s"
        guard case .encodedMerge(let bytes) = try Patch.merge(encoding: TaskActionStatusPatch(status: status, resourceVersion: "42")) else {
            Issue.record("not an encoded merge patch")
            return
        }
        let body = try JSONValue.parse(bytes)
        #expect(body["metadata"] == ["resourceVersion": "42"])
        let sent = body["status"]
        #expect(Set(sent?.objectValue?.keys.map { $0 } ?? []) == Set(TaskActionStatusPatch.owned.map(\.rawValue)))
        // What encoding the whole status and keeping the owned fields (nil as null) gives.
        let whole = try JSONValueEncoder().encode(status)
        for key in TaskActionStatusPatch.owned {
            #expect(sent?[key.rawValue] == (try JSONValue.parse((whole[key.rawValue] ?? .null).serialized())), "\(key)")
        }
        #expect(sent?["pluginStateVersion"] == .null)
        #expect(sent?["signalValue"] == nil)
        let noVersion = try JSONValue.parse(JSONBytesEncoder().encode(TaskActionStatusPatch(status: status, resourceVersion: nil)))
        #expect(noVersion["metadata"] == nil)
    }
}
