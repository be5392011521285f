import ExecutorAPI
import Foundation
import KubeClient
import KubeSandbox
import Logging

/// Issue 13's start-up and steady-state figures: a sandbox already holding `count` terminal
/// TaskActions (finalizer, Succeeded condition, history) and their Pods; then the executor
/// starts in its own process. Measured: the time from its launch to ready (caches synced), its
/// peak RSS, and every API request it makes and its CPU over the following quiet interval.
enum StartupBench {
    struct Result {
        var count: Int
        var secondsToReady: Double
        /// Ready to settled: the start-up rounds.
        var secondsToSettle: Double
        var quietSeconds: Double
        var executor: ExecutorBench.ExecutorStats

        var requestsPerMinute: Double { Double(executor.all) / quietSeconds * 60 }
    }

    static func run(count: Int, quietSeconds: Double) async throws -> Result {
        // No kubelet: the seeded Pods stay as created, so every event after start-up would be
        // the executor's own doing.
        setenv("BENCH_SANDBOX_KUBELET", "0", 1)
        defer { unsetenv("BENCH_SANDBOX_KUBELET") }
        let sandbox = try ExecutorBench.Child(["serve-executor-sandbox"])
        defer { sandbox.finish() }
        guard let port = Int(try await sandbox.readLine()) else { throw InformerBench.BenchError.childExited }
        var logging = Logger(label: "bench")
        logging.logLevel = .warning
        let client = try KubernetesClient(configuration: ClientConfiguration(server: URL(string: "http://127.0.0.1:\(port)")!), logger: logging)
        try await seed(client, count: count)

        let launched = ContinuousClock.now
        // The executor samples its heap from launch until `start`: the peak of its start-up.
        setenv("BENCH_SAMPLE_HEAP_AT_LAUNCH", "1", 1)
        defer { unsetenv("BENCH_SAMPLE_HEAP_AT_LAUNCH") }
        let executor = try ExecutorBench.Child(["serve-bench-executor", String(port)])
        defer { executor.finish() }
        guard try await executor.readLine() == "ready" else { throw InformerBench.BenchError.childExited }
        let ready = (ContinuousClock.now - launched).seconds
        // Let the start-up rounds (one per cached TaskAction and per Pod event, each finding
        // the action terminal) finish: settled once three seconds in a row cost under 20 ms of
        // CPU each. Then count what a quiet executor asks of the API server.
        var settledSeconds = 0
        var last = 0.0
        let settling = ContinuousClock.now
        while settledSeconds < 3 {
            executor.send("cpu")
            let cpu = Double(try await executor.readLine()) ?? 0
            settledSeconds = cpu - last < 0.02 ? settledSeconds + 1 : 0
            last = cpu
            try await Task.sleep(for: .seconds(1))
        }
        let settle = (ContinuousClock.now - settling).seconds
        executor.send("start")
        try await Task.sleep(for: .seconds(quietSeconds))
        executor.send("stop")
        let stats = try JSONDecoder().decode(ExecutorBench.ExecutorStats.self, from: Data(try await executor.readLine().utf8))
        try await client.shutdown()
        return Result(count: count, secondsToReady: ready, secondsToSettle: settle, quietSeconds: quietSeconds, executor: stats)
    }

    /// `count` TaskActions as the executor leaves them when they succeeded, each with its Pod.
    static func seed(_ client: KubernetesClient, count: Int) async throws {
        let now = KubeTime.format(Date())
        try await withThrowingTaskGroup(of: Void.self) { group in
            let workers = 32
            for w in 0..<workers {
                group.addTask {
                    for i in stride(from: w, to: count, by: workers) {
                        var action = ExecutorBench.taskAction(i)
                        action.metadata.finalizers = [TaskActionLabels.finalizer]
                        var created = try await client.create(action)
                        var status = TaskActionStatus()
                        status.attempts = 1
                        status.pluginPhase = "PhaseSuccess"
                        status.conditions = [
                            Condition(type: TaskActionConditionType.progressing.rawValue, status: "False", reason: "Completed", message: "TaskAction has completed", lastTransitionTime: now),
                            Condition(type: TaskActionConditionType.succeeded.rawValue, status: "True", reason: "Completed", message: "TaskAction completed successfully", lastTransitionTime: now),
                        ]
                        status.phaseHistory = [PhaseTransition(phase: "Queued", occurredAt: now), PhaseTransition(phase: "Completed", occurredAt: now)]
                        created.status = status
                        _ = try await client.updateStatus(created)
                        let owner = OwnerReference(apiVersion: TaskAction.resourceType.apiVersion, kind: "TaskAction", name: created.metadata.name ?? "", uid: created.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
                        let pod = Pod(metadata: ObjectMeta(name: "\(created.metadata.name ?? "")-0", namespace: "default", labels: [TaskActionLabels.managed: "true"], ownerReferences: [owner]),
                                      spec: PodSpec(containers: [Container(name: "task", image: "busybox:1.36")]))
                        if ProcessInfo.processInfo.environment["BENCH_SEED_PODS"] != "0" { _ = try await client.create(pod) }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
