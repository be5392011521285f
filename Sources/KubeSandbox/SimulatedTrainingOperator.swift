import Foundation
import KubeClient
import Synchronization

/// A job kind the simulated Kubeflow training operator runs: how its replicas are found, named
/// and told about each other, which replica's success ends the job, and the operator's words.
protocol TrainingFramework: CustomObjectKind {
    /// The spec field holding the replica specs: `pytorchReplicaSpecs`, `tfReplicaSpecs`, …
    static var replicaSpecsField: String { get }
    /// The operator's controller, in its Pods' `training.kubeflow.org/operator-name` label.
    static var controllerName: String { get }
    /// The replica types in the order their Pods are made.
    static var replicaOrder: [String] { get }
    /// The types whose Pods' success ends the job, given the types present.
    static func deciders(_ types: Set<String>) -> [String]
    /// Whether worker 0 alone decides when Workers do (TensorFlow's default success policy),
    /// rather than every Worker.
    static var workerZeroDecides: Bool { get }
    /// The Pod of replica `index` of `type`.
    static func podName(job: String, type: String, index: Int) -> String
    /// The variables the operator sets on the replica's main container.
    static func environment(job: String, namespace: String, specs: [String: JSONValue], type: String, index: Int, rank: Int) -> [JSONValue]
    /// The condition messages, for `namespace/name` or `name` as the operator writes them.
    static func message(_ condition: String, namespace: String, name: String) -> String
    /// The Failed condition's message when `count` replicas of `type` failed.
    static func failedMessage(namespace: String, name: String, count: Int, type: String) -> String
}

extension TrainingFramework {
    static func replicaCount(_ spec: JSONValue?) -> Int { Int(spec?["replicas"]?.intValue ?? 0) }
    static var workerZeroDecides: Bool { false }
    static func podName(job: String, type: String, index: Int) -> String { "\(job)-\(type.lowercased())-\(index)" }
}

/// PyTorchJobs: a Master (rank 0) and Workers, told the master's address; the Master decides,
/// or every Worker without one.
enum SimulatedPyTorch: TrainingFramework {
    static let resourceType = ResourceType(group: "kubeflow.org", version: "v1", kind: "PyTorchJob", plural: "pytorchjobs", namespaced: true)
    static let replicaSpecsField = "pytorchReplicaSpecs"
    static let controllerName = "pytorchjob-controller"
    static let replicaOrder = ["Master", "Worker"]

    static func deciders(_ types: Set<String>) -> [String] { types.contains("Master") ? ["Master"] : ["Worker"] }

    static func environment(job: String, namespace: String, specs: [String: JSONValue], type: String, index: Int, rank: Int) -> [JSONValue] {
        let worldSize = specs.values.reduce(0) { $0 + replicaCount($1) }
        let masterAddress = specs["Master"] != nil ? "\(job)-master-0" : "\(job)-worker-0"
        return [["name": "MASTER_ADDR", "value": .string(masterAddress)], ["name": "MASTER_PORT", "value": "23456"],
                ["name": "WORLD_SIZE", "value": .string(String(worldSize))], ["name": "RANK", "value": .string(String(rank))],
                ["name": "PYTHONUNBUFFERED", "value": "1"]]
    }

    static func message(_ condition: String, namespace: String, name: String) -> String {
        switch condition {
        case "Created": "PyTorchJob \(namespace)/\(name) is created."
        case "Running": "PyTorchJob \(namespace)/\(name) is running."
        default: "PyTorchJob \(namespace)/\(name) is successfully completed."
        }
    }

    static func failedMessage(namespace: String, name: String, count: Int, type: String) -> String {
        "PyTorchJob \(namespace)/\(name) is failed because \(count) \(type) replica(s) failed."
    }
}

/// TFJobs: Chief, PS, Worker and Evaluator replicas, each told the cluster in `TF_CONFIG`; the
/// Chief decides, or worker 0 without one (the default success policy).
enum SimulatedTensorFlow: TrainingFramework {
    static let resourceType = ResourceType(group: "kubeflow.org", version: "v1", kind: "TFJob", plural: "tfjobs", namespaced: true)
    static let replicaSpecsField = "tfReplicaSpecs"
    static let controllerName = "tfjob-controller"
    static let replicaOrder = ["Chief", "Master", "PS", "Worker", "Evaluator"]
    static let workerZeroDecides = true

    static func deciders(_ types: Set<String>) -> [String] {
        if types.contains("Chief") { return ["Chief"] }
        if types.contains("Master") { return ["Master"] }
        return ["Worker"]
    }

    static func environment(job: String, namespace: String, specs: [String: JSONValue], type: String, index: Int, rank: Int) -> [JSONValue] {
        var cluster: [String: JSONValue] = [:]
        for (t, spec) in specs where t != "Evaluator" {
            cluster[t.lowercased()] = .array((0..<replicaCount(spec)).map { .string("\(podName(job: job, type: t, index: $0)).\(namespace).svc:2222") })
        }
        let config: JSONValue = ["cluster": .object(cluster), "task": ["type": .string(type.lowercased()), "index": .int(Int64(index))], "environment": "cloud"]
        return [["name": "TF_CONFIG", "value": .string(String(decoding: config.serialized(sortedKeys: true), as: UTF8.self))]]
    }

    static func message(_ condition: String, namespace: String, name: String) -> String {
        switch condition {
        case "Created": "TFJob \(name) is created."
        case "Running": "TFJob \(namespace)/\(name) is running."
        default: "TFJob \(namespace)/\(name) successfully completed."
        }
    }

    static func failedMessage(namespace: String, name: String, count: Int, type: String) -> String {
        "TFJob \(namespace)/\(name) has failed because \(count) \(type) replica(s) failed."
    }
}

/// `kubeflow.org/v1` MPIJobs: Workers and one Launcher (`<job>-launcher`, no index), pointed at
/// the hostfile and the exec script the operator mounts; the Launcher decides.
enum SimulatedMPI: TrainingFramework {
    static let resourceType = ResourceType(group: "kubeflow.org", version: "v1", kind: "MPIJob", plural: "mpijobs", namespaced: true)
    static let replicaSpecsField = "mpiReplicaSpecs"
    static let controllerName = "mpijob-controller"
    static let replicaOrder = ["Worker", "Launcher"]

    static func deciders(_ types: Set<String>) -> [String] { ["Launcher"] }

    static func podName(job: String, type: String, index: Int) -> String {
        type == "Launcher" ? "\(job)-launcher" : "\(job)-\(type.lowercased())-\(index)"
    }

    static func environment(job: String, namespace: String, specs: [String: JSONValue], type: String, index: Int, rank: Int) -> [JSONValue] {
        guard type == "Launcher" else { return [] }
        return [["name": "OMPI_MCA_plm_rsh_agent", "value": "/etc/mpi/kubexec.sh"], ["name": "OMPI_MCA_orte_default_hostfile", "value": "/etc/mpi/hostfile"]]
    }

    static func message(_ condition: String, namespace: String, name: String) -> String {
        switch condition {
        case "Created": "MPIJob \(name) is created."
        case "Running": "MPIJob \(name) is running."
        default: "MPIJob \(name) is successfully completed."
        }
    }

    static func failedMessage(namespace: String, name: String, count: Int, type: String) -> String {
        "MPIJob \(name) is failed because \(count) \(type) replica(s) failed."
    }
}

/// The Kubeflow training operator, simulated for one job kind (PyTorchJobs, TFJobs or
/// MPIJobs): a new job is Created, with a Pod per replica (labelled as the operator labels
/// them, owned by the job, the framework's variables set); Running once every Pod runs;
/// Succeeded when the deciding replicas succeed (the Master or Chief, worker 0, or the
/// Launcher, by kind); Failed when a Pod fails, naming the replica type as the operator does.
/// Restarts, the elastic policy's scaling, TensorFlow's Services and MPI's hostfile ConfigMap
/// and launcher RBAC are not simulated. The Pods' fates are the ``SimulatedKubelet``'s, chosen
/// as for any Pod.
final class SimulatedTrainingOperator<Framework: TrainingFramework>: Sendable {
    typealias Job = CustomObject<Framework>
    static var operatorLabel: String { "training.kubeflow.org/operator-name" }
    static var jobLabel: String { "training.kubeflow.org/job-name" }
    static var typeLabel: String { "training.kubeflow.org/replica-type" }
    static var indexLabel: String { "training.kubeflow.org/replica-index" }

    let client: KubernetesClient
    private let seen = Mutex<Set<String>>([])

    init(client: KubernetesClient) {
        self.client = client
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await WatchLoop.run(self.client, Job.self) { event in await self.jobChanged(event) } }
            group.addTask { await WatchLoop.run(self.client, Pod.self, labelSelector: "\(Self.operatorLabel)=\(Framework.controllerName)") { event in await self.podChanged(event) } }
        }
    }

    private func jobChanged(_ event: WatchEvent<Job>) async {
        guard case .added(let job) = event, job.metadata.deletionTimestamp == nil, job.status?["conditions"]?.arrayValue == nil,
            let uid = job.metadata.uid, seen.withLock({ $0.insert(uid).inserted })
        else { return }
        let name = job.metadata.name ?? ""
        let namespace = job.metadata.namespace ?? "default"
        let now = JSONValue.string(KubeTime.format(Date()))
        _ = await SimulatedOperators.writeStatus(client, Framework.resourceType, name, namespace, [
            "conditions": [["type": "Created", "status": "True", "reason": .string("\(Framework.resourceType.kind)Created"), "message": .string(Framework.message("Created", namespace: namespace, name: name)),
                            "lastUpdateTime": now, "lastTransitionTime": now]],
            "startTime": now,
        ])
        let specs = job.spec?[Framework.replicaSpecsField]?.objectValue ?? [:]
        var rank = 0
        for type in Framework.replicaOrder {
            guard let spec = specs[type] else { continue }
            for index in 0..<Framework.replicaCount(spec) {
                let template = spec["template"] ?? [:]
                var labels = template.value(atPath: "metadata.labels")?.objectValue ?? [:]
                labels[Self.operatorLabel] = .string(Framework.controllerName)
                labels[Self.jobLabel] = .string(name)
                labels[Self.typeLabel] = .string(type.lowercased())
                labels[Self.indexLabel] = .string(String(index))
                if Framework.deciders(Set(specs.keys)).contains(type), type != "Worker" { labels["training.kubeflow.org/job-role"] = "master" }
                var podSpec = template["spec"] ?? [:]
                // The replica's policy on its Pods; ExitCode (the operator's own) is Never to the kubelet.
                let policy = spec["restartPolicy"]?.stringValue ?? ""
                podSpec["restartPolicy"] = .string(["Always", "OnFailure"].contains(policy) ? policy : "Never")
                if var containers = podSpec["containers"]?.arrayValue, !containers.isEmpty {
                    let env = Framework.environment(job: name, namespace: namespace, specs: specs, type: type, index: index, rank: rank)
                    containers[0]["env"] = .array((containers[0]["env"]?.arrayValue ?? []) + env)
                    podSpec["containers"] = .array(containers)
                }
                rank += 1
                let pod: JSONValue = [
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": ["name": .string(Framework.podName(job: name, type: type, index: index)), "namespace": .string(namespace), "labels": .object(labels),
                                 "annotations": template.value(atPath: "metadata.annotations") ?? [:], "ownerReferences": [SimulatedOperators.owner(Framework.resourceType, job.metadata)]],
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
        let conditions = job.conditions
        guard !conditions.contains(where: { ["Succeeded", "Failed"].contains($0["type"]?.stringValue ?? "") }) else { return }
        guard let pods = try? await client.list(Pod.self, namespace: namespace, options: ListOptions(labelSelector: "\(Self.jobLabel)=\(name)")).items else { return }
        let specs = job.spec?[Framework.replicaSpecsField]?.objectValue ?? [:]
        var statuses: JSONValue = [:]
        var failedType: String?
        for type in specs.keys.sorted() {
            let mine = pods.filter { $0.metadata.labels?[Self.typeLabel] == type.lowercased() }
            let count = { (phase: String) in Int64(mine.filter { $0.status?.phase == phase }.count) }
            statuses[type] = ["active": .int(count("Running") + count("Pending")), "succeeded": .int(count("Succeeded")), "failed": .int(count("Failed"))]
            if count("Failed") > 0, failedType == nil { failedType = type }
        }
        let expected = specs.values.reduce(0) { $0 + Framework.replicaCount($1) }
        let now = JSONValue.string(KubeTime.format(Date()))
        let kind = Framework.resourceType.kind
        let jobNamespace = namespace ?? "default"
        func condition(_ type: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": "True", "reason": .string("\(kind)\(type)"), "message": .string(message), "lastUpdateTime": now, "lastTransitionTime": now]
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
        if let failedType {
            let failed = pods.filter { $0.metadata.labels?[Self.typeLabel] == failedType.lowercased() && $0.status?.phase == "Failed" }.count
            _ = await SimulatedOperators.writeStatus(client, Framework.resourceType, name, namespace, [
                "conditions": appending(condition("Failed", Framework.failedMessage(namespace: jobNamespace, name: name, count: failed, type: failedType)), ending: true),
                "replicaStatuses": statuses, "completionTime": now,
            ])
        } else if deciderSucceeded(pods, specs: specs) {
            _ = await SimulatedOperators.writeStatus(client, Framework.resourceType, name, namespace, [
                "conditions": appending(condition("Succeeded", Framework.message("Succeeded", namespace: jobNamespace, name: name)), ending: true),
                "replicaStatuses": statuses, "completionTime": now,
            ])
        } else if pods.count == expected, pods.allSatisfy({ $0.status?.phase == "Running" }), !conditions.contains(where: { $0["type"] == "Running" }) {
            _ = await SimulatedOperators.writeStatus(client, Framework.resourceType, name, namespace, [
                "conditions": appending(condition("Running", Framework.message("Running", namespace: jobNamespace, name: name)), ending: false),
                "replicaStatuses": statuses,
            ])
        } else {
            _ = await SimulatedOperators.writeStatus(client, Framework.resourceType, name, namespace, ["replicaStatuses": statuses])
        }
    }

    /// Whether every Pod of the deciding replicas succeeded; for TensorFlow's Workers without a
    /// Chief, worker 0 alone (the default success policy).
    private func deciderSucceeded(_ pods: [Pod], specs: [String: JSONValue]) -> Bool {
        let types = Framework.deciders(Set(specs.keys))
        let workerZeroDecides = Framework.workerZeroDecides && types == ["Worker"]
        return types.allSatisfy { type in
            let wanted = workerZeroDecides ? 1 : Framework.replicaCount(specs[type])
            let mine = pods.filter { $0.metadata.labels?[Self.typeLabel] == type.lowercased() && (!workerZeroDecides || $0.metadata.labels?[Self.indexLabel] == "0") }
            return wanted > 0 && mine.count == wanted && mine.allSatisfy { $0.status?.phase == "Succeeded" }
        }
    }
}
