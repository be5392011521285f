import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient

/// What the three Kubeflow plugins (PyTorch, TensorFlow, MPI) share, as Flyte's
/// `kfoperators/common` does: replica specs built from the task's Pod, the run and restart
/// policies, the phase read from the job's conditions, the operator timeout, the log links,
/// and what the cache keeps of a job.
enum KubeflowCommon {
    /// One kind of replica as the task's payload describes it.
    struct Replicas {
        var count: Int32
        var image = ""
        var resources: Flyteidl2_Core_Resources?
        var restartPolicy: Flyteidl2_Plugins_RestartPolicy = .never
        /// The primary container's args, when the payload sets them (MPI's `command`); an
        /// empty list clears them.
        var args: [String]?
        /// Clears the primary container's command (MPI workers of payload version 0).
        var clearsCommand = false
    }

    /// The replicas a version 1 payload describes: `common` when it is set, else the
    /// deprecated fields (Flyte's `ToReplicaSpecWithOverrides`).
    static func replicas(_ spec: some KubeflowReplicaSpecMessage) -> Replicas {
        if spec.hasCommon {
            let c = spec.common
            return Replicas(count: c.replicas, image: c.image, resources: c.hasResources ? c.resources : nil, restartPolicy: c.restartPolicy)
        }
        return Replicas(count: spec.replicas, image: spec.image, resources: spec.hasResources ? spec.resources : nil, restartPolicy: spec.restartPolicy)
    }

    /// The task's Pod, as every replica starts from it.
    static func basePod(_ context: TaskExecutionContext, config: PluginConfig) throws -> Pod {
        try PodPlugin(config: config).build(context)
    }

    /// The job's own metadata: the task's Pod labels and annotations (k8s_pod, pod template),
    /// as Flyte's PyTorch plugin writes them on the job.
    static func jobMetadata(_ base: Pod) -> ObjectMeta {
        var metadata = ObjectMeta()
        metadata.labels = base.metadata.labels
        metadata.annotations = base.metadata.annotations
        return metadata
    }

    /// Flyte's `ToReplicaSpecWithOverrides`: the task's Pod with the primary container named
    /// `containerName` (the operator requires it), the replica's image, resources and args
    /// over the task's, the task's labels and annotations on the template. The template the
    /// executor watches a Pod of also carries the child's name (`carriesChildName`).
    static func replicaSpec(_ base: Pod, _ replicas: Replicas, containerName: String, context: TaskExecutionContext, config: PluginConfig, carriesChildName: Bool) throws -> JSONValue {
        var spec = base.spec ?? PodSpec(containers: [])
        let primary = PodPlugin.builtPrimaryContainer(base)
        guard let index = spec.containers.firstIndex(where: { $0.name == primary }) ?? spec.containers.indices.first else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: the task has no container", kind: .user)
        }
        spec.containers[index].name = containerName
        if !replicas.image.isEmpty { spec.containers[index].image = replicas.image }
        if let resources = replicas.resources, let requirements = try ResourceMapping.requirements(resources, gpuResourceName: config.gpuResourceName) {
            spec.containers[index].resources = requirements
        }
        if let args = replicas.args { spec.containers[index].args = args.isEmpty ? nil : args }
        if replicas.clearsCommand { spec.containers[index].command = nil }
        // The operator restarts replicas by the replica's policy, not the Pod's.
        spec.restartPolicy = nil
        var labels = base.metadata.labels ?? [:]
        for (k, v) in context.labels { labels[k] = v }
        if carriesChildName, context.generatedName.count <= 63 { labels[TaskActionLabels.childName] = context.generatedName }
        var annotations = base.metadata.annotations ?? [:]
        for (k, v) in context.annotations { annotations[k] = v }
        return [
            "replicas": .int(Int64(replicas.count)),
            "restartPolicy": .string(restartPolicy(replicas.restartPolicy)),
            "template": [
                "metadata": ["labels": .object(labels.mapValues(JSONValue.string)), "annotations": .object(annotations.mapValues(JSONValue.string))],
                "spec": try JSONValueEncoder().encode(spec),
            ],
        ]
    }

    /// Flyte's `ParseRestartPolicy`.
    static func restartPolicy(_ policy: Flyteidl2_Plugins_RestartPolicy) -> String {
        switch policy {
        case .onFailure: "OnFailure"
        case .always: "Always"
        default: "Never"
        }
    }

    /// Flyte's `ParseRunPolicy`: the clean-pod policy always, the rest when not zero.
    static func runPolicy(_ policy: Flyteidl2_Plugins_Kubeflow_RunPolicy) -> JSONValue {
        var out: JSONValue = [:]
        switch policy.cleanPodPolicy {
        case .running: out["cleanPodPolicy"] = "Running"
        case .all: out["cleanPodPolicy"] = "All"
        default: out["cleanPodPolicy"] = "None"
        }
        if policy.backoffLimit != 0 { out["backoffLimit"] = .int(Int64(policy.backoffLimit)) }
        if policy.activeDeadlineSeconds != 0 { out["activeDeadlineSeconds"] = .int(Int64(policy.activeDeadlineSeconds)) }
        if policy.ttlSecondsAfterFinished != 0 { out["ttlSecondsAfterFinished"] = .int(Int64(policy.ttlSecondsAfterFinished)) }
        return out
    }

    /// The refusal of a payload of a version the plugin does not read.
    static func unsupportedVersion(_ version: Int32) -> ExecutionError {
        ExecutionError(code: "BadTaskSpecification", message: "Invalid TaskSpecification, unsupported task template version [\(version)] key", kind: .user)
    }

    // MARK: Status

    /// The job's phase: no operator status within `kf-operator.timeout` is a system error;
    /// then the watched Pod's Pending and Failed rules (Flyte's `DemystifyFailedOrPendingPod`);
    /// then the job's conditions; the log context of the watched Pod once it has left Pending.
    /// Without links.
    static func phase<Kind: KubeflowJobKind>(_ job: CustomObject<Kind>, pod: Pod?, containerName: String, config: PluginConfig, kubeflow: KubeflowConfig, context: TaskExecutionContext) -> PhaseInfo {
        var info = phaseOfJob(job, pod: pod, containerName: containerName, config: config, kubeflow: kubeflow, context: context)
        if let pod, pod.status != nil, pod.status?.phase != "Pending" {
            info.logContext = PodPlugin.logContext(pod)
        }
        return info
    }

    private static func phaseOfJob<Kind: KubeflowJobKind>(_ job: CustomObject<Kind>, pod: Pod?, containerName: String, config: PluginConfig, kubeflow: KubeflowConfig, context: TaskExecutionContext) -> PhaseInfo {
        let created = job.metadata.creationTimestamp.flatMap(KubeTime.parse) ?? context.now
        let deadline = created.addingTimeInterval(TimeInterval(kubeflow.timeoutSeconds))
        if job.status?["startTime"] == nil, deadline < context.now {
            return .systemRetryableFailure("KubeflowOperatorTimeout", "kubeflow operator hasn't updated the \(Kind.framework) custom resource since creation time \(job.metadata.creationTimestamp ?? "")")
        }
        var recheck: Duration?
        if let pod {
            let (verdict, after) = PodPhaseMapper(config: config, now: context.now).relatedPod(pod, primary: containerName)
            if let verdict { return verdict }
            recheck = after
        }
        var info = conditionPhase(job.conditions)
        // Until the operator reports, look again at the deadline.
        if job.status?["startTime"] == nil {
            let wait = Duration.milliseconds(Int64(max(0, deadline.timeIntervalSince(context.now)) * 1000) + 1)
            recheck = recheck.map { min($0, wait) } ?? wait
        }
        if info.recheckAfter == nil { info.recheckAfter = recheck }
        return info
    }

    /// Flyte's `ExtractCurrentCondition` and `GetPhaseInfo`: the condition that turned true
    /// last decides. Times are whole seconds, so a job that ends within the second it was
    /// created has Created and Succeeded at one time: the later in the list wins (the operator
    /// appends), where Flyte's stable sort keeps Created and the task stays Queued.
    static func conditionPhase(_ conditions: [JSONValue]) -> PhaseInfo {
        if conditions.isEmpty { return .queued("JobCreated") }
        guard let current = CurrentCondition.of(conditions) else {
            return .systemRetryableFailure("NoCurrentCondition", "found no current condition. Conditions: \(JSONValue.array(conditions))")
        }
        switch current["type"]?.stringValue {
        case "Created":
            return .queued("JobCreated")
        case "Running", "Restarting":
            return .running()
        case "Succeeded":
            return .success()
        case "Failed":
            return .retryableFailure("DownstreamSystemError", "Job failed:\n\t\(current["reason"]?.stringValue ?? "") - \(current["message"]?.stringValue ?? "")")
        default:
            return .undefined
        }
    }

    static let terminalConditions: Set<String> = ["Succeeded", "Failed"]

    /// Flyte's: a Succeeded or Failed condition, whatever its status.
    static func isTerminal(_ conditions: [JSONValue]) -> Bool {
        conditions.contains { terminalConditions.contains($0["type"]?.stringValue ?? "") }
    }

    /// Flyte's `GetCompletionTime`: `completionTime`, else the terminal condition's time, else
    /// the start, else the creation.
    static func completionTime<Kind: KubeflowJobKind>(_ job: CustomObject<Kind>) -> Date? {
        if let done = job.status?["completionTime"]?.stringValue.flatMap(KubeTime.parse) { return done }
        for condition in job.conditions where terminalConditions.contains(condition["type"]?.stringValue ?? "") {
            if let at = condition["lastTransitionTime"]?.stringValue.flatMap(KubeTime.parse) { return at }
        }
        return (job.status?["startTime"]?.stringValue ?? job.metadata.creationTimestamp).flatMap(KubeTime.parse)
    }

    /// Keeps what the phase and the links read: the conditions and times, and the replica
    /// counts.
    static func cacheTransform<Kind: KubeflowJobKind>(_: Kind.Type) -> @Sendable (inout CustomObject<Kind>) -> Void {
        { job in
            var replicas: JSONValue = [:]
            for (type, spec) in job.replicaSpecs {
                replicas[type] = ["replicas": spec["replicas"] ?? 0]
            }
            job.trimForCache(spec: [Kind.replicaSpecsField: replicas], statusKeys: ["conditions", "startTime", "completionTime"])
        }
    }

    /// The RBAC rule for a Kubeflow plugin's children.
    static func rbacRule(_ type: ResourceType, task: String) -> PolicyRule {
        .children(of: type, comment: "\(type.kind)s of \(task) tasks: created per attempt, watched by a label-scoped informer, read\nwhen the cache lags, deleted on abort and between attempts, patched to take inject-finalizer's\nfinalizer off.")
    }
}

/// A version 1 payload's replica spec, alike in the three frameworks (Flyte's
/// `kfDistributedReplicaSpec` interface).
protocol KubeflowReplicaSpecMessage {
    var replicas: Int32 { get }
    var image: String { get }
    var resources: Flyteidl2_Core_Resources { get }
    var hasResources: Bool { get }
    var restartPolicy: Flyteidl2_Plugins_RestartPolicy { get }
    var common: Flyteidl2_Plugins_CommonReplicaSpec { get }
    var hasCommon: Bool { get }
}

extension Flyteidl2_Plugins_Kubeflow_DistributedPyTorchTrainingReplicaSpec: KubeflowReplicaSpecMessage {}
extension Flyteidl2_Plugins_Kubeflow_DistributedTensorflowTrainingReplicaSpec: KubeflowReplicaSpecMessage {}
extension Flyteidl2_Plugins_Kubeflow_DistributedMPITrainingReplicaSpec: KubeflowReplicaSpecMessage {}
