import Foundation
import KubeClient
import Synchronization

/// The Kubeflow training operator, simulated for PyTorchJobs: a new job is Created, with a Pod
/// per replica, `<job>-master-0` and `<job>-worker-<i>` (labelled as the operator labels them,
/// owned by the job, the rendezvous variables set); Running once every Pod runs; Succeeded
/// when the Master (or, without one, every Worker) succeeds; Failed when a Pod fails, naming
/// the replica type as the operator does. Restarts and the elastic policy's scaling are not
/// simulated. The Pods' fates are the ``SimulatedKubelet``'s, chosen as for any Pod.
final class SimulatedTrainingOperator: Sendable, OperatedKind {
    static let resourceType = ResourceType(group: "kubeflow.org", version: "v1", kind: "PyTorchJob", plural: "pytorchjobs", namespaced: true)
    typealias Job = OperatedObject<SimulatedTrainingOperator>
    static let operatorLabel = "training.kubeflow.org/operator-name"
    static let jobLabel = "training.kubeflow.org/job-name"
    static let typeLabel = "training.kubeflow.org/replica-type"
    static let indexLabel = "training.kubeflow.org/replica-index"

    let client: KubernetesClient
    private let seen = Mutex<Set<String>>([])

    init(client: KubernetesClient) {
        self.client = client
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await WatchLoop.run(self.client, Job.self) { event in await self.jobChanged(event) } }
            group.addTask { await WatchLoop.run(self.client, Pod.self, labelSelector: "\(Self.operatorLabel)=pytorchjob-controller") { event in await self.podChanged(event) } }
        }
    }

    private func jobChanged(_ event: WatchEvent<Job>) async {
        guard case .added(let job) = event, job.metadata.deletionTimestamp == nil, job.status?["conditions"]?.arrayValue == nil,
            let uid = job.metadata.uid, seen.withLock({ $0.insert(uid).inserted })
        else { return }
        let name = job.metadata.name ?? ""
        let namespace = job.metadata.namespace ?? "default"
        let now = JSONValue.string(KubeTime.format(Date()))
        _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, [
            "conditions": [["type": "Created", "status": "True", "reason": "PyTorchJobCreated", "message": .string("PyTorchJob \(namespace)/\(name) is created."), "lastUpdateTime": now, "lastTransitionTime": now]],
            "startTime": now,
        ])
        let specs = job.spec?["pytorchReplicaSpecs"]?.objectValue ?? [:]
        let worldSize = specs.values.reduce(0) { $0 + Int($1["replicas"]?.intValue ?? 0) }
        let masterAddress = specs["Master"] != nil ? "\(name)-master-0" : "\(name)-worker-0"
        var rank = 0
        for type in ["Master", "Worker"] {
            guard let spec = specs[type] else { continue }
            for index in 0..<Int(spec["replicas"]?.intValue ?? 0) {
                let template = spec["template"] ?? [:]
                var labels = template.value(atPath: "metadata.labels")?.objectValue ?? [:]
                labels[Self.operatorLabel] = "pytorchjob-controller"
                labels[Self.jobLabel] = .string(name)
                labels[Self.typeLabel] = .string(type.lowercased())
                labels[Self.indexLabel] = .string(String(index))
                if type == "Master" { labels["training.kubeflow.org/job-role"] = "master" }
                var podSpec = template["spec"] ?? [:]
                // The replica's policy on its Pods; ExitCode (the operator's own) is Never to the kubelet.
                let policy = spec["restartPolicy"]?.stringValue ?? ""
                podSpec["restartPolicy"] = .string(["Always", "OnFailure"].contains(policy) ? policy : "Never")
                if var containers = podSpec["containers"]?.arrayValue, !containers.isEmpty {
                    var env = containers[0]["env"]?.arrayValue ?? []
                    env += [["name": "MASTER_ADDR", "value": .string(masterAddress)], ["name": "MASTER_PORT", "value": "23456"],
                            ["name": "WORLD_SIZE", "value": .string(String(worldSize))], ["name": "RANK", "value": .string(String(rank))],
                            ["name": "PYTHONUNBUFFERED", "value": "1"]]
                    containers[0]["env"] = .array(env)
                    podSpec["containers"] = .array(containers)
                }
                rank += 1
                let pod: JSONValue = [
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": ["name": .string("\(name)-\(type.lowercased())-\(index)"), "namespace": .string(namespace), "labels": .object(labels),
                                 "annotations": template.value(atPath: "metadata.annotations") ?? [:], "ownerReferences": [SimulatedOperators.owner(Self.resourceType, job.metadata)]],
                    "spec": podSpec,
                ]
                _ = try? await client.create(Pod.resourceType, pod)
            }
        }
    }

    /// Derives the job's conditions and replica statuses from its Pods, as the operator does
    /// on each Pod change.
    private func podChanged(_ event: WatchEvent<Pod>) async {
        guard let pod = event.object, event.type != .deleted, let name = pod.metadata.labels?[Self.jobLabel] else { return }
        let namespace = pod.metadata.namespace
        guard let job = try? await client.get(Job.self, name: name, namespace: namespace), job.metadata.deletionTimestamp == nil else { return }
        let conditions = job.status?["conditions"]?.arrayValue ?? []
        guard !conditions.contains(where: { ["Succeeded", "Failed"].contains($0["type"]?.stringValue ?? "") }) else { return }
        guard let pods = try? await client.list(Pod.self, namespace: namespace, options: ListOptions(labelSelector: "\(Self.jobLabel)=\(name)")).items else { return }
        let specs = job.spec?["pytorchReplicaSpecs"]?.objectValue ?? [:]
        var statuses: JSONValue = [:]
        var failedType: String?
        for type in specs.keys.sorted() {
            let mine = pods.filter { $0.metadata.labels?[Self.typeLabel] == type.lowercased() }
            let count = { (phase: String) in Int64(mine.filter { $0.status?.phase == phase }.count) }
            statuses[type] = ["active": .int(count("Running") + count("Pending")), "succeeded": .int(count("Succeeded")), "failed": .int(count("Failed"))]
            if count("Failed") > 0, failedType == nil { failedType = type }
        }
        let expected = specs.values.reduce(0) { $0 + Int($1["replicas"]?.intValue ?? 0) }
        let now = JSONValue.string(KubeTime.format(Date()))
        func condition(_ type: String, _ reason: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message), "lastUpdateTime": now, "lastTransitionTime": now]
        }
        /// The conditions so far, `Running` turned false once the job ends, and `next`.
        func appending(_ next: JSONValue, ending: Bool) -> JSONValue {
            .array(conditions.map { c in
                guard ending, c["type"] == "Running" else { return c }
                var c = c
                c["status"] = "False"
                return c
            } + [next])
        }
        let decider = specs["Master"] != nil ? "Master" : "Worker"
        let deciders = pods.filter { $0.metadata.labels?[Self.typeLabel] == decider.lowercased() }
        let fullName = "\(namespace ?? "default")/\(name)"
        if let failedType {
            let failed = pods.filter { $0.metadata.labels?[Self.typeLabel] == failedType.lowercased() && $0.status?.phase == "Failed" }.count
            _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, [
                "conditions": appending(condition("Failed", "PyTorchJobFailed", "PyTorchJob \(fullName) is failed because \(failed) \(failedType) replica(s) failed."), ending: true),
                "replicaStatuses": statuses, "completionTime": now,
            ])
        } else if !deciders.isEmpty, deciders.count == Int(specs[decider]?["replicas"]?.intValue ?? 0), deciders.allSatisfy({ $0.status?.phase == "Succeeded" }) {
            _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, [
                "conditions": appending(condition("Succeeded", "PyTorchJobSucceeded", "PyTorchJob \(fullName) is successfully completed."), ending: true),
                "replicaStatuses": statuses, "completionTime": now,
            ])
        } else if pods.count == expected, pods.allSatisfy({ $0.status?.phase == "Running" }), !conditions.contains(where: { $0["type"] == "Running" }) {
            _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, [
                "conditions": appending(condition("Running", "PyTorchJobRunning", "PyTorchJob \(fullName) is running."), ending: false),
                "replicaStatuses": statuses,
            ])
        } else {
            _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, ["replicaStatuses": statuses])
        }
    }
}
