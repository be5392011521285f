import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import TaskPlugins
import Testing
@testable import ExecutorControllers

@Suite("Finished TaskActions in the cache")
struct FinishedTaskActionViewTests {
    static func finished() -> TaskAction {
        var action = Fixtures.taskAction("fin-unit")
        action.metadata.resourceVersion = "42"
        action.metadata.uid = "u-1"
        action.metadata.finalizers = [TaskActionLabels.finalizer]
        action.metadata.annotations = ["note": "kept only while it runs"]
        action.spec.cacheKey = "k"
        var status = TaskActionStatus()
        status.attempts = 2
        status.systemFailures = 1
        status.pluginPhase = "PhasePermanentFailure"
        status.pluginState = "e30="
        status.stateJson = "{}"
        let started = Date(timeIntervalSince1970: 1_796_000_000)
        status.appendPhase(.queued, message: "task submitted to K8s", now: started)
        status.appendPhase(.permanentFailure, message: "OOMKilled", now: started + 5)
        status.errorState = ErrorState(code: "OOMKilled", kind: "USER", message: String(repeating: "Traceback (most recent call last):\n", count: 100))
        status.setCondition(.progressing, status: false, reason: .permanentFailure, message: "TaskAction has failed", now: started + 5)
        status.setCondition(.failed, status: true, reason: .permanentFailure, message: String(repeating: "a long error message ", count: 50), now: started + 5)
        action.status = status
        return action
    }

    @Test("a finished TaskAction is cached without template, inputs, env, plugin state, history, error, annotations and condition messages; what the executor reads of it stays")
    func trimsFinished() {
        let action = Self.finished()
        var trimmed = action
        trimmed.trimToFinishedView()
        #expect(trimmed.spec.taskTemplate == nil && trimmed.spec.inputUri == nil && trimmed.spec.runOutputBase == nil && trimmed.spec.envVars == nil && trimmed.spec.cacheKey == nil)
        #expect(trimmed.status?.phaseHistory == nil && trimmed.status?.errorState == nil && trimmed.status?.pluginState == nil && trimmed.status?.stateJson == nil)
        #expect(trimmed.metadata.annotations == nil)
        #expect(trimmed.status?.conditions?.allSatisfy { $0.message.isEmpty } == true)
        // What the TTL sweep, the GC labels, the predicates and a later round read.
        #expect(trimmed.isTerminal)
        #expect(trimmed.status?.terminalTime == action.status?.terminalTime && trimmed.status?.terminalTime != nil)
        #expect(trimmed.status?.conditions?.map { [$0.type, $0.status, $0.reason, $0.lastTransitionTime] } == action.status?.conditions?.map { [$0.type, $0.status, $0.reason, $0.lastTransitionTime] })
        #expect(trimmed.metadata.labels == action.metadata.labels && trimmed.metadata.finalizers == action.metadata.finalizers)
        #expect(trimmed.metadata.resourceVersion == "42" && trimmed.metadata.uid == "u-1" && trimmed.metadata.name == "fin-unit")
        #expect(trimmed.spec.taskType == "python" && trimmed.spec.actionName == "fin-unit" && trimmed.spec.runName == "r1")
        #expect(trimmed.status?.attempts == 2 && trimmed.status?.systemFailures == 1 && trimmed.status?.pluginPhase == "PhasePermanentFailure")
    }

    @Test("TaskActions that finished alike within one second share one array of conditions; one that ended otherwise keeps its own")
    func sharesConditions() {
        func trimmed(_ name: String, message: String) -> TaskAction {
            var action = Self.finished()
            action.metadata.name = name
            action.metadata.uid = "u-\(name)"
            action.status?.errorState?.message = message
            for i in action.status!.conditions!.indices { action.status!.conditions![i].message = message }
            action.trimToFinishedView()
            return action
        }
        func storage(_ action: TaskAction) -> UnsafeRawPointer? {
            action.status?.conditions?.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        }
        // The table is the process's: a test trimming other conditions in between may take the
        // slot once, not twice.
        let (a, b, c) = (trimmed("a", message: "OOMKilled: a"), trimmed("b", message: "OOMKilled: b"), trimmed("c", message: "c"))
        #expect(a.status?.conditions == b.status?.conditions)
        #expect(storage(a) != nil)
        #expect(storage(a) == storage(b) || storage(b) == storage(c))
        var later = Self.finished()
        later.status!.conditions![0].lastTransitionTime = "2026-12-01T10:00:00Z"  // another second
        later.trimToFinishedView()
        #expect(later.status?.conditions != a.status?.conditions && storage(later) != storage(a))
    }

    @Test("a TaskAction that is not terminal, or is being deleted, is cached whole")
    func keepsOthers() {
        var running = Self.finished()
        let conditions = running.status?.conditions?.filter { $0.type != TaskActionConditionType.failed.rawValue }
        running.status?.conditions = conditions
        var kept = running
        kept.trimToFinishedView()
        #expect(kept == running)

        var deleting = Self.finished()
        deleting.metadata.deletionTimestamp = "2026-12-01T10:00:00Z"
        kept = deleting
        kept.trimToFinishedView()
        #expect(kept == deleting)
    }

    @Test("the executor caches a running TaskAction whole and a finished one trimmed; deleted later, it still deletes the Pod itself before it lets the TaskAction go", TestCluster.sandboxOnly)
    func executorCachesFinishedTrimmed() async throws {
        try await ExecutorHarness.with(start: false, auditWrites: true) { h in
            let (executor, run) = try h.launchExecutor()
            defer { run.cancel() }
            let cache = try #require(executor.informers.values.first)
            try await h.create(Fixtures.taskAction("fin-a", template: Fixtures.template(manual: true)))
            try await h.reaches("fin-a", "Initializing")
            try await eventually("the running version cached whole") {
                guard let cached = cache.store.get(namespace: h.namespace, name: "fin-a") else { return false }
                return cached.spec.taskTemplate != nil && cached.status?.phaseHistory?.isEmpty == false
            }
            try await h.advance("fin-a-0")
            try await h.reaches("fin-a", "Executing")
            try await h.advance("fin-a-0")
            let done = try await h.terminal("fin-a")
            #expect(done.spec.taskTemplate != nil && done.status?.phaseHistory?.last?.phase == "Completed", "the object itself keeps everything")
            try await eventually("the finished version cached, trimmed") {
                guard let cached = cache.store.get(namespace: h.namespace, name: "fin-a"), cached.metadata.resourceVersion == done.metadata.resourceVersion else { return false }
                return cached.isTerminal && cached.spec.taskTemplate == nil && cached.status?.phaseHistory == nil
            }
            // Its Pod too: metadata and phase, whichever of the Pod's last event and the
            // TaskAction's terminal write came first.
            let pods = try #require(try executor.plugins.driver(for: "python") as? KubernetesPluginDriver<PodPlugin>)
            try await eventually("the finished TaskAction's Pod cached as its metadata and phase") {
                guard let pod = pods.cached(namespace: h.namespace, name: "fin-a-0") else { return false }
                return pod.spec == nil && pod.status == PodStatus(phase: "Succeeded") && pod.metadata.ownerReferences?.first?.name == "fin-a"
            }
            // A later event of the Pod (here an annotation; a kubelet's last status update, a
            // relist) is cached small at once, not whole until something shrinks it.
            let touched = try await h.client.patch(Pod.resourceType, name: "fin-a-0", namespace: h.namespace, .merge(["metadata": ["annotations": ["touched": "yes"]]]), as: Pod.self)
            try await eventually("the Pod's later version cached") {
                pods.cached(namespace: h.namespace, name: "fin-a-0")?.metadata.resourceVersion == touched.metadata.resourceVersion
            }
            let later = try #require(pods.cached(namespace: h.namespace, name: "fin-a-0"))
            #expect(later.spec == nil && later.status == PodStatus(phase: "Succeeded"))

            try await h.client.delete(TaskAction.self, name: "fin-a", namespace: h.namespace)
            try await eventually("taskaction gone") {
                do { _ = try await h.get("fin-a"); return false } catch let e as KubeAPIError { return e.isNotFound }
            }
            // The round on the deletion still aborts: it deletes the Pod itself, before it
            // releases the TaskAction (not left to the garbage collector's cascade after).
            let writes = h.sandbox.auditRecords
            let podDeleted = try #require(writes.first { $0.verb == "delete" && $0.resource == "pods" && $0.name == "fin-a-0" })
            let released = try #require(writes.last { $0.verb == "patch" && $0.resource == "taskactions" && $0.subresource == nil && $0.name == "fin-a" })
            #expect(podDeleted.sequence < released.sequence)
            #expect(!h.sink.events.value.contains { $0.phase == .aborted }, "a finished TaskAction's deletion is no abort")
            run.cancel()
            _ = try? await run.value
        }
    }
}
