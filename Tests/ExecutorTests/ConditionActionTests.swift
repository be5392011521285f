import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import SwiftProtobuf
import Testing

@Suite("Condition actions")
struct ConditionActionTests {
    static func condition(_ name: String, timeout: Int64? = nil) throws -> TaskAction {
        var condition = Flyteidl2_Workflow_ConditionAction()
        condition.name = "approve"
        if let timeout { condition.timeout.seconds = timeout }
        var action = Fixtures.taskAction(name, template: nil)
        action.spec.actionType = "condition"
        action.spec.taskType = nil
        let bytes: Data = try condition.serializedBytes()
        action.spec.conditionSpec = bytes.base64EncodedString()
        return action
    }

    @Test("a condition waits Paused until a signal, then ends Signaled; it never gets a finalizer")
    func signal() async throws {
        try await ExecutorHarness.with { h in
            try await h.create(try Self.condition("r1-cond"))
            try await eventually("paused") { (try? await h.get("r1-cond"))?.status?.condition(.progressing)?.reason == "Paused" }
            #expect((try await h.get("r1-cond")).metadata.finalizers == nil)
            let signal: JSONValue = ["status": ["signalValue": .string(Data([1]).base64EncodedString()), "signalledBy": "alice"]]
            _ = try await h.client.patch(TaskAction.resourceType, name: "r1-cond", namespace: h.namespace, .merge(signal), subresource: "status")
            let done = try await h.terminal("r1-cond")
            #expect(done.status?.condition(.succeeded)?.reason == "Signaled")
            #expect(done.status?.condition(.succeeded)?.message == "condition signalled by \"alice\"")
            #expect(done.status?.phaseHistory?.map(\.phase) == ["Paused", "Signaled"])
            #expect(done.status?.signalledBy == "alice")
        }
    }

    @Test("a condition without a signal before its timeout ends TimedOut with ConditionTimedOut")
    func timeout() async throws {
        try await ExecutorHarness.with { h in
            try await h.create(try Self.condition("r1-late", timeout: 1))
            let done = try await h.terminal("r1-late")
            #expect(done.status?.condition(.failed)?.reason == "TimedOut")
            #expect(done.status?.errorState?.code == "ConditionTimedOut")
            #expect(done.status?.condition(.failed)?.message == "condition timed out after 1s without a signal")
        }
    }

    @Test("a condition whose spec does not decode ends InvalidSpec")
    func invalid() async throws {
        try await ExecutorHarness.with { h in
            var action = try Self.condition("r1-bad")
            action.spec.conditionSpec = Data([0xff, 0xff]).base64EncodedString()
            try await h.create(action)
            let done = try await h.terminal("r1-bad")
            #expect(done.status?.condition(.failed)?.reason == "InvalidSpec")
            #expect(done.status?.errorState?.code == "InvalidSpec")
        }
    }
}
