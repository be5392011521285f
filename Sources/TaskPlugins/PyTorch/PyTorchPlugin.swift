import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient

/// Runs `pytorch` tasks as Kubeflow `kubeflow.org/v1` PyTorchJobs, for the Kubeflow training
/// operator to run (Flyte's `kfoperators/pytorch` and `kfoperators/common`): a Master and
/// Workers from the task's Pod, or Workers only for an elastic (torchrun) job.
public struct PyTorchPlugin: KubernetesTaskPlugin {
    public typealias Child = PyTorchJob

    public let id = "pytorch"
    public let taskTypes = ["pytorch"]
    public let properties = PluginProperties()
    public let config: PluginConfig
    public let kubeflow: KubeflowConfig

    public init(config: PluginConfig = PluginConfig(), kubeflow: KubeflowConfig = KubeflowConfig()) {
        self.config = config
        self.kubeflow = kubeflow
    }

    /// The training operator requires its replicas' main container to have this name.
    public static let containerName = "pytorch"

    // MARK: Building

    /// One kind of replica as the task's payload describes it.
    struct Replicas {
        var count: Int32
        var image = ""
        var resources: Flyteidl2_Core_Resources?
        var restartPolicy: Flyteidl2_Plugins_RestartPolicy = .never
    }

    public func build(_ context: TaskExecutionContext) throws -> PyTorchJob {
        var master = Replicas(count: 1)
        var worker: Replicas
        var runPolicy: JSONValue = [:]
        var elastic: JSONValue?
        switch context.template.taskTypeVersion {
        case 0:
            let task = try CustomPayload.decode(Flyteidl2_Plugins_DistributedPyTorchTrainingTask.self, from: context.template, name: "DistributedPyTorchTrainingTask")
            worker = Replicas(count: task.workers)
            if task.hasElasticConfig { elastic = Self.elasticPolicy(task.elasticConfig) }
        case 1:
            let task = try CustomPayload.decode(Flyteidl2_Plugins_Kubeflow_DistributedPyTorchTrainingTask.self, from: context.template, name: "DistributedPyTorchTrainingTask")
            master = Self.replicas(task.masterReplicas)
            master.count = 1
            worker = Self.replicas(task.workerReplicas)
            if task.hasRunPolicy { runPolicy = Self.runPolicy(task.runPolicy) }
            if task.hasElasticConfig { elastic = Self.elasticPolicy(task.elasticConfig) }
        default:
            throw ExecutionError(code: "BadTaskSpecification", message: "Invalid TaskSpecification, unsupported task template version [\(context.template.taskTypeVersion)] key", kind: .user)
        }
        guard worker.count > 0 else {
            throw ExecutionError(code: "BadTaskSpecification", message: "number of workers must be greater than 0", kind: .user)
        }
        let base = try PodPlugin(config: config).build(context)
        var specs: JSONValue = ["Worker": try replicaSpec(base, worker, context: context, workerZero: true)]
        if elastic == nil { specs["Master"] = try replicaSpec(base, master, context: context, workerZero: false) }
        var spec: JSONValue = ["pytorchReplicaSpecs": specs, "runPolicy": runPolicy]
        if let elastic { spec["elasticPolicy"] = elastic }
        // The task's own Pod metadata (k8s_pod, pod template) on the job too, as Flyte's.
        var metadata = ObjectMeta()
        metadata.labels = base.metadata.labels
        metadata.annotations = base.metadata.annotations
        return PyTorchJob(metadata: metadata, spec: spec)
    }

    /// The replicas a v1 payload describes: `common` when it is set, else the deprecated fields.
    static func replicas(_ spec: Flyteidl2_Plugins_Kubeflow_DistributedPyTorchTrainingReplicaSpec) -> Replicas {
        if spec.hasCommon {
            let c = spec.common
            return Replicas(count: c.replicas, image: c.image, resources: c.hasResources ? c.resources : nil, restartPolicy: c.restartPolicy)
        }
        return Replicas(count: spec.replicas, image: spec.image, resources: spec.hasResources ? spec.resources : nil, restartPolicy: spec.restartPolicy)
    }

    /// Flyte's `ToReplicaSpecWithOverrides`: the task's Pod with the primary container named
    /// `pytorch`, the replica's image and resources over the task's, the task's labels and
    /// annotations on the template. Worker 0's template also carries the child's name, so the
    /// executor watches that Pod (its fate is the job's first, as in Flyte).
    func replicaSpec(_ base: Pod, _ replicas: Replicas, context: TaskExecutionContext, workerZero: Bool) throws -> JSONValue {
        var spec = base.spec ?? PodSpec(containers: [])
        let primary = base.metadata.annotations?[PodPlugin.primaryContainerAnnotation] ?? spec.containers.first?.name
        guard let index = spec.containers.firstIndex(where: { $0.name == primary }) ?? spec.containers.indices.first else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: the PyTorch task has no container", kind: .user)
        }
        spec.containers[index].name = Self.containerName
        if !replicas.image.isEmpty { spec.containers[index].image = replicas.image }
        if let resources = replicas.resources, let requirements = try ResourceMapping.requirements(resources, gpuResourceName: config.gpuResourceName) {
            spec.containers[index].resources = requirements
        }
        // The operator restarts replicas by the replica's policy, not the Pod's.
        spec.restartPolicy = nil
        var labels = base.metadata.labels ?? [:]
        for (k, v) in context.labels { labels[k] = v }
        if workerZero, context.generatedName.count <= 63 { labels[TaskActionLabels.childName] = context.generatedName }
        var annotations = base.metadata.annotations ?? [:]
        for (k, v) in context.annotations { annotations[k] = v }
        return [
            "replicas": .int(Int64(replicas.count)),
            "restartPolicy": .string(Self.restartPolicy(replicas.restartPolicy)),
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

    /// Flyte's `ParseElasticConfig`, for either version's message: every field written, zeros
    /// included.
    static func elasticPolicy(_ e: some ElasticSettings) -> JSONValue {
        ["minReplicas": .int(Int64(e.minReplicas)), "maxReplicas": .int(Int64(e.maxReplicas)), "rdzvBackend": .string(e.rdzvBackend),
         "nProcPerNode": .int(Int64(e.nprocPerNode)), "maxRestarts": .int(Int64(e.maxRestarts))]
    }

    // MARK: Status

    /// Worker 0, whose Pending and Failed rules decide before the job's own status (Flyte's
    /// `DemystifyFailedOrPendingPod` on `<job>-worker-0`).
    public var relatedPod: RelatedPod<PyTorchJob>? {
        RelatedPod { job in job.metadata.name.map { "\($0)-worker-0" } }
    }

    public func phase(of job: PyTorchJob, context: TaskExecutionContext) -> PhaseInfo {
        phase(of: job, relatedPod: nil, context: context)
    }

    public func phase(of job: PyTorchJob, relatedPod worker: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        var info = phaseBeforeLinks(job, worker: worker, context: context)
        info.links = links(job, context: context)
        if let worker, worker.status != nil, worker.status?.phase != "Pending" {
            info.logContext = PodPlugin.logContext(worker)
        }
        return info
    }

    private func phaseBeforeLinks(_ job: PyTorchJob, worker: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        let created = job.metadata.creationTimestamp.flatMap(KubeTime.parse) ?? context.now
        let deadline = created.addingTimeInterval(TimeInterval(kubeflow.timeoutSeconds))
        if job.status?["startTime"] == nil, deadline < context.now {
            return .systemRetryableFailure("KubeflowOperatorTimeout", "kubeflow operator hasn't updated the pytorch custom resource since creation time \(job.metadata.creationTimestamp ?? "")")
        }
        var recheck: Duration?
        if let worker {
            let (verdict, after) = PodPhaseMapper(config: config, now: context.now).relatedPod(worker, primary: Self.containerName)
            if let verdict { return verdict }
            recheck = after
        }
        var info = Self.conditionPhase(job)
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
    static func conditionPhase(_ job: PyTorchJob) -> PhaseInfo {
        let conditions = job.conditions
        if conditions.isEmpty { return .queued("JobCreated") }
        let current = conditions.enumerated()
            .filter { $0.element["status"]?.stringValue == "True" }
            .max { a, b in
                let at = KubeTime.parse(a.element["lastTransitionTime"]?.stringValue ?? "") ?? .distantPast
                let bt = KubeTime.parse(b.element["lastTransitionTime"]?.stringValue ?? "") ?? .distantPast
                return (at, a.offset) < (bt, b.offset)
            }?.element
        guard let current else {
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

    /// Flyte's `common.GetLogs` for a PyTorchJob: the master's links (their names ending in
    /// `master`), then each worker's, with the job's creation as the Pods' start and the
    /// container `pytorch`.
    func links(_ job: PyTorchJob, context: TaskExecutionContext) -> [LogLink] {
        let templates = config.logs.templates(for: context.template)
        let dynamic = config.logs.dynamicTemplates(for: context.template)
        guard !templates.isEmpty || !dynamic.isEmpty, let name = job.metadata.name else { return [] }
        let started = job.metadata.creationTimestamp.flatMap(KubeTime.parse) ?? context.now
        var common = LogLinkVariables.task(context)
        common.merge([
            "namespace": job.metadata.namespace ?? context.namespace, "containername": Self.containerName,
            "podrfc3339starttime": LogLinkVariables.rfc3339(started), "podrfc3339finishtime": LogLinkVariables.rfc3339(context.now),
            "podunixstarttime": String(Int64(started.timeIntervalSince1970)), "podunixfinishtime": String(Int64(context.now.timeIntervalSince1970)),
        ]) { $1 }
        var pods: [(pod: String, logName: String)] = job.hasMaster ? [("\(name)-master-0", "master")] : []
        pods += (0..<job.replicas("Worker")).map { ("\(name)-worker-\($0)", "") }
        return pods.flatMap { pod, logName -> [LogLink] in
            var variables = common
            variables["podname"] = pod
            variables["logname"] = logName
            return (templates.flatMap { $0.links(variables) } + LogsConfig.dynamicLinks(dynamic, variables, template: context.template)).map { link -> LogLink in
                var link = link
                link.name += logName
                return link
            }
        }
    }

    static let terminalConditions: Set<String> = ["Succeeded", "Failed"]

    /// Flyte's: a Succeeded or Failed condition, whatever its status.
    public func isTerminal(_ job: PyTorchJob) -> Bool {
        job.conditions.contains { Self.terminalConditions.contains($0["type"]?.stringValue ?? "") }
    }

    public func completionTime(_ job: PyTorchJob) -> Date? {
        if let done = job.status?["completionTime"]?.stringValue.flatMap(KubeTime.parse) { return done }
        for condition in job.conditions where Self.terminalConditions.contains(condition["type"]?.stringValue ?? "") {
            if let at = condition["lastTransitionTime"]?.stringValue.flatMap(KubeTime.parse) { return at }
        }
        return (job.status?["startTime"]?.stringValue ?? job.metadata.creationTimestamp).flatMap(KubeTime.parse)
    }

    /// Keeps what the phase and the links read: the conditions and times, and the replica
    /// counts.
    public var cacheTransform: (@Sendable (inout PyTorchJob) -> Void)? {
        { job in
            var replicas: JSONValue = [:]
            for (type, spec) in job.spec?.value(atPath: "pytorchReplicaSpecs")?.objectValue ?? [:] {
                replicas[type] = ["replicas": spec["replicas"] ?? 0]
            }
            job.spec = ["pytorchReplicaSpecs": replicas]
            job.metadata.managedFields = nil
            job.metadata.unknownFields = [:]
            job.metadata.annotations = nil
            guard let status = job.status else { return }
            var kept: JSONValue = [:]
            for key in ["conditions", "startTime", "completionTime"] { kept[key] = status[key] }
            job.status = kept
        }
    }

    public var rbacRules: [PolicyRule] {
        [.children(of: PyTorchJob.resourceType, comment: "PyTorchJobs of pytorch tasks: created per attempt, watched by a label-scoped informer, read\nwhen the cache lags, deleted on abort and between attempts, patched to take inject-finalizer's\nfinalizer off.")]
    }
}

/// The elastic (torchrun) settings, alike in both versions of the payload (Flyte's
/// `ElasticConfig` interface).
protocol ElasticSettings {
    var rdzvBackend: String { get }
    var minReplicas: Int32 { get }
    var maxReplicas: Int32 { get }
    var nprocPerNode: Int32 { get }
    var maxRestarts: Int32 { get }
}

extension Flyteidl2_Plugins_ElasticConfig: ElasticSettings {}
extension Flyteidl2_Plugins_Kubeflow_ElasticConfig: ElasticSettings {}
