import Foundation
import KubeClient
import Synchronization

/// The JobSet controller (with the Job controller it drives), simulated: each replicated job's
/// Jobs run their indexed Pods, `<jobset>-<replicatedJob>-<jobIndex>-<podIndex>-<random>`
/// (labelled and annotated as the controllers label them, `JOB_COMPLETION_INDEX` set, hostname
/// `<jobset>-<replicatedJob>-<jobIndex>-<podIndex>`, owned by the JobSet). A Job with a failed Pod
/// fails (backoff limit 0); a failed Job restarts the whole set while `failurePolicy.maxRestarts`
/// allows (`restarts` counted, `RestartingJobSet` true, the Pods recreated with the next
/// `restart-attempt`), and fails it after (`ReachedMaxRestarts`, or `FailedJobs` without a
/// failure policy); every Job done completes it (`AllJobsCompleted`). `replicatedJobsStatus`
/// counts Jobs as the controller does. The Pods' fates are the ``SimulatedKubelet``'s.
/// Not simulated: Jobs and the headless Service as objects, success policies other than All,
/// failure policy rules, startup policies, suspension, TTL.
final class SimulatedJobSetController: Sendable, CustomObjectKind {
    static let resourceType = ResourceType(group: "jobset.x-k8s.io", version: "v1alpha2", kind: "JobSet", plural: "jobsets", namespaced: true)
    typealias JobSet = CustomObject<SimulatedJobSetController>
    static let nameLabel = "jobset.sigs.k8s.io/jobset-name"
    static let replicatedJobLabel = "jobset.sigs.k8s.io/replicatedjob-name"
    static let jobIndexLabel = "jobset.sigs.k8s.io/job-index"
    static let restartLabel = "jobset.sigs.k8s.io/restart-attempt"
    static let completionIndexLabel = "batch.kubernetes.io/job-completion-index"

    let client: KubernetesClient
    private let seen = Mutex<Set<String>>([])

    init(client: KubernetesClient) {
        self.client = client
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await WatchLoop.run(self.client, JobSet.self) { event in await self.setChanged(event) } }
            group.addTask { await WatchLoop.run(self.client, Pod.self, labelSelector: Self.nameLabel) { event in await self.podChanged(event) } }
        }
    }

    private func setChanged(_ event: WatchEvent<JobSet>) async {
        guard case .added(let set) = event, set.metadata.deletionTimestamp == nil, set.status?["restarts"] == nil,
            let uid = set.metadata.uid, seen.withLock({ $0.insert(uid).inserted })
        else { return }
        let namespace = set.metadata.namespace ?? "default"
        let jobs = (set.spec?["replicatedJobs"]?.arrayValue ?? []).map { ["name": $0["name"] ?? "", "ready": 0, "succeeded": 0, "failed": 0, "active": .int($0["replicas"]?.intValue ?? 1), "suspended": 0] as JSONValue }
        guard await SimulatedOperators.writeStatus(client, Self.resourceType, set.metadata.name ?? "", namespace, ["restarts": 0, "replicatedJobsStatus": .array(jobs)]) else { return }
        await createPods(set, attempt: 0)
    }

    /// The Pods of every Job of every replicated job, for restart `attempt`.
    private func createPods(_ set: JobSet, attempt: Int) async {
        let name = set.metadata.name ?? ""
        let namespace = set.metadata.namespace ?? "default"
        for replicated in set.spec?["replicatedJobs"]?.arrayValue ?? [] {
            let rj = replicated["name"]?.stringValue ?? ""
            let jobSpec = replicated.value(atPath: "template.spec") ?? [:]
            let template = jobSpec["template"] ?? [:]
            let count = Int(jobSpec["parallelism"]?.intValue ?? jobSpec["completions"]?.intValue ?? 1)
            for jobIndex in 0..<Int(replicated["replicas"]?.intValue ?? 1) {
                for podIndex in 0..<count {
                    var labels = template.value(atPath: "metadata.labels")?.objectValue ?? [:]
                    var annotations = template.value(atPath: "metadata.annotations")?.objectValue ?? [:]
                    for (key, value) in [(Self.nameLabel, name), (Self.replicatedJobLabel, rj), (Self.jobIndexLabel, String(jobIndex)),
                                         (Self.restartLabel, String(attempt)), (Self.completionIndexLabel, String(podIndex))] {
                        labels[key] = .string(value)
                        annotations[key] = .string(value)
                    }
                    var spec = template["spec"] ?? [:]
                    let hostname = "\(name)-\(rj)-\(jobIndex)-\(podIndex)"
                    spec["hostname"] = .string(hostname)
                    if var containers = spec["containers"]?.arrayValue {
                        for i in containers.indices {
                            containers[i]["env"] = .array((containers[i]["env"]?.arrayValue ?? []) + [["name": "JOB_COMPLETION_INDEX", "value": .string(String(podIndex))]])
                        }
                        spec["containers"] = .array(containers)
                    }
                    let pod: JSONValue = [
                        "apiVersion": "v1", "kind": "Pod",
                        "metadata": ["name": .string("\(hostname)-\(SimulatedOperators.randomSuffix(5))"), "namespace": .string(namespace),
                                     "labels": .object(labels), "annotations": .object(annotations), "ownerReferences": [SimulatedOperators.owner(Self.resourceType, set.metadata)]],
                        "spec": spec,
                    ]
                    _ = try? await client.create(Pod.resourceType, pod)
                }
            }
        }
    }

    /// Derives the set's Jobs from its Pods of the current attempt and moves the set, as the
    /// controller does on each Job change.
    private func podChanged(_ event: WatchEvent<Pod>) async {
        guard let pod = event.object, event.type != .deleted, let name = pod.metadata.labels?[Self.nameLabel], let namespace = pod.metadata.namespace else { return }
        guard let set = try? await client.get(JobSet.self, name: name, namespace: namespace), set.metadata.deletionTimestamp == nil,
            !set.conditions.contains(where: { ["Completed", "Failed"].contains($0["type"]?.stringValue ?? "") && $0["status"] == "True" })
        else { return }
        let restarts = Int(set.status?["restarts"]?.intValue ?? 0)
        guard pod.metadata.labels?[Self.restartLabel] == String(restarts) else { return }
        let selector = "\(Self.nameLabel)=\(name),\(Self.restartLabel)=\(restarts)"
        guard let pods = try? await client.list(Pod.self, namespace: namespace, options: ListOptions(labelSelector: selector)).items else { return }

        // One Job per (replicated job, index): failed with any failed Pod (backoff limit 0),
        // done with every Pod done, ready with every Pod running.
        var statuses: [JSONValue] = []
        var failedJob: String?
        var allDone = true
        var allReady = true
        for replicated in set.spec?["replicatedJobs"]?.arrayValue ?? [] {
            let rj = replicated["name"]?.stringValue ?? ""
            let count = Int(replicated.value(atPath: "template.spec.parallelism")?.intValue ?? 1)
            var (ready, succeeded, failed, active) = (0, 0, 0, 0)
            for jobIndex in 0..<Int(replicated["replicas"]?.intValue ?? 1) {
                let mine = pods.filter { $0.metadata.labels?[Self.replicatedJobLabel] == rj && $0.metadata.labels?[Self.jobIndexLabel] == String(jobIndex) }
                if mine.contains(where: { $0.status?.phase == "Failed" }) {
                    failed += 1
                    failedJob = failedJob ?? "\(name)-\(rj)-\(jobIndex)"
                } else if mine.count == count, mine.allSatisfy({ $0.status?.phase == "Succeeded" }) {
                    succeeded += 1
                } else {
                    active += 1
                    allDone = false
                    if mine.count == count, mine.allSatisfy({ $0.status?.phase == "Running" }) { ready += 1 } else { allReady = false }
                }
            }
            statuses.append(["name": .string(rj), "ready": .int(Int64(ready)), "succeeded": .int(Int64(succeeded)), "failed": .int(Int64(failed)), "active": .int(Int64(active)), "suspended": 0])
        }
        let now = JSONValue.string(KubeTime.format(Date()))
        func condition(_ type: String, _ status: Bool, _ reason: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": status ? "True" : "False", "reason": .string(reason), "message": .string(message), "lastTransitionTime": now]
        }
        /// The conditions with `new` in place of one of its type.
        func setting(_ new: JSONValue...) -> JSONValue {
            var conditions = set.conditions
            for c in new {
                if let index = conditions.firstIndex(where: { $0["type"] == c["type"] }) { conditions[index] = c } else { conditions.append(c) }
            }
            return .array(conditions)
        }
        let maxRestarts = set.spec?.value(atPath: "failurePolicy.maxRestarts")?.intValue.map(Int.init)
        let restarting = set.conditions.contains { $0["type"] == "RestartingJobSet" && $0["status"] == "True" }
        if let failedJob {
            if let maxRestarts, restarts < maxRestarts {
                // Recreate every Job: the failed attempt's Pods go, the next attempt's come.
                for old in pods { _ = try? await client.delete(Pod.self, name: old.metadata.name ?? "", namespace: namespace, options: DeleteOptions(gracePeriodSeconds: 0)) }
                let message = "applying RestartJobSet failure policy action (first failed job: \(failedJob))"
                guard await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, [
                    "restarts": .int(Int64(restarts + 1)), "replicatedJobsStatus": .array(statuses),
                    "conditions": setting(condition("RestartingJobSet", true, "DefaultFailurePolicy", message)),
                ]) else { return }
                await createPods(set, attempt: restarts + 1)
            } else {
                let (reason, message) = maxRestarts == nil ? ("FailedJobs", "jobset failed due to one or more job failures") : ("ReachedMaxRestarts", "jobset failed due to reaching max number of restarts")
                _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, [
                    "replicatedJobsStatus": .array(statuses), "terminalState": "Failed",
                    "conditions": restarting ? setting(condition("Failed", true, reason, message), condition("RestartingJobSet", false, "JobSetFailed", "jobset failed"))
                                             : setting(condition("Failed", true, reason, message)),
                ])
            }
        } else if allDone {
            _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, [
                "replicatedJobsStatus": .array(statuses), "terminalState": "Completed",
                "conditions": restarting ? setting(condition("Completed", true, "AllJobsCompleted", "jobset completed successfully"), condition("RestartingJobSet", false, "JobSetCompleted", "jobset completed"))
                                         : setting(condition("Completed", true, "AllJobsCompleted", "jobset completed successfully")),
            ])
        } else if restarting, allReady {
            _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, [
                "replicatedJobsStatus": .array(statuses), "conditions": setting(condition("RestartingJobSet", false, "JobsReady", "all jobs are ready")),
            ])
        } else {
            _ = await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, ["replicatedJobsStatus": .array(statuses)])
        }
    }
}
