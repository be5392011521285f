import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient

/// Runs `ray` tasks as `ray.io/v1` RayJobs with an embedded cluster (Flyte's ray plugin,
/// spec §8.2), for KubeRay to run.
public struct RayPlugin: KubernetesTaskPlugin {
    public typealias Child = RayJob

    public let id = "ray"
    public let taskTypes = ["ray"]
    /// KubeRay derives Service and Pod names from the job's; 47 keeps them within 63.
    public let properties = PluginProperties(generatedNameMaxLength: 47)
    public let config: PluginConfig
    public let ray: RayConfig

    public init(config: PluginConfig = PluginConfig(), ray: RayConfig = RayConfig()) {
        self.config = config
        self.ray = ray
    }

    public static let headContainer = "ray-head"
    public static let workerContainer = "ray-worker"
    static let submissionModes: Set<String> = ["K8sJobMode", "HTTPMode", "SidecarMode"]

    // MARK: Building

    public func build(_ context: TaskExecutionContext) throws -> RayJob {
        let job = try CustomPayload.decode(Flyteidl2_Plugins_RayJob.self, from: context.template, name: "RayJob")
        guard job.hasRayCluster else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: RayJob needs rayCluster", kind: .user)
        }
        guard Self.submissionModes.contains(ray.submissionMode) else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid submission mode \"\(ray.submissionMode)\": use K8sJobMode, HTTPMode or SidecarMode", kind: .user)
        }
        let cluster = job.rayCluster
        let base = try PodPlugin(config: config).build(context)
        let primaryName = base.metadata.annotations?[PodPlugin.primaryContainerAnnotation]
        guard let primary = base.spec?.containers.first(where: { $0.name == primaryName }) ?? base.spec?.containers.first else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: the Ray task has no container", kind: .user)
        }
        let serviceAccount = context.serviceAccount ?? ray.serviceAccount

        // Head.
        var headParams = cluster.headGroupSpec.rayStartParams.isEmpty ? ray.defaultRayStartParams : cluster.headGroupSpec.rayStartParams
        if headParams["include-dashboard"] == nil { headParams["include-dashboard"] = ray.includeDashboard ? "true" : "false" }
        if headParams["node-ip-address"] == nil { headParams["node-ip-address"] = "$MY_POD_IP" }
        if headParams["dashboard-host"] == nil { headParams["dashboard-host"] = ray.dashboardHost }
        if !ray.enableUsageStats, headParams["disable-usage-stats"] == nil { headParams["disable-usage-stats"] = "true" }
        var headLabels = context.labels
        headLabels[TaskActionLabels.managed] = "true"
        if context.generatedName.count <= 57 { headLabels[TaskActionLabels.childName] = context.generatedName }
        let headPod = try groupPod(base, primary: primary.name, group: cluster.headGroupSpec.hasK8SPod ? cluster.headGroupSpec.k8SPod : nil, container: Self.headContainer, serviceAccount: serviceAccount,
                                   ports: [["name": "redis", "containerPort": 6379], ["name": "head", "containerPort": 10001], ["name": "dashboard", "containerPort": 8265]])
        let head: JSONValue = [
            "rayStartParams": .object(headParams.mapValues(JSONValue.string)),
            "serviceType": .string(ray.serviceType),
            "enableIngress": true,
            "template": ["metadata": ["labels": .object(headLabels.mapValues(JSONValue.string)), "annotations": .object(context.annotations.mapValues(JSONValue.string))], "spec": headPod],
        ]

        // Workers.
        var workers: [JSONValue] = []
        for group in cluster.workerGroupSpec {
            guard !group.groupName.isEmpty else {
                throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: every workerGroupSpec needs a groupName", kind: .user)
            }
            var params = group.rayStartParams
            if params["node-ip-address"] == nil { params["node-ip-address"] = "$MY_POD_IP" }
            if !ray.enableUsageStats, params["disable-usage-stats"] == nil { params["disable-usage-stats"] = "true" }
            let pod = try groupPod(base, primary: primary.name, group: group.hasK8SPod ? group.k8SPod : nil, container: Self.workerContainer, serviceAccount: serviceAccount, ports: [])
            workers.append([
                "groupName": .string(group.groupName),
                "replicas": .int(Int64(group.replicas)),
                "minReplicas": .int(Int64(min(group.minReplicas, group.replicas))),
                "maxReplicas": .int(Int64(max(group.maxReplicas, group.replicas))),
                "rayStartParams": .object(params.mapValues(JSONValue.string)),
                "template": ["metadata": ["labels": .object(context.labels.mapValues(JSONValue.string)), "annotations": .object(context.annotations.mapValues(JSONValue.string))], "spec": pod],
            ])
        }
        var clusterSpec: JSONValue = ["headGroupSpec": head, "workerGroupSpecs": .array(workers)]
        if cluster.enableAutoscaling { clusterSpec["enableInTreeAutoscaling"] = true }
        if cluster.hasAutoscalerOptions { clusterSpec["autoscalerOptions"] = try autoscalerOptions(cluster.autoscalerOptions) }

        var shutdown = ray.shutdownAfterJobFinishes
        var ttl = ray.ttlSecondsAfterFinished
        if job.shutdownAfterJobFinishes {
            shutdown = true
            ttl = job.ttlSecondsAfterFinished
        }
        var spec: JSONValue = [
            "rayClusterSpec": clusterSpec,
            "entrypoint": .string((primary.args ?? []).joined(separator: " ")),
            "shutdownAfterJobFinishes": .bool(shutdown),
            "ttlSecondsAfterFinished": .int(Int64(ttl)),
            "submissionMode": .string(ray.submissionMode),
        ]
        if let runtimeEnv = try runtimeEnvYAML(job) { spec["runtimeEnvYAML"] = .string(runtimeEnv) }
        if ray.submissionMode == "K8sJobMode" {
            spec["submitterPodTemplate"] = submitter(image: primary.image ?? "", tolerations: headPod["tolerations"], affinity: headPod["affinity"])
        }
        return RayJob(metadata: ObjectMeta(), spec: spec)
    }

    /// The pod spec of a head or worker group: the task's Pod, the group's own K8sPod merged
    /// over it, the primary container renamed and its args cleared, `MY_POD_IP` set.
    func groupPod(_ base: Pod, primary: String, group: Flyteidl2_Core_K8sPod?, container name: String, serviceAccount: String, ports: [JSONValue]) throws -> JSONValue {
        var spec = base.spec ?? PodSpec(containers: [])
        if let group, group.hasPodSpec {
            do {
                let groupSpec = try JSONValueDecoder().decode(PodSpec.self, from: try JSONValue.parse(Array(try group.podSpec.jsonString().utf8)))
                // The group's containers replace the task's of the same name (its primary
                // container, by the K8sPod's primary name, replaces the task's primary).
                let groupPrimary = group.primaryContainerName.isEmpty ? primary : group.primaryContainerName
                for var c in groupSpec.containers {
                    if c.name == groupPrimary { c.name = primary }
                    if let i = spec.containers.firstIndex(where: { $0.name == c.name }) {
                        var merged = spec.containers[i]
                        if c.image != nil { merged.image = c.image }
                        if c.resources != nil { merged.resources = c.resources }
                        if let env = c.env { merged.env = PodPlugin.merge(merged.env ?? [], env) }
                        if c.command != nil { merged.command = c.command }
                        for (k, v) in c.unknownFields { merged.unknownFields[k] = v }
                        spec.containers[i] = merged
                    } else {
                        spec.containers.append(c)
                    }
                }
                if let selector = groupSpec.nodeSelector { spec.nodeSelector = (spec.nodeSelector ?? [:]).merging(selector) { $1 } }
                if let tolerations = groupSpec.tolerations { spec.tolerations = (spec.tolerations ?? []) + tolerations }
                if groupSpec.affinity != nil { spec.affinity = groupSpec.affinity }
                if let volumes = groupSpec.volumes { spec.volumes = (spec.volumes ?? []) + volumes }
            } catch {
                throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: a Ray group's k8sPod podSpec does not decode: \(error)", kind: .user)
            }
        }
        spec.containers = spec.containers.map { c in
            guard c.name == primary else { return c }
            var renamed = c
            renamed.name = name
            renamed.args = nil
            renamed.env = PodPlugin.merge(c.env ?? [], [EnvVar(name: "MY_POD_IP", valueFrom: ["fieldRef": ["fieldPath": "status.podIP"]])])
            if !ports.isEmpty { renamed.unknownFields["ports"] = .array(ports) }
            return renamed
        }
        spec.serviceAccountName = serviceAccount
        // KubeRay restarts Ray nodes itself.
        spec.restartPolicy = nil
        return try JSONValueEncoder().encode(spec)
    }

    func autoscalerOptions(_ options: Flyteidl2_Plugins_AutoscalerOptions) throws -> JSONValue {
        var out: JSONValue = [:]
        switch options.upscalingMode {
        case .default: out["upscalingMode"] = "Default"
        case .aggressive: out["upscalingMode"] = "Aggressive"
        case .conservative: out["upscalingMode"] = "Conservative"
        default: break
        }
        if options.idleTimeoutSeconds > 0 { out["idleTimeoutSeconds"] = .int(Int64(options.idleTimeoutSeconds)) }
        if !options.image.isEmpty { out["image"] = .string(options.image) }
        if !options.env.isEmpty { out["env"] = .array(options.env.map { ["name": .string($0.key), "value": .string($0.value)] }) }
        if options.hasResources, let resources = try ResourceMapping.requirements(options.resources, gpuResourceName: config.gpuResourceName) {
            out["resources"] = try JSONValueEncoder().encode(resources)
        }
        return out
    }

    /// `runtimeEnvYaml`, else the legacy base64 JSON `runtimeEnv` (JSON is YAML too).
    func runtimeEnvYAML(_ job: Flyteidl2_Plugins_RayJob) throws -> String? {
        if !job.runtimeEnvYaml.isEmpty { return job.runtimeEnvYaml }
        guard !job.runtimeEnv.isEmpty else { return nil }
        guard let data = Data(base64Encoded: job.runtimeEnv), let json = try? JSONValue.parse(Array(data)), let yaml = try? json.yaml() else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: runtimeEnv is not base64 of a JSON object", kind: .user)
        }
        return yaml
    }

    /// The submitter Job's Pod in K8sJobMode.
    func submitter(image: String, tolerations: JSONValue?, affinity: JSONValue?) -> JSONValue {
        var spec: JSONValue = [
            "restartPolicy": "Never",
            "containers": [[
                "name": "ray-job-submitter", "image": .string(image),
                "resources": ["limits": ["cpu": "1", "memory": "1Gi"], "requests": ["cpu": "500m", "memory": "200Mi"]],
            ]],
        ]
        if let tolerations { spec["tolerations"] = tolerations }
        if let affinity { spec["affinity"] = affinity }
        return ["spec": spec]
    }

    // MARK: Status

    public var relatedPod: RelatedPod<RayJob>? {
        RelatedPod { job in job.status?["rayClusterName"]?.stringValue.flatMap { $0.isEmpty ? nil : "\($0)-head" } }
    }

    public func phase(of job: RayJob, context: TaskExecutionContext) -> PhaseInfo {
        phase(of: job, relatedPod: nil, context: context)
    }

    /// The head Pod first (its Pending and Failed rules win), then `jobDeploymentStatus`; with
    /// the job's log links, the dashboard's while it runs, and the head Pod's log context.
    public func phase(of job: RayJob, relatedPod head: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        var info = phaseBeforeLinks(job, head: head, context: context)
        info.links = links(job, context: context)
        if let head, head.status?.phase != "Pending", head.status != nil {
            info.logContext = PodPlugin.logContext(head)
        }
        // Flyte's `UpdateLinkReadiness`: the dashboard is ready with the head Pod, and the
        // reason says so (a failure keeps its own).
        if !info.phase.isFailure, let index = info.links.firstIndex(where: { $0.linkType == .dashboard }) {
            let ready = head.map(Self.isReady) ?? false
            info.links[index].ready = ready
            info.reason = ready && info.phase >= .running ? "Ray dashboard is ready" : "Ray dashboard is not ready"
        }
        return info
    }

    private func phaseBeforeLinks(_ job: RayJob, head: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        let status = job.deploymentStatus ?? ""
        if status.isEmpty { return .queued("Scheduling") }
        var recheck: Duration?
        if let head {
            let (verdict, after) = PodPhaseMapper(config: config, now: context.now).relatedPod(head, primary: Self.headContainer)
            if let verdict { return verdict }
            recheck = after
        }
        var info = deploymentPhase(job)
        if info.recheckAfter == nil { info.recheckAfter = recheck }
        return info
    }

    /// Flyte's `getEventInfoForRayJob`: `ray.logs` for the head Pod, `<rayClusterName>-head`
    /// (KubeRay does not name it in the job's status), and the dashboard link while the job is
    /// RUNNING with a dashboard URL.
    func links(_ job: RayJob, context: TaskExecutionContext) -> [LogLink] {
        var templates = ray.logs.templates(for: context.template)
        let status = job.status
        if var dashboard = ray.dashboardURLTemplate, !(status?["dashboardURL"]?.stringValue ?? "").isEmpty, status?["jobStatus"]?.stringValue == "RUNNING" {
            dashboard.linkType = "dashboard"
            templates.append(dashboard)
        }
        let dynamic = ray.logs.dynamicTemplates(for: context.template)
        guard !templates.isEmpty || !dynamic.isEmpty else { return [] }
        let cluster = status?["rayClusterName"]?.stringValue ?? ""
        var variables = LogLinkVariables.task(context)
        variables["podname"] = "\(cluster)-head"
        variables["namespace"] = job.metadata.namespace ?? context.namespace
        // Flyte passes no Pod times for a Ray job: its Unix times are 0.
        variables["podunixstarttime"] = "0"
        variables["podunixfinishtime"] = "0"
        variables["rayjobid"] = status?["jobId"]?.stringValue ?? ""
        variables["rayclustername"] = cluster
        return templates.flatMap { $0.links(variables) } + LogsConfig.dynamicLinks(dynamic, variables, template: context.template)
    }

    /// The Pod's Ready condition (Flyte's `IsPodReady`), once it is past Pending.
    static func isReady(_ pod: Pod) -> Bool {
        guard let status = pod.status, status.phase != "Pending" else { return false }
        return status.conditions?.contains { $0.type == "Ready" && $0.status == "True" } ?? false
    }

    /// `status.jobDeploymentStatus` → phase, the table of §8.2 and KubeRay's newer values.
    func deploymentPhase(_ job: RayJob) -> PhaseInfo {
        let status = job.deploymentStatus ?? ""
        let reason = job.status?["reason"]?.stringValue ?? ""
        let message = job.status?["message"]?.stringValue ?? ""
        switch status {
        case "Initializing":
            return .initializing("cluster is creating")
        case "Running":
            return .running()
        case "Complete":
            return .success()
        case "Suspending":
            return .queued("cluster is about to be suspended")
        case "Suspended":
            return .queued("cluster is suspended")
        case "Failed":
            // The task's error document decides (spec §8.2): recoverable retries; without one,
            // a deployment that never came up is the cluster's fault, not the task's.
            let text = "Failed to run Ray job \(job.metadata.name ?? "") with error: [\(reason)] \(message)"
            var info = PhaseInfo.failure("TaskFailedWithError", text)
            info.errorDocumentRule = reason == "JobDeploymentStatusTransitionGracePeriodExceeded" ? .recoverableRetriesElseSystemError(code: reason) : .recoverableRetries
            return info
        // KubeRay after 1.6 (Flyte reads these as an undefined phase and a system error).
        case "Retrying":
            return .running("KubeRay is retrying the job: \(message)")
        case "Waiting":
            return .queued("KubeRay is waiting to start the job: \(message)")
        case "ValidationFailed":
            return .failure("RayJobValidationFailed", "KubeRay refused the RayJob \(job.metadata.name ?? ""): \(message)")
        default:
            return .systemRetryableFailure("UnknownRayJobStatus", "the RayJob \(job.metadata.name ?? "") has jobDeploymentStatus \"\(status)\", which this executor does not know")
        }
    }

    static let terminalStatuses: Set<String> = ["Complete", "Failed", "ValidationFailed"]

    public func isTerminal(_ job: RayJob) -> Bool { Self.terminalStatuses.contains(job.deploymentStatus ?? "") }

    public func completionTime(_ job: RayJob) -> Date? {
        (job.status?["endTime"]?.stringValue ?? job.status?["startTime"]?.stringValue ?? job.metadata.creationTimestamp).flatMap(KubeTime.parse)
    }

    /// Keeps what the phase and the links read: the deployment and job status, its reason and
    /// message, the cluster's name, the job's id, the dashboard's URL and the times.
    public var cacheTransform: (@Sendable (inout RayJob) -> Void)? {
        { job in job.trimForCache(statusKeys: ["jobDeploymentStatus", "jobStatus", "rayClusterName", "jobId", "dashboardURL", "reason", "message", "startTime", "endTime"]) }
    }

    public var rbacRules: [PolicyRule] {
        [.children(of: RayJob.resourceType, comment: "RayJobs of ray tasks: created per attempt, watched by a label-scoped informer, read when\nthe cache lags, deleted on abort and between attempts, patched to take inject-finalizer's\nfinalizer off.")]
    }
}
