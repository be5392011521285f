import Foundation
import KubeClient
import Synchronization

/// The Dask Kubernetes operator, simulated for DaskJobs, as its kopf handlers act: a new job
/// is `JobCreated`; then its cluster's Pods are made (a scheduler `<job>-scheduler` and the
/// default group's workers `<job>-default-worker-<id>`, which serve until deleted) and the job
/// runner `<job>-runner` from `spec.job`, and the job is `ClusterCreated` with `clusterName`
/// and `jobRunnerPodName`; the runner running makes it `Running` (`startTime`), the runner
/// ending makes it `Successful` or `Failed` (`endTime`) and deletes the cluster's Pods. Pods
/// carry the job's labels and annotations with the job's or cluster's `metadata` over them,
/// and the operator's `dask.org/*` labels and variables. The DaskCluster, its Deployments,
/// Service and DaskWorkerGroup are not made: the Pods are owned by the job. The runner's fate
/// is the ``SimulatedKubelet``'s, chosen as for any Pod.
final class SimulatedDaskOperator: Sendable, CustomObjectKind {
    static let resourceType = ResourceType(group: "kubernetes.dask.org", version: "v1", kind: "DaskJob", plural: "daskjobs", namespaced: true)
    typealias Job = CustomObject<SimulatedDaskOperator>
    static let componentLabel = "dask.org/component"
    static let clusterLabel = "dask.org/cluster-name"

    let client: KubernetesClient
    private let seen = Mutex<Set<String>>([])
    /// Jobs whose runner was seen running or ending: each status is written once.
    private let reported = Mutex<Set<String>>([])

    init(client: KubernetesClient) {
        self.client = client
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await WatchLoop.run(self.client, Job.self) { event in await self.jobChanged(event) } }
            group.addTask { await WatchLoop.run(self.client, Pod.self, labelSelector: "\(Self.componentLabel)=job-runner") { event in await self.runnerChanged(event) } }
        }
    }

    private func jobChanged(_ event: WatchEvent<Job>) async {
        guard case .added(let job) = event, job.metadata.deletionTimestamp == nil, job.status?["jobStatus"] == nil,
            let uid = job.metadata.uid, seen.withLock({ $0.insert(uid).inserted })
        else { return }
        let name = job.metadata.name ?? ""
        let namespace = job.metadata.namespace ?? "default"
        guard await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, ["jobStatus": "JobCreated"]) else { return }
        let schedulerAddress = JSONValue.string("tcp://\(name)-scheduler.\(namespace).svc.cluster.local:8786")
        let cluster = job.spec?["cluster"] ?? [:]
        let clusterMetadata = cluster["metadata"] ?? [:]
        let worker = cluster.value(atPath: "spec.worker") ?? [:]
        // The cluster: its scheduler and workers serve until the job ends.
        await createPod(job, name: "\(name)-scheduler", component: "scheduler", metadata: clusterMetadata, spec: cluster.value(atPath: "spec.scheduler.spec"), env: [], serves: true)
        for _ in 0..<Int(worker["replicas"]?.intValue ?? 1) {
            let workerName = "\(name)-default-worker-\(SimulatedOperators.randomSuffix(10))"
            await createPod(job, name: workerName, component: "worker", metadata: clusterMetadata, spec: worker["spec"],
                            env: [["name": "DASK_WORKER_NAME", "value": .string(workerName)], ["name": "DASK_SCHEDULER_ADDRESS", "value": schedulerAddress]], serves: true)
        }
        await createPod(job, name: "\(name)-runner", component: "job-runner", metadata: job.spec?.value(atPath: "job.metadata") ?? [:], spec: job.spec?.value(atPath: "job.spec"),
                        env: [["name": "DASK_SCHEDULER_ADDRESS", "value": schedulerAddress]], serves: false)
        _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, ["jobStatus": "ClusterCreated", "clusterName": .string(name), "jobRunnerPodName": .string("\(name)-runner")])
    }

    /// A Pod of the job: the job's labels and annotations, `metadata`'s over them, the
    /// operator's labels, `env` added to each container where not set. One that `serves` runs
    /// until deleted, as a scheduler or worker does.
    private func createPod(_ job: Job, name: String, component: String, metadata: JSONValue, spec: JSONValue?, env: [JSONValue], serves: Bool) async {
        let jobName = job.metadata.name ?? ""
        var labels = (job.metadata.labels ?? [:]).mapValues(JSONValue.string)
        for (k, v) in metadata["labels"]?.objectValue ?? [:] { labels[k] = v }
        labels[Self.clusterLabel] = .string(jobName)
        labels[Self.componentLabel] = .string(component)
        labels["sidecar.istio.io/inject"] = "false"
        var annotations = (job.metadata.annotations ?? [:]).mapValues(JSONValue.string)
        for (k, v) in metadata["annotations"]?.objectValue ?? [:] { annotations[k] = v }
        if serves { annotations["kubelet.sandbox.flyte.org/outcome"] = "hang" }
        var podSpec = spec ?? [:]
        if var containers = podSpec["containers"]?.arrayValue {
            for index in containers.indices {
                let have = Set((containers[index]["env"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
                containers[index]["env"] = .array((containers[index]["env"]?.arrayValue ?? []) + env.filter { !have.contains($0["name"]?.stringValue ?? "") })
            }
            podSpec["containers"] = .array(containers)
        }
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": .string(job.metadata.namespace ?? "default"), "labels": .object(labels), "annotations": .object(annotations),
                         "ownerReferences": [SimulatedOperators.owner(Self.resourceType, job.metadata)]],
            "spec": podSpec,
        ]
        _ = try? await client.create(Pod.resourceType, pod)
    }

    /// The runner's phase moves the job, as the operator's `status.phase` handlers do.
    private func runnerChanged(_ event: WatchEvent<Pod>) async {
        guard let pod = event.object, event.type != .deleted, let name = pod.metadata.labels?[Self.clusterLabel], let namespace = pod.metadata.namespace else { return }
        let now = JSONValue.string(KubeTime.format(Date()))
        switch pod.status?.phase {
        case "Running":
            guard reported.withLock({ $0.insert("\(namespace)/\(name)/running").inserted }) else { return }
            _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, ["jobStatus": "Running", "startTime": now])
        case let phase? where phase == "Succeeded" || phase == "Failed":
            guard reported.withLock({ $0.insert("\(namespace)/\(name)/ended").inserted }) else { return }
            // The cluster goes with the job's end.
            for component in ["scheduler", "worker"] {
                let pods = (try? await client.list(Pod.self, namespace: namespace, options: ListOptions(labelSelector: "\(Self.clusterLabel)=\(name),\(Self.componentLabel)=\(component)")).items) ?? []
                for pod in pods { _ = try? await client.delete(Pod.self, name: pod.metadata.name ?? "", namespace: namespace, options: DeleteOptions(gracePeriodSeconds: 0)) }
            }
            _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, ["jobStatus": .string(phase == "Succeeded" ? "Successful" : "Failed"), "endTime": now])
        default:
            return
        }
    }
}
