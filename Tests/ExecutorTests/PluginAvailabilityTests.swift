import ExecutorAPI
import ExecutorControllers
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import TaskPlugins
import Testing

/// A child kind of a CRD that is not installed until a test installs it; its "operator" is the
/// test, which writes `status.phase`.
struct Widget: KubernetesObject, Hashable {
    static let resourceType = ResourceType(group: "widgets.example.com", version: "v1", kind: "Widget", plural: "widgets", namespaced: true)
    var metadata = ObjectMeta()
    var spec: [String: String]?
    var status: Status?

    struct Status: Codable, Hashable, Sendable {
        var phase: String?
        var finishedAt: String?
    }

    static let crd: JSONValue = [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "widgets.widgets.example.com"],
        "spec": [
            "group": "widgets.example.com", "scope": "Namespaced",
            "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"],
            "versions": [[
                "name": "v1", "served": true, "storage": true, "subresources": ["status": [:]],
                "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
            ]],
        ],
    ]
}

/// Runs `widget` tasks as Widgets: Done succeeds, Failed fails, anything else runs.
struct WidgetPlugin: KubernetesTaskPlugin {
    let id = "widget"
    let taskTypes = ["widget"]
    let properties = PluginProperties()

    func build(_ context: TaskExecutionContext) throws -> Widget {
        Widget(spec: ["action": context.taskAction.spec.actionName])
    }

    func phase(of widget: Widget, context: TaskExecutionContext) -> PhaseInfo {
        switch widget.status?.phase {
        case "Done": .success()
        case "Failed": .failure("WidgetFailed", "the widget failed")
        case nil: .queued("widget created")
        default: .running()
        }
    }

    func isTerminal(_ widget: Widget) -> Bool { ["Done", "Failed"].contains(widget.status?.phase ?? "") }
    func completionTime(_ widget: Widget) -> Date? { widget.status?.finishedAt.flatMap(KubeTime.parse) }
}

@Suite("Plugins whose kind is missing or forbidden", TestCluster.sandboxOnly)
struct PluginAvailabilityTests {
    static func readyz(_ port: Int) async throws -> Int {
        let (_, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// An executor with the Pod and Widget plugins, a health port and fast rechecks.
    static func start(_ h: ExecutorHarness) -> (Manager, Executor, Task<Void, any Error>) {
        var config = ExecutorConfig()
        config.kindRecheckSeconds = 1
        var informerOptions = InformerOptions()
        informerOptions.backoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(500))
        let manager = Manager(client: h.client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "127.0.0.1:0", gracefulShutdownTimeout: .seconds(5)), informerOptions: informerOptions)
        let executor = Executor(manager: manager, config: config, plugins: PluginRegistration.builtIn + [.plugin(WidgetPlugin())], sink: h.sink)
        return (manager, executor, Task { try await manager.run() })
    }

    static func failed(_ t: TaskAction) -> Condition? {
        t.status?.conditions?.first { $0.type == "Failed" && $0.status == "True" }
    }

    @Test("with a plugin whose CRD is absent, container tasks run and /readyz is 200; installing the CRD makes the plugin work without a restart")
    func crdAbsentThenInstalled() async throws {
        try await ExecutorHarness.with(kubelet: true, start: false) { h in
            let (manager, executor, run) = Self.start(h)
            defer { run.cancel() }
            try await h.create(Fixtures.taskAction("c1", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            let done = try await h.terminal("c1")
            #expect(done.status?.phaseHistory?.last?.phase == "Completed")
            try await eventually("servers up") { manager.healthPort != nil }
            let port = try #require(manager.healthPort)
            try await eventually("ready") { (try? await Self.readyz(port)) == 200 }
            #expect(executor.pluginAvailability["widget"] == .unavailable("the widgets.example.com/v1 Widget CRD is not installed"))

            // Meanwhile a widget task fails with a reason that says why.
            try await h.create(Fixtures.taskAction("w-early", taskType: "widget"))
            let early = try await h.terminal("w-early")
            #expect(Self.failed(early)?.reason == "PluginNotReady")
            #expect(Self.failed(early)?.message == "plugin \"widget\" for task type \"widget\" is not ready: the widgets.example.com/v1 Widget CRD is not installed")

            // Install the CRD: the plugin comes up and runs a widget task to the end.
            _ = try await h.client.create(Fixtures.crdType, Widget.crd)
            try await eventually("widget plugin ready") { executor.pluginAvailability["widget"] == .ready }
            try await h.create(Fixtures.taskAction("w-late", taskType: "widget"))
            try await eventually("widget created") { (try? await h.client.get(Widget.self, name: "w-late-0", namespace: "default")) != nil }
            let widget = try await h.client.get(Widget.self, name: "w-late-0", namespace: "default")
            #expect(widget.metadata.ownerReferences?.first?.name == "w-late")
            _ = try await h.client.patch(Widget.resourceType, name: "w-late-0", namespace: "default", .merge(["status": ["phase": "Done"]]), subresource: "status")
            let late = try await h.terminal("w-late")
            #expect(late.status?.phaseHistory?.last?.phase == "Completed")
            #expect((try? await Self.readyz(port)) == 200)
            run.cancel()
            _ = try? await run.value
        }
    }

    @Test("a missing kind is awaited on a watch of its CustomResourceDefinition: discovery is not polled meanwhile, and the plugin comes up when the CRD is installed")
    func crdWatchedNotPolled() async throws {
        try await ExecutorHarness.with(kubelet: true, start: false) { h in
            let discovery = LockedBox(0)
            let crdWatches = LockedBox(0)
            let client = try KubernetesClient(configuration: h.sandbox.clientConfiguration(), observer: { record in
                if record.path.hasPrefix("/apis/widgets.example.com/v1") { discovery.withLock { $0 += 1 } }
                if record.isWatch, record.path.contains("customresourcedefinitions") { crdWatches.withLock { $0 += 1 } }
            })
            var config = ExecutorConfig()
            config.kindRecheckSeconds = 1  // were discovery polled, it would be asked every second
            let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", gracefulShutdownTimeout: .seconds(5)))
            let executor = Executor(manager: manager, config: config, plugins: PluginRegistration.builtIn + [.plugin(WidgetPlugin())], sink: h.sink)
            let run = Task { try await manager.run() }
            try await eventually("widget unavailable and its CRD watched") {
                executor.pluginAvailability["widget"] == .unavailable("the widgets.example.com/v1 Widget CRD is not installed") && crdWatches.value >= 1
            }
            let asked = discovery.value
            try await Task.sleep(for: .seconds(3))
            #expect(discovery.value == asked, "discovery asked \(discovery.value - asked) more times while the CRD was watched")
            // A watch the server closes is resumed from where it was, without asking discovery.
            for _ in 0..<3 {
                let watches = crdWatches.value
                // Open for over a second first: one closed sooner, having delivered nothing, backs off.
                try await Task.sleep(for: .milliseconds(1_200))
                await h.sandbox.closeAllWatches()
                try await eventually("the definition watched again") { crdWatches.value > watches }
            }
            #expect(discovery.value == asked, "discovery asked \(discovery.value - asked) more times after the definition's watch was closed")

            _ = try await h.client.create(Fixtures.crdType, Widget.crd)
            try await eventually("widget plugin ready") { executor.pluginAvailability["widget"] == .ready }
            run.cancel()
            _ = try? await run.value
            try await client.shutdown()
        }
    }

    @Test("a plugin whose kind RBAC forbids fails its tasks naming the missing rule, while container tasks run and /readyz is 200")
    func kindForbidden() async throws {
        try await ExecutorHarness.with(kubelet: true, start: false) { h in
            _ = try await h.client.create(Fixtures.crdType, Widget.crd)
            await h.sandbox.faults.failNext(1_000_000, code: 403, pathContains: "/v1/widgets")
            let (manager, executor, run) = Self.start(h)
            defer { run.cancel() }
            try await h.create(Fixtures.taskAction("c2", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            #expect(try await h.terminal("c2").status?.phaseHistory?.last?.phase == "Completed")
            try await eventually("widget plugin unavailable") {
                if case .unavailable = executor.pluginAvailability["widget"] { return true }
                return false
            }
            try await eventually("servers up") { manager.healthPort != nil }
            let port = try #require(manager.healthPort)
            try await eventually("ready") { (try? await Self.readyz(port)) == 200 }
            try await h.create(Fixtures.taskAction("w-denied", taskType: "widget"))
            let denied = try await h.terminal("w-denied")
            #expect(Self.failed(denied)?.reason == "PluginNotReady")
            let message = Self.failed(denied)?.message ?? ""
            #expect(message.contains(#"apiGroups: ["widgets.example.com"], resources: ["widgets"], verbs: ["list", "watch"]"#), "\(message)")

            // The rule is granted: the plugin becomes ready without a restart.
            await h.sandbox.faults.reset()
            try await eventually("widget plugin ready") { executor.pluginAvailability["widget"] == .ready }
            run.cancel()
            _ = try? await run.value
        }
    }

    @Test("a terminal child's completion time is the recorded transition's time, kept between the previous transition and now")
    func completionTimeIsRecorded() async throws {
        try await ExecutorHarness.with(kubelet: false, start: false) { h in
            _ = try await h.client.create(Fixtures.crdType, Widget.crd)
            let (_, executor, run) = Self.start(h)
            defer { run.cancel() }
            try await eventually("widget plugin ready") { executor.pluginAvailability["widget"] == .ready }
            for name in ["w-time", "w-early-finish"] {
                try await h.create(Fixtures.taskAction(name, taskType: "widget"))
                try await eventually("\(name) created") { (try? await h.client.get(Widget.self, name: "\(name)-0", namespace: "default")) != nil }
                _ = try await h.client.patch(Widget.resourceType, name: "\(name)-0", namespace: "default", .merge(["status": ["phase": "Running"]]), subresource: "status")
                try await h.reaches(name, "Executing")
            }
            let executing = try #require(try await h.get("w-time").status?.phaseHistory?.last.flatMap { KubeTime.parse($0.occurredAt) })
            // Let whole seconds pass, so a time between the two is visible at the history's precision.
            try await Task.sleep(for: .seconds(3))
            let finished = executing.addingTimeInterval(1)
            _ = try await h.client.patch(Widget.resourceType, name: "w-time-0", namespace: "default", .merge(["status": ["phase": "Done", "finishedAt": .string(KubeTime.format(finished))]]), subresource: "status")
            let done = try await h.terminal("w-time")
            #expect(done.status?.phaseHistory?.last?.phase == "Completed")
            #expect(done.status?.phaseHistory?.last?.occurredAt == KubeTime.format(finished))
            #expect(done.status?.condition(.succeeded)?.lastTransitionTime == KubeTime.format(finished))
            // A child that claims to have finished before it was seen running is recorded no
            // earlier than the previous transition.
            let early = try #require(try await h.get("w-early-finish").status?.phaseHistory?.last?.occurredAt)
            _ = try await h.client.patch(Widget.resourceType, name: "w-early-finish-0", namespace: "default", .merge(["status": ["phase": "Done", "finishedAt": "2020-01-01T00:00:00Z"]]), subresource: "status")
            let clamped = try await h.terminal("w-early-finish")
            #expect(clamped.status?.phaseHistory?.last?.occurredAt == early)
            run.cancel()
            _ = try? await run.value
        }
    }
}
