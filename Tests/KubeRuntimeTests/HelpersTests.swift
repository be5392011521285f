import Foundation
import KubeClient
@testable import KubeRuntime
import KubeSandbox
import Logging
import Testing

@Suite("Finalizers and events against the sandbox")
struct HelpersTests {
    @Test("adds and removes a finalizer without touching other fields")
    func finalizers() async throws {
        try await KubeSandbox.with { _, client in
            var object = try await client.create(configMap("f", data: ["keep": "me"]))
            object = try #require(try await Finalizers.add("flyte.org/plugin-finalizer", to: object, client: client))
            #expect(object.metadata.finalizers == ["flyte.org/plugin-finalizer"])
            #expect(try await Finalizers.add("flyte.org/plugin-finalizer", to: object, client: client) == nil)
            object = try #require(try await Finalizers.add("other/finalizer", to: object, client: client))
            #expect(object.metadata.finalizers == ["flyte.org/plugin-finalizer", "other/finalizer"])
            object = try #require(try await Finalizers.remove("flyte.org/plugin-finalizer", from: object, client: client))
            #expect(object.metadata.finalizers == ["other/finalizer"])
            #expect(object.data == ["keep": "me"])
        }
    }

    @Test("a finalizer patch from a stale read fails instead of overwriting")
    func guarded() async throws {
        try await KubeSandbox.with { _, client in
            let stale = try await client.create(configMap("g"))
            _ = try await Finalizers.add("someone/else", to: stale, client: client)
            // The stale copy has no finalizers; adding from it must not drop someone/else.
            await #expect(throws: KubeAPIError.self) { try await Finalizers.add("mine", to: stale, client: client) }
            let fresh = try await client.get(ConfigMap.self, name: "g", namespace: "default")
            #expect(fresh.metadata.finalizers == ["someone/else"])
            // Removing by a stale index fails the same way.
            let withBoth = try #require(try await Finalizers.add("mine", to: fresh, client: client))
            _ = try await Finalizers.remove("someone/else", from: withBoth, client: client)
            await #expect(throws: KubeAPIError.self) { try await Finalizers.remove("someone/else", from: withBoth, client: client) }
            let final = try await client.get(ConfigMap.self, name: "g", namespace: "default")
            #expect(final.metadata.finalizers == ["mine"])
        }
    }

    @Test("folds repeated events into a series with a count")
    func eventSeries() async throws {
        try await KubeSandbox.with { _, client in
            let recorder = EventRecorder(client: client, reportingController: "flyte.org/executor", reportingInstance: "test")
            let run = Task { await recorder.run() }
            let ref = ObjectReference(apiVersion: "flyte.org/v1", kind: "TaskAction", namespace: "default", name: "ta", uid: "uid-1")
            for i in 0..<3 {
                // The object changes between repeats; its resourceVersion does not split the series.
                var at = ref
                at.resourceVersion = String(10 + i)
                recorder.record(regarding: at, type: .warning, reason: "FailedValidation", action: "Validate", note: "bad spec")
            }
            recorder.record(regarding: ref, type: .normal, reason: "Created", action: "Create", note: "created pod")
            recorder.finish()
            await run.value
            let events = try await client.list(Event.self, namespace: "default").items
            #expect(events.count == 2)
            let failed = try #require(events.first { $0.reason == "FailedValidation" })
            #expect(failed.series?.count == 3)
            #expect(failed.type == "Warning")
            #expect(failed.reportingController == "flyte.org/executor")
            #expect(failed.regarding?.name == "ta")
            let created = try #require(events.first { $0.reason == "Created" })
            #expect(created.series == nil)
        }
    }

    @Test("writes one JSON object per log line with the logger's metadata")
    func jsonLines() {
        let value = JSONLogHandler.json(.dictionary(["a": .string("b"), "n": .array([.stringConvertible(1)])]))
        #expect(value == ["a": "b", "n": ["1"]])
    }
}
