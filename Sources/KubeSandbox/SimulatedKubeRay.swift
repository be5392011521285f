import Foundation
import KubeClient
import Synchronization

/// KubeRay, simulated: a new RayJob is Initializing with a cluster name `<job>-<suffix>` and a
/// head Pod `<cluster>-head` (labelled as KubeRay labels it, owned by the job); Running once
/// the head runs; Complete or Failed when the entrypoint ends. No RayCluster object or worker
/// Pods are made. See ``SimulatedOperators`` for the knobs.
final class SimulatedKubeRay: Sendable, CustomObjectKind {
    static let resourceType = ResourceType(group: "ray.io", version: "v1", kind: "RayJob", plural: "rayjobs", namespaced: true)
    typealias Job = CustomObject<SimulatedKubeRay>
    static let headSelector = "ray.io/node-type=head,ray.io/is-ray-node=yes"
    /// Head outcomes that are the Pod's own failure; any other leaves the head running.
    static let podFailures: Set<String> = ["image-pull-backoff", "invalid-image", "fail", "oom"]

    let client: KubernetesClient
    private let seen = Mutex<Set<String>>([])
    private let running = Mutex<[Task<Void, Never>]>([])

    init(client: KubernetesClient) {
        self.client = client
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await WatchLoop.run(self.client, Job.self) { event in await self.jobChanged(event) } }
            group.addTask { await WatchLoop.run(self.client, Pod.self, labelSelector: Self.headSelector) { event in await self.headChanged(event) } }
        }
        for task in running.withLock({ $0 }) { task.cancel() }
    }

    private func jobChanged(_ event: WatchEvent<Job>) async {
        guard case .added(let job) = event, job.metadata.deletionTimestamp == nil, job.status?["jobDeploymentStatus"] == nil,
            let uid = job.metadata.uid, seen.withLock({ $0.insert("job/" + uid).inserted })
        else { return }
        let name = job.metadata.name ?? ""
        let cluster = "\(name)-\(SimulatedOperators.randomSuffix(5))"
        let template = job.spec?.value(atPath: "rayClusterSpec.headGroupSpec.template") ?? [:]
        let env = SimulatedOperators.environment(template)
        var labels = template.value(atPath: "metadata.labels")?.objectValue ?? [:]
        labels["ray.io/cluster"] = .string(cluster)
        labels["ray.io/node-type"] = "head"
        labels["ray.io/group"] = "headgroup"
        labels["ray.io/is-ray-node"] = "yes"
        labels["ray.io/job"] = .string(name)
        var annotations = template.value(atPath: "metadata.annotations")?.objectValue ?? [:]
        // A Ray head keeps running; only a failure of the Pod itself ends it.
        if !Self.podFailures.contains(env["SANDBOX_OUTCOME"] ?? "") { annotations[SimulatedKubelet.outcomeAnnotation] = "hang" }
        var spec = template["spec"] ?? ["containers": [["name": "ray-head", "image": "rayproject/ray"]]]
        spec["restartPolicy"] = "Always"
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string("\(cluster)-head"), "namespace": .string(job.metadata.namespace ?? "default"), "labels": .object(labels), "annotations": .object(annotations),
                         "ownerReferences": [SimulatedOperators.owner(Self.resourceType, job.metadata)]],
            "spec": spec,
        ]
        _ = await writeStatus(name, job.metadata.namespace, ["jobDeploymentStatus": "Initializing", "rayClusterName": .string(cluster), "jobId": .string("\(name)-\(SimulatedOperators.randomSuffix(5))"),
                                                             "jobStatus": "PENDING", "startTime": .string(KubeTime.format(Date()))])
        _ = try? await client.create(Pod.resourceType, pod)
    }

    private func headChanged(_ event: WatchEvent<Pod>) async {
        guard let pod = event.object, event.type != .deleted, pod.status?.phase == "Running", let name = pod.metadata.labels?["ray.io/job"],
            let uid = pod.metadata.uid, seen.withLock({ $0.insert("head/" + uid).inserted }),
            let job = try? await client.get(Job.self, name: name, namespace: pod.metadata.namespace), job.status?["jobDeploymentStatus"] == "Initializing"
        else { return }
        // KubeRay records the dashboard's address once the cluster is up, before it submits.
        let dashboard = JSONValue.string("\(job.status?["rayClusterName"]?.stringValue ?? name)-head-svc.\(pod.metadata.namespace ?? "default").svc.cluster.local:8265")
        _ = await writeStatus(name, pod.metadata.namespace, ["jobDeploymentStatus": "Running", "jobStatus": "RUNNING", "dashboardURL": dashboard])
        // The entrypoint runs beside the watch, which must go on.
        let task = Task { await self.finish(job, namespace: pod.metadata.namespace) }
        running.withLock { $0.append(task) }
    }

    /// Ends the job's entrypoint after its duration: Complete, or Failed as told.
    private func finish(_ job: Job, namespace: String?) async {
        let name = job.metadata.name ?? ""
        let env = SimulatedOperators.environment(job.spec?.value(atPath: "rayClusterSpec.headGroupSpec.template"))
        let duration = env["SANDBOX_DURATION"].flatMap(Double.init) ?? 0.2
        do { try await Task.sleep(for: .milliseconds(Int64(duration * 1000))) } catch { return }
        guard (try? await client.get(Job.self, name: name, namespace: namespace))?.metadata.uid == job.metadata.uid else { return }
        let end = JSONValue.string(KubeTime.format(Date()))
        if env["SANDBOX_RAY_JOB"] == "fail" || SimulatedOperators.attemptFails(job.metadata, env: env) {
            _ = await writeStatus(name, namespace, ["jobDeploymentStatus": "Failed", "jobStatus": "FAILED", "reason": "AppFailed",
                                                    "message": "Job entrypoint command failed with exit code 1", "endTime": end])
        } else {
            _ = await writeStatus(name, namespace, ["jobDeploymentStatus": "Complete", "jobStatus": "SUCCEEDED", "endTime": end])
        }
    }

    private func writeStatus(_ name: String, _ namespace: String?, _ status: JSONValue) async -> Bool {
        await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, status)
    }
}
