import ExecutorAPI
import ExecutorControllers
import Foundation
import KubeClient
import KubeRuntime
import KubeSandbox
import Logging
import Synchronization

/// N TaskActions created at once against a sandbox (in a child process, with the simulated
/// kubelet) and one executor in this process: time until every Pod exists, until every
/// TaskAction is Completed, the executor's API requests per TaskAction, and peak RSS.
enum ExecutorBench {
    struct Result {
        var count: Int
        var allPodsSeconds: Double
        var allCompletedSeconds: Double
        var requestsPerAction: Double
        var peakResident: Int
        var residentBefore: Int
    }

    /// The child: an HTTP sandbox with the kubelet and the TaskAction CRD.
    static func serveSandbox() async throws {
        var options = KubeSandbox.Options()
        options.tls = false
        options.kubelet = true
        options.historyCapacity = 200_000
        let sandbox = try await KubeSandbox.start(options)
        let client = try KubernetesClient(configuration: sandbox.clientConfiguration())
        _ = try await client.create(ResourceType(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", namespaced: false), TaskActionSchema.crd)
        FileHandle.standardOutput.write(Data("\(sandbox.port)\n".utf8))
        _ = FileHandle.standardInput.readDataToEndOfFile()
        try await client.shutdown()
        await sandbox.shutdown()
    }

    static func taskAction(_ i: Int) -> TaskAction {
        // The fact sheet's container vector, with the kubelet told to run it for 0.5 s.
        let template = Data(base64Encoded: "Cg8IARIBcBoBZCIBdCoCdjESCWNvbnRhaW5lchoEKgIoAjI4CgxidXN5Ym94OjEuMzYSAnNoEgItYxoKZWNobyBoZWxsbyIUCggIARIEMTAwbQoICAMSBDY0TWk=")!
        let spec = TaskActionSpec(runName: "bench", project: "p", domain: "d", actionName: "a\(i)", taskType: "container", taskTemplate: template, inputUri: "s3://bucket/in/\(i)", runOutputBase: "s3://bucket/out")
        return TaskAction(metadata: ObjectMeta(name: "bench-a\(i)", namespace: "default", annotations: [SimulatedKubelet.durationAnnotation: "0.5"]), spec: spec)
    }

    static func run(count: Int, port: Int) async throws -> Result {
        var logging = Logger(label: "bench")
        logging.logLevel = .warning
        let config = ClientConfiguration(server: URL(string: "http://127.0.0.1:\(port)")!)
        let requests = Atomic<Int>(0)
        let counting = LockedBox(false)
        let executorClient = try KubernetesClient(configuration: config, logger: logging, observer: { _ in
            if counting.value { requests.add(1, ordering: .relaxed) }
        })
        let benchClient = try KubernetesClient(configuration: config, logger: logging)
        let residentBefore = Memory.resident
        Memory.resetPeak()

        let manager = Manager(client: executorClient, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0"), logger: logging)
        _ = Executor(manager: manager, config: ExecutorConfig(), sink: SilentSink(), options: ControllerOptions(maxConcurrentReconciles: 32), logger: logging)
        let run = Task { try await manager.run() }
        await manager.informers.waitForSync()
        counting.withLock { $0 = true }

        // Watch Pods appear and TaskActions complete.
        let podNames = LockedBox(Set<String>())
        let completed = LockedBox(Set<String>())
        let podWatch = try await benchClient.watch(Pod.self, namespace: "default", options: WatchOptions(resourceVersion: "0", timeoutSeconds: 3600))
        let taWatch = try await benchClient.watch(TaskAction.self, namespace: "default", options: WatchOptions(resourceVersion: "0", timeoutSeconds: 3600))
        let started = ContinuousClock.now
        let allPods = LockedBox<Duration?>(nil)
        let allDone = LockedBox<Duration?>(nil)
        let watchers = [
            Task {
                for try await event in podWatch {
                    if case .added(let pod) = event {
                        let n = podNames.withLock { $0.insert(pod.metadata.name ?? ""); return $0.count }
                        if n == count { allPods.withLock { $0 = ContinuousClock.now - started }; return }
                    }
                }
            },
            Task {
                for try await event in taWatch {
                    if let action = event.object, action.status?.condition(.succeeded)?.status == "True" {
                        let n = completed.withLock { $0.insert(action.metadata.name ?? ""); return $0.count }
                        if n == count { allDone.withLock { $0 = ContinuousClock.now - started }; return }
                    }
                }
            },
        ]
        try await withThrowingTaskGroup(of: Void.self) { group in
            let workers = 32
            for w in 0..<workers {
                group.addTask {
                    for i in stride(from: w, to: count, by: workers) { _ = try await benchClient.create(taskAction(i)) }
                }
            }
            try await group.waitForAll()
        }
        for watcher in watchers { _ = try? await watcher.value }
        counting.withLock { $0 = false }
        let peak = Memory.peakResident
        run.cancel()
        _ = try? await run.value
        try await executorClient.shutdown()
        try await benchClient.shutdown()
        return Result(count: count, allPodsSeconds: allPods.value?.seconds ?? .nan, allCompletedSeconds: allDone.value?.seconds ?? .nan, requestsPerAction: Double(requests.load(ordering: .relaxed)) / Double(count), peakResident: peak, residentBefore: residentBefore)
    }

    struct SilentSink: ActionEventSink {
        func record(_ event: FlyteIDL.Flyteidl2_Workflow_ActionEvent) async throws {}
    }
}

import FlyteIDL
