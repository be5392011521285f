import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import TaskPlugins
import Testing
@testable import ExecutorControllers

/// The Pod plugin under its own id and task type, whose `phase` holds its thread for 150 ms
/// (a synchronous read would do the same).
struct DawdlingPodPlugin: KubernetesTaskPlugin {
    /// Built from the executor's plugin settings, so its Pods name the cluster's scheduler as the
    /// executor's own do (a shared cluster's simulated kubelet runs only those).
    let inner: PodPlugin
    let id = "dawdling"
    let taskTypes = ["dawdling"]
    var properties: PluginProperties { inner.properties }

    func build(_ context: TaskExecutionContext) throws -> Pod { try inner.build(context) }

    func phase(of pod: Pod, context: TaskExecutionContext) -> PhaseInfo {
        usleep(150_000)
        return inner.phase(of: pod, context: context)
    }

    func isTerminal(_ pod: Pod) -> Bool { inner.isTerminal(pod) }
    func completionTime(_ pod: Pod) -> Date? { inner.completionTime(pod) }
}

@Suite("Plugin calls that hold their thread")
struct PluginCallTimerTests {
    @Test("every call over the limit is counted; one warning names the plugin, the call, the TaskAction and how long, and the rest wait for the warning interval")
    func countsAndWarnsOnce() throws {
        let metrics = MetricsRegistry()
        let logs = CapturedLogs()
        var logger = logs.logger()
        logger[metadataKey: "plugin"] = "p"
        let timer = PluginCallTimer(plugin: "p", limit: .milliseconds(20), warningInterval: .seconds(3600), metrics: metrics, logger: logger)
        for _ in 0..<3 {
            let answer = timer.time(.phase, taskAction: "ta-1") { () -> Int in
                usleep(40_000)
                return 7
            }
            #expect(answer == 7)
        }
        struct Refused: Error {}
        #expect(throws: Refused.self) { try timer.time(.build, taskAction: "ta-2") { () throws -> Int in throw Refused() } }

        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(metricSample(text, #"executor_plugin_slow_calls_total{plugin="p",call="phase"}"#) == 3)
        let warnings = logs.records.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        let warning = try #require(warnings.first)
        #expect(warning.metadata["plugin"] == "p")
        #expect(warning.metadata["call"] == "phase")
        #expect(warning.metadata["taskAction"] == "ta-1")
        #expect(warning.metadata["notLogged"] == "0")
        let took = Int(warning.metadata["took"].map { "\($0)" }?.split(separator: " ").first ?? "") ?? 0
        #expect(took >= 40, "\(warning)")
    }

    @Test("a plugin whose phase call holds its thread still runs its task, and the executor counts the slow calls by plugin and call")
    func executorCountsSlowCalls() async throws {
        let metrics = MetricsRegistry()
        try await ExecutorHarness.with(plugins: PluginRegistration.builtIn + [.plugin { DawdlingPodPlugin(inner: PodPlugin(config: $0.plugins)) }], metrics: metrics) { h in
            try await h.create(Fixtures.taskAction("dawdle", taskType: "dawdling", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            let done = try await h.terminal("dawdle")
            #expect(done.status?.phaseHistory?.last?.phase == "Completed")
            let text = String(decoding: metrics.render(), as: UTF8.self)
            #expect((metricSample(text, #"executor_plugin_slow_calls_total{plugin="dawdling",call="phase"}"#) ?? 0) >= 1, "\(text)")
        }
    }
}
