import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import Testing
@testable import ExecutorControllers

@Suite("Decoded templates")
struct DecodedTemplatesTests {
    @Test("a template is decoded from its base64 source; a new source under the same key is decoded again; forget drops it; a bad one throws and is not kept")
    func decodes() throws {
        let templates = DecodedTemplates()
        let first = Fixtures.template(outcome: "succeed").base64EncodedString()
        let second = Fixtures.template(outcome: "fail").base64EncodedString()
        let a = try templates.template(key: key("a"), source: first)
        #expect(a.container.env.first { $0.key == "SANDBOX_OUTCOME" }?.value == "succeed")
        #expect(try templates.template(key: key("a"), source: first) == a)
        let b = try templates.template(key: key("a"), source: second)
        #expect(b.container.env.first { $0.key == "SANDBOX_OUTCOME" }?.value == "fail")
        #expect(templates.count == 1 && templates.distinct == 1, "the first source's template went with its last user")
        templates.forget(key("a"))
        #expect(templates.count == 0 && templates.distinct == 0)
        #expect(throws: (any Error).self) { try templates.template(key: key("bad"), source: Data([0xFF, 0xFF, 0xFF]).base64EncodedString()) }
        #expect(templates.count == 0)
    }

    @Test("TaskActions with the same template share one decoded message, held until the last of them is forgotten or moves to another template")
    func sharedAcrossTaskActions() throws {
        let templates = DecodedTemplates()
        let fanOut = Fixtures.template(outcome: "succeed").base64EncodedString()
        let other = Fixtures.template(outcome: "fail").base64EncodedString()
        for i in 0..<100 { _ = try templates.template(key: key("map-\(i)"), source: fanOut) }
        #expect(templates.count == 100)
        #expect(templates.distinct == 1)
        _ = try templates.template(key: key("single"), source: other)
        #expect(templates.distinct == 2)
        // One of the fan-out moves to another template (its spec was replaced): still two.
        let moved = try templates.template(key: key("map-0"), source: other)
        #expect(moved.container.env.first { $0.key == "SANDBOX_OUTCOME" }?.value == "fail")
        #expect(templates.distinct == 2)
        for i in 1..<99 { templates.forget(key("map-\(i)")) }
        #expect(templates.distinct == 2, "map-99 still holds the fan-out's template")
        let last = try templates.template(key: key("map-99"), source: fanOut)
        #expect(last.container.env.first { $0.key == "SANDBOX_OUTCOME" }?.value == "succeed")
        templates.forget(key("map-99"))
        #expect(templates.distinct == 1)
        templates.forget(key("map-0"))
        templates.forget(key("single"))
        #expect(templates.distinct == 0 && templates.count == 0)
        // A bad template shared by several fails each of them and is never kept.
        let bad = Data([0xFF, 0xFF, 0xFF]).base64EncodedString()
        #expect(throws: (any Error).self) { try templates.template(key: key("bad-1"), source: bad) }
        #expect(throws: (any Error).self) { try templates.template(key: key("bad-2"), source: bad) }
        #expect(templates.distinct == 0 && templates.count == 0)
    }

    @Test("the executor keeps a running TaskAction's decoded template and drops it once the TaskAction ends")
    func boundedByRunningActions() async throws {
        try await ExecutorHarness.with(start: false) { h in
            let (executor, run) = try h.launchExecutor()
            defer { run.cancel() }
            try await h.create(Fixtures.taskAction("tmpl-a", template: Fixtures.template(manual: true)))
            try await h.reaches("tmpl-a", "Initializing")
            #expect(executor.reconciler.templates.count == 1)
            try await h.advance("tmpl-a-0")
            try await h.reaches("tmpl-a", "Executing")
            try await h.advance("tmpl-a-0")
            _ = try await h.terminal("tmpl-a")
            try await eventually("the template dropped") { executor.reconciler.templates.count == 0 }
            run.cancel()
            _ = try? await run.value
        }
    }

    /// The key of the TaskAction `name` in `default`.
    func key(_ name: String) -> ObjectKey { ObjectKey(namespace: "default", name: name) }
}
