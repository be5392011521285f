import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient

/// Runs `dask` tasks (flyte-sdk's `flyteplugins.dask`) as `kubernetes.dask.org/v1` DaskJobs
/// for the Dask Kubernetes operator, built and read as Flyte's `plugins/k8s/dask`: the task's
/// Pod as the job runner, a scheduler and `numberOfWorkers` workers from it, the job runner and
/// the scheduler never interruptible.
///
/// Unlike Flyte's, where it cannot list Pods per round: `{{ .daskSchedulerName }}` is the
/// scheduler's Deployment and Service name, `<cluster>-scheduler` (Flyte looks up the
/// scheduler Pod's own name), and the dashboard and IDE links are ready while the job runs
/// (Flyte asks the scheduler Pod's Ready condition; the operator starts the job runner after
/// the scheduler). A worker's `--nthreads` and `--memory-limit` are written for the limits set
/// (Flyte writes `0` for a missing one).
public struct DaskPlugin: KubernetesTaskPlugin {
    public typealias Child = DaskJob

    public let id = "dask"
    public let taskTypes = ["dask"]
    public let properties = PluginProperties()
    public let config: PluginConfig
    public let dask: DaskConfig

    public init(config: PluginConfig = PluginConfig(), dask: DaskConfig = DaskConfig()) {
        self.config = config
        self.dask = dask
    }

    /// The job runner's container, as the operator and Flyte name it.
    public static let jobRunnerContainer = "job-runner"

    // MARK: Building

    public func build(_ context: TaskExecutionContext) throws -> DaskJob {
        let job = try CustomPayload.decode(Flyteidl2_Plugins_DaskJob.self, from: context.template, name: "DaskJob")
        let pod = try PodPlugin(config: config).build(context)
        var steady = context
        steady.interruptible = false
        let steadyPod = try PodPlugin(config: config).build(steady)
        let primary = try primaryContainer(pod)

        // The task's Pod metadata and the execution's labels and annotations: the job's, and
        // (through the operator) every Pod's.
        var metadata = ObjectMeta()
        metadata.labels = (pod.metadata.labels ?? [:]).merging(context.labels) { $1 }
        metadata.annotations = (pod.metadata.annotations ?? [:]).merging(context.annotations) { $1 }

        let cluster = context.generatedName
        let worker = try workerSpec(job.workers, pod: pod, primary: primary)
        let scheduler = try schedulerSpec(job.scheduler, cluster: cluster, pod: steadyPod, primary: primary, context: context)
        var runner = try JSONValueEncoder().encode(steadyPod.spec ?? PodSpec(containers: []))
        runner["restartPolicy"] = "Never"
        try Self.renamePrimary(&runner, primary, to: Self.jobRunnerContainer)
        // The runner Pod carries the child's name, so the executor watches it.
        var runnerLabels: JSONValue = [:]
        if context.generatedName.count <= 63 { runnerLabels[TaskActionLabels.childName] = .string(context.generatedName) }

        let spec: JSONValue = [
            "job": ["metadata": ["labels": runnerLabels], "spec": runner],
            "cluster": [
                "metadata": ["labels": .object((metadata.labels ?? [:]).mapValues(JSONValue.string)), "annotations": .object((metadata.annotations ?? [:]).mapValues(JSONValue.string))],
                "spec": ["worker": worker, "scheduler": scheduler],
            ],
        ]
        return DaskJob(metadata: metadata, spec: spec)
    }

    /// Flyte's `createWorkerSpec`: the task's Pod, its primary container named `dask-worker`
    /// running `dask worker`, the group's image and resources over the task's, restart policy
    /// Always (the operator runs workers as Deployments).
    func workerSpec(_ group: Flyteidl2_Plugins_DaskWorkerGroup, pod: Pod, primary: String) throws -> JSONValue {
        var spec = pod.spec ?? PodSpec(containers: [])
        let index = try override(&spec, primary: primary, image: group.image, resources: group.hasResources ? group.resources : nil)
        var args = ["dask", "worker", "--name", "$(DASK_WORKER_NAME)"]
        // Dask's advice: threads and memory as the limits allow.
        let limits = spec.containers[index].resources?.limits ?? [:]
        if let cpu = limits["cpu"], case .success(let cores) = ResourceQuantity.parse(cpu) {
            args += ["--nthreads", String(Int(cores.rounded(.up)))]
        }
        if let memory = limits["memory"] { args += ["--memory-limit", memory] }
        spec.containers[index].args = args
        spec.containers[index].name = "dask-worker"
        spec.restartPolicy = "Always"
        return ["replicas": .int(Int64(group.numberOfWorkers)), "spec": try JSONValueEncoder().encode(spec)]
    }

    /// Flyte's `createSchedulerSpec`: the task's Pod (never interruptible), its primary
    /// container named `scheduler` running `dask scheduler` (with the dashboard prefix from
    /// `dask.logs`), its ports, a readiness probe on the dashboard unless it has one, and a
    /// NodePort Service selecting it.
    func schedulerSpec(_ scheduler: Flyteidl2_Plugins_DaskScheduler, cluster: String, pod: Pod, primary: String, context: TaskExecutionContext) throws -> JSONValue {
        var spec = pod.spec ?? PodSpec(containers: [])
        let index = try override(&spec, primary: primary, image: scheduler.image, resources: scheduler.hasResources ? scheduler.resources : nil)
        var args = ["dask", "scheduler"]
        if let prefix = dashboardPrefix(context) { args += ["--dashboard-prefix", prefix] }
        spec.containers[index].args = args
        spec.containers[index].name = "scheduler"
        spec.containers[index].unknownFields["ports"] = [
            ["name": "tcp-comm", "containerPort": 8786, "protocol": "TCP"],
            ["name": "dashboard", "containerPort": 8787, "protocol": "TCP"],
        ]
        if spec.containers[index].unknownFields["readinessProbe"] == nil {
            spec.containers[index].unknownFields["readinessProbe"] = ["httpGet": ["port": "dashboard"], "initialDelaySeconds": 5, "periodSeconds": 5, "failureThreshold": 30]
        }
        spec.restartPolicy = "Always"
        return [
            "spec": try JSONValueEncoder().encode(spec),
            "service": [
                "type": "NodePort",
                "selector": ["dask.org/cluster-name": .string(cluster), "dask.org/component": "scheduler"],
                "ports": [
                    ["name": "tcp-comm", "protocol": "TCP", "port": 8786, "targetPort": "tcp-comm"],
                    ["name": "dashboard", "protocol": "TCP", "port": 8787, "targetPort": "dashboard"],
                ],
            ],
        ]
    }

    /// The payload's image and resources (when it gives requests or limits) over the primary
    /// container's; the container's index.
    func override(_ spec: inout PodSpec, primary: String, image: String, resources: Flyteidl2_Core_Resources?) throws -> Int {
        guard let index = spec.containers.firstIndex(where: { $0.name == primary }) else { throw Self.noPrimary(primary) }
        if !image.isEmpty { spec.containers[index].image = image }
        if let resources, !(resources.requests.isEmpty && resources.limits.isEmpty) {
            spec.containers[index].resources = try ResourceMapping.requirements(resources, gpuResourceName: config.gpuResourceName)
        }
        return index
    }

    /// Flyte's `dashboardPrefixFromLogConfig`: the path of the first dashboard link `dask.logs`
    /// makes for the task, less a trailing `/status` (the tab the link lands on); nil without one.
    func dashboardPrefix(_ context: TaskExecutionContext) -> String? {
        var variables = LogLinkVariables.task(context)
        variables["namespace"] = context.namespace
        let link = dask.logs.templates(for: context.template).flatMap { $0.links(variables) }.first { $0.linkType == .dashboard }
        guard let uri = link?.uri, let path = URLComponents(string: uri)?.path else { return nil }
        return path.hasSuffix("/status") ? String(path.dropLast("/status".count)) : path
    }

    func primaryContainer(_ pod: Pod) throws -> String {
        guard let name = PodPlugin.builtPrimaryContainer(pod) else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: the Dask task has no container", kind: .user)
        }
        return name
    }

    static func renamePrimary(_ spec: inout JSONValue, _ primary: String, to name: String) throws {
        guard var containers = spec["containers"]?.arrayValue, let index = containers.firstIndex(where: { $0["name"]?.stringValue == primary }) else {
            throw noPrimary(primary)
        }
        containers[index]["name"] = .string(name)
        spec["containers"] = .array(containers)
    }

    static func noPrimary(_ name: String) -> ExecutionError {
        ExecutionError(code: "BadTaskSpecification", message: "primary container [\(name)] not found in pod spec", kind: .user)
    }

    // MARK: Status

    /// The job runner, whose Pending and Failed rules decide before the job's own status
    /// (Flyte's `DemystifyFailedOrPendingPod` on it).
    public var relatedPod: RelatedPod<DaskJob>? {
        RelatedPod { job in job.jobRunnerPodName ?? job.metadata.name.map { "\($0)-runner" } }
    }

    public func phase(of job: DaskJob, context: TaskExecutionContext) -> PhaseInfo {
        phase(of: job, relatedPod: nil, context: context)
    }

    /// Flyte's `GetTaskPhase`: the job runner first, then `jobStatus`; the links of `dask.logs`
    /// for the job runner, the dashboard's and IDE's ready while the job runs.
    public func phase(of job: DaskJob, relatedPod runner: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        var info = phaseBeforeLinks(job, runner: runner, context: context)
        info.links = links(job, context: context)
        if let podName = job.jobRunnerPodName {
            info.logContext = Self.logContext(podName: podName, namespace: job.metadata.namespace ?? context.namespace)
        }
        if !info.phase.isFailure {
            let ready = job.jobStatus == "Running"
            for index in info.links.indices where info.links[index].linkType == .dashboard || info.links[index].linkType == .ide {
                info.links[index].ready = ready
                let what = info.links[index].linkType == .dashboard ? "Dask dashboard" : "Vscode server"
                info.reason = ready && info.phase == .running ? "\(what) is ready" : "\(what) is not ready"
            }
        }
        return info
    }

    private func phaseBeforeLinks(_ job: DaskJob, runner: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        var recheck: Duration?
        if let runner {
            let (verdict, after) = PodPhaseMapper(config: config, now: context.now).relatedPod(runner, primary: Self.jobRunnerContainer)
            if let verdict { return verdict }
            recheck = after
        }
        var info: PhaseInfo
        switch job.jobStatus {
        case "": info = .initializing("unknown")
        case "JobCreated": info = .initializing("job created")
        case "ClusterCreated": info = .initializing("cluster created")
        case "Failed": info = .retryableFailure("DownstreamSystemError", "Dask Job failed")
        case "Successful": info = .success()
        default: info = .running()
        }
        if info.recheckAfter == nil { info.recheckAfter = recheck }
        return info
    }

    /// `dask.logs` for the job runner, with `{{ .daskSchedulerName }}`.
    func links(_ job: DaskJob, context: TaskExecutionContext) -> [LogLink] {
        let templates = dask.logs.templates(for: context.template)
        let dynamic = dask.logs.dynamicTemplates(for: context.template)
        guard !templates.isEmpty || !dynamic.isEmpty else { return [] }
        var variables = LogLinkVariables.task(context)
        variables["namespace"] = job.metadata.namespace ?? context.namespace
        variables["podname"] = job.jobRunnerPodName ?? ""
        variables["daskschedulername"] = "\(job.status?["clusterName"]?.stringValue ?? job.metadata.name ?? "")-scheduler"
        return templates.flatMap { $0.links(variables) } + LogsConfig.dynamicLinks(dynamic, variables, template: context.template)
    }

    /// Flyte's log context for a Dask task: the job runner, its container `job-runner`.
    static func logContext(podName: String, namespace: String) -> Flyteidl2_Core_LogContext {
        var container = Flyteidl2_Core_ContainerContext()
        container.containerName = jobRunnerContainer
        var pod = Flyteidl2_Core_PodLogContext()
        pod.namespace = namespace
        pod.podName = podName
        pod.primaryContainerName = jobRunnerContainer
        pod.containers = [container]
        var context = Flyteidl2_Core_LogContext()
        context.primaryPodName = podName
        context.pods = [pod]
        return context
    }

    public func isTerminal(_ job: DaskJob) -> Bool {
        job.jobStatus == "Successful" || job.jobStatus == "Failed"
    }

    /// Flyte's: `endTime`, else `startTime`, else the creation.
    public func completionTime(_ job: DaskJob) -> Date? {
        (job.status?["endTime"]?.stringValue ?? job.status?["startTime"]?.stringValue ?? job.metadata.creationTimestamp).flatMap(KubeTime.parse)
    }

    /// Keeps what the phase and the links read: the status's names, state and times.
    public var cacheTransform: (@Sendable (inout DaskJob) -> Void)? {
        { job in job.trimForCache(statusKeys: ["jobStatus", "jobRunnerPodName", "clusterName", "startTime", "endTime"]) }
    }

    public var rbacRules: [PolicyRule] {
        [.children(of: DaskJob.resourceType, comment: "DaskJobs of dask tasks: created per attempt, watched by a label-scoped informer, read\nwhen the cache lags, deleted on abort and between attempts, patched to take inject-finalizer's\nfinalizer off.")]
    }
}
