import Foundation
import KubeClient
import KubeSandbox
import Testing

/// core/v1 and events.k8s.io/v1 Events are one store seen through two APIs (issue 17, item 12).
@Suite("Events: one store, two APIs")
struct EventStorageTests {
    static let coreEvents = BuiltinValidationTests.coreEvents
    static let events = BuiltinValidationTests.events

    @Test("an Event recorded through events.k8s.io is listed, selected and watched through core/v1 with the core field names, and the other way round")
    func oneStoreTwoAPIs() async throws {
        try await KubeSandbox.with { _, client in
            let start = try await client.list(Self.coreEvents, namespace: "default").value(atPath: "metadata.resourceVersion")?.stringValue
            let watch = try await client.watch(Self.coreEvents, namespace: "default", options: WatchOptions(resourceVersion: start))
            let recorded: JSONValue = [
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "p.1", "namespace": "default"],
                "eventTime": "2026-11-29T10:00:00.000000Z", "reportingController": "flyte.org/executor", "reportingInstance": "executor-0",
                "action": "Reconcile", "reason": "Started", "type": "Normal", "note": "pod started",
                "regarding": ["apiVersion": "v1", "kind": "Pod", "name": "p", "namespace": "default"],
            ]
            _ = try await client.create(Self.events, recorded)
            let core = try await client.get(Self.coreEvents, name: "p.1", namespace: "default")
            #expect(core["apiVersion"] == "v1")
            #expect(core["message"] == "pod started" && core["note"] == nil)
            #expect(core.value(atPath: "involvedObject.name") == "p" && core["regarding"] == nil)
            #expect(core["reportingComponent"] == "flyte.org/executor")
            let selected = try await client.list(Self.coreEvents, namespace: "default", options: ListOptions(fieldSelector: "involvedObject.name=p,reason=Started"))
            #expect(selected["items"]?.arrayValue?.count == 1)
            var sawIt = false
            for try await event in watch {
                if event.object?.value(atPath: "metadata.name") == "p.1" {
                    #expect(event.object?["message"] == "pod started")
                    sawIt = true
                    break
                }
            }
            #expect(sawIt)

            // And a core Event through events.k8s.io, selected by its regarding object.
            _ = try await client.create(Self.coreEvents, ["apiVersion": "v1", "kind": "Event", "metadata": ["name": "q.1", "namespace": "default"],
                                                          "involvedObject": ["kind": "Pod", "name": "q", "namespace": "default"], "reason": "Pulled", "message": "image pulled", "type": "Normal", "count": 2])
            let viaEvents = try await client.list(Self.events, namespace: "default", options: ListOptions(fieldSelector: "regarding.name=q"))
            #expect(viaEvents["items"]?.arrayValue?.count == 1)
            let shown = try #require(viaEvents["items"]?.arrayValue?.first)
            #expect(shown["message"] == nil && shown["involvedObject"] == nil)
            #expect(shown["note"] == "image pulled" && shown["deprecatedCount"] == 2 && shown.value(atPath: "regarding.name") == "q")
            // A merge patch through events.k8s.io speaks its names.
            let patched = try await client.patch(Self.events, name: "q.1", namespace: "default", .merge(["note": "image pulled again"]))
            #expect(patched["note"] == "image pulled again")
            #expect(try await client.get(Self.coreEvents, name: "q.1", namespace: "default")["message"] == "image pulled again")
        }
    }
}
