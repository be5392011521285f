import ExecutorAPI
import ExecutorControllers
import Foundation
import KubeClient
import KubeRuntimeTesting
import TaskPlugins
import Testing

/// `plugins.inject-finalizer`: every child carries `flyte/flytek8s` while its end is not
/// recorded, so a deletion (an eviction, a drain, the Pod GC) cannot take it away unseen.
@Suite("Child finalizer")
struct ChildFinalizerTests {
    static let config: ExecutorConfig = try! ExecutorConfig.parse(yaml: "plugins: {inject-finalizer: true}\n", path: "executor.yaml")

    @Test("a Pod carries flyte/flytek8s while it runs, loses it once the TaskAction's end is recorded, and a failed attempt's Pod is deleted for good")
    func lifecycle() async throws {
        try await ExecutorHarness.with(config: Self.config) { h in
            try await h.create(Fixtures.taskAction("fin-a", template: Fixtures.template(manual: true)))
            try await h.reaches("fin-a", "Initializing")
            #expect(try await h.pod("fin-a-0").metadata.finalizers == [ChildMetadata.finalizer])
            try await h.advance("fin-a-0")
            try await h.reaches("fin-a", "Executing")
            try await h.advance("fin-a-0")
            let done = try await h.terminal("fin-a")
            #expect(done.status?.phaseHistory?.last?.phase == "Completed")
            // Once the end is recorded the finalizer comes off; the Pod itself stays.
            try await eventually("the finalizer off") { (try? await h.pod("fin-a-0"))?.metadata.finalizers?.contains(ChildMetadata.finalizer) == false }

            // Deleted while it runs, the Pod stays, marked, so the executor sees the deletion (a
            // system failure, as Flyte's reads it), takes the finalizer off so the deletion
            // completes, and runs the attempt again.
            try await h.create(Fixtures.taskAction("fin-c", template: Fixtures.template(manual: true)))
            try await h.reaches("fin-c", "Initializing")
            let first = try await h.pod("fin-c-0")
            try await h.client.delete(Pod.self, name: "fin-c-0", namespace: h.namespace)
            #expect(try await h.pod("fin-c-0").metadata.deletionTimestamp != nil)
            try await eventually("a new Pod for the attempt") {
                guard let pod = try? await h.pod("fin-c-0") else { return false }
                return pod.metadata.uid != first.metadata.uid
            }
            try await h.advance("fin-c-0")
            try await h.reaches("fin-c", "Executing")
            try await h.advance("fin-c-0")
            let relaunched = try await h.terminal("fin-c")
            #expect(relaunched.status?.phaseHistory?.last?.phase == "Completed")
            #expect(relaunched.status?.attempts == 1)
            let events = try await h.events()
            #expect(events.contains { ($0.note ?? "").contains("is being deleted while the task is") })

            // A failed attempt's Pod is deleted between attempts: the finalizer must not keep it.
            try await h.create(Fixtures.taskAction("fin-b", template: Fixtures.template(outcome: "fail", duration: 0.05, startup: 0.05, retries: 1)))
            let failed = try await h.terminal("fin-b")
            #expect(failed.status?.attempts == 2)
            try await eventually("the first attempt's Pod gone") { (try? await h.pod("fin-b-0")) == nil }
            try await eventually("the last attempt's Pod without the finalizer") {
                (try? await h.pod("fin-b-1"))?.metadata.finalizers?.contains(ChildMetadata.finalizer) == false
            }
        }
    }

    @Test("without the setting no child carries it")
    func off() async throws {
        try await ExecutorHarness.with { h in
            try await h.create(Fixtures.taskAction("fin-off", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            _ = try await h.terminal("fin-off")
            #expect(try await h.pod("fin-off-0").metadata.finalizers == nil)
        }
    }
}
