import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeSandbox
import Logging
import SwiftProtobuf
import TaskPlugins

/// A sandbox with the simulated kubelet, the TaskAction CRD, and the executor running in this
/// process on a client of its own whose requests are counted.
final class DrillWorld: Sendable {
    let sandbox: KubeSandbox
    /// The drill's own client: creates TaskActions and audits.
    let client: KubernetesClient
    let executorClient: KubernetesClient
    /// Requests the executor has made, counted by its client's observer.
    let requests: LockedBox<Int>

    private init(sandbox: KubeSandbox, client: KubernetesClient, executorClient: KubernetesClient, requests: LockedBox<Int>) {
        self.sandbox = sandbox
        self.client = client
        self.executorClient = executorClient
        self.requests = requests
    }

    /// Runs `body` with a fresh world, and takes it down afterwards. Without `executor` no
    /// executor runs in this process (the drill runs the binary itself).
    /// With `auditWrites` the sandbox keeps a record of every write (``KubeSandbox/auditRecords``).
    static func with<T: Sendable>(executor inProcess: Bool = true, auditWrites: Bool = false, _ body: (DrillWorld) async throws -> T) async throws -> T {
        var options = KubeSandbox.Options()
        options.kubelet = true
        options.auditWrites = auditWrites
        let sandbox = try await KubeSandbox.start(options)
        let requests = LockedBox(0)
        let client = try KubernetesClient(configuration: sandbox.clientConfiguration(), logger: Logger(label: "drill"))
        let executorClient = try KubernetesClient(configuration: sandbox.clientConfiguration(), logger: Logger(label: "executor-client"), observer: { _ in requests.withLock { $0 += 1 } })
        let world = DrillWorld(sandbox: sandbox, client: client, executorClient: executorClient, requests: requests)
        let manager = Manager(client: executorClient, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", gracefulShutdownTimeout: .seconds(5)))
        let run: Task<Void, any Error>
        do {
            _ = try await client.create(ResourceType.customResourceDefinitions, TaskActionSchema.crd)
            if inProcess {
                _ = Executor(manager: manager, config: ExecutorConfig(), plugins: PluginRegistration.builtIn, sink: LoggingActionEventSink(), options: ControllerOptions(maxConcurrentReconciles: 10))
                run = Task { try await manager.run() }
            } else {
                run = Task {}
            }
        } catch {
            await world.takeDown(nil)
            throw error
        }
        do {
            let result = try await body(world)
            await world.takeDown(run)
            return result
        } catch {
            await world.takeDown(run)
            throw error
        }
    }

    private func takeDown(_ run: Task<Void, any Error>?) async {
        run?.cancel()
        _ = try? await run?.value
        try? await executorClient.shutdown()
        try? await client.shutdown()
        await sandbox.shutdown()
    }

    // MARK: - Work

    /// What a drill's TaskAction does: nine in ten succeed at once; every tenth fails, is
    /// retried once and fails again, so it ends Failed after two attempts (two Pods).
    static func template(fails: Bool) -> String {
        var t = Flyteidl2_Core_TaskTemplate()
        t.id.resourceType = .task
        t.id.project = "drills"
        t.id.domain = "development"
        t.id.name = "drill.task"
        t.id.version = "v1"
        t.type = "python"
        t.metadata.retries.retries = fails ? 1 : 0
        var c = Flyteidl2_Core_Container()
        c.image = "busybox:1.36"
        c.args = ["sh", "-c", "true"]
        func kv(_ key: String, _ value: String) -> Flyteidl2_Core_KeyValuePair {
            var pair = Flyteidl2_Core_KeyValuePair()
            pair.key = key
            pair.value = value
            return pair
        }
        c.env = [kv("SANDBOX_OUTCOME", fails ? "fail" : "succeed"), kv("SANDBOX_DURATION", "0.5"), kv("SANDBOX_STARTUP", "0.2"), kv("SANDBOX_EXIT_CODE", "1")]
        t.container = c
        return (try? t.serializedBytes() as Data)?.base64EncodedString() ?? ""
    }

    static func taskAction(_ name: String, fails: Bool) -> TaskAction {
        var spec = TaskActionSpec(runName: "drill", project: "drills", domain: "development", actionName: name, taskType: "python", taskTemplate: nil,
                                  inputUri: "s3://bucket/metadata/drill/\(name)/inputs.pb", runOutputBase: "s3://bucket/data/drill")
        spec.taskTemplate = template(fails: fails)
        return TaskAction(metadata: ObjectMeta(name: name, namespace: "default"), spec: spec)
    }

    /// Creates `count` TaskActions named `<prefix>-<i>`, spread over `over` (all at once when
    /// nil); retries a create the faults refused, so every one exists in the end.
    func create(_ count: Int, prefix: String, over: Duration? = nil) async throws -> [String] {
        let names = (0..<count).map { "\(prefix)-\($0)" }
        let gap = over.map { $0 / max(1, count) }
        for (index, name) in names.enumerated() {
            let taskAction = Self.taskAction(name, fails: index % 10 == 9)
            while true {
                do {
                    _ = try await client.create(taskAction)
                    break
                } catch let error as KubeAPIError where error.isAlreadyExists {
                    break
                } catch {
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            if let gap { try await Task.sleep(for: gap) }
        }
        return names
    }

    /// Waits until every named TaskAction is terminal, `limit` passes or `giveUp` says there is
    /// no point (the executor process is gone); how many were.
    func waitTerminal(_ names: [String], limit: Duration, giveUp: () -> Bool = { false }) async -> Int {
        let deadline = ContinuousClock.now + limit
        var terminal = 0
        while ContinuousClock.now < deadline, !giveUp() {
            terminal = await countTerminal(names)
            if terminal == names.count { return terminal }
            try? await Task.sleep(for: .seconds(1))
        }
        return terminal
    }

    /// How many of the named TaskActions are terminal now (0 when the list fails).
    func countTerminal(_ names: [String]) async -> Int {
        let wanted = Set(names)
        guard let list = try? await client.listAll(TaskAction.resourceType, namespace: "default") else { return 0 }
        return list.items.filter { item in
            guard let name = item["metadata"]?["name"]?.stringValue, wanted.contains(name) else { return false }
            return (item["status"]?["conditions"]?.arrayValue ?? []).contains { ($0["type"] == "Succeeded" || $0["type"] == "Failed") && $0["status"] == "True" }
        }.count
    }
}
