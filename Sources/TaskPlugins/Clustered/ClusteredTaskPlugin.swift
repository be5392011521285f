import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient

/// Runs `clustered-task` tasks (flyte-sdk's multi-node distributed tasks) as JobSets, built and
/// read as Flyte's `plugins/k8s/clustered`: one replicated job `workers` of `replicas` indexed
/// Pods (rank = completion index) from the task's Pod, torchrun's variables on the primary
/// container, DNS hostnames on, success when every Pod succeeds, the task's restart budget as
/// the JobSet's failure policy.
///
/// Unlike Flyte's, which lists the Pods of the execution at each round: rank 0's Pod is found
/// among the Pods the executor's informer already holds (every rank carries the child's name),
/// and the log context is rank 0's alone, where Flyte lists every running rank.
public struct ClusteredTaskPlugin: KubernetesTaskPlugin {
    public typealias Child = JobSet

    public let id = "clustered-task"
    public let taskTypes = ["clustered-task"]
    /// The JobSet's name leaves room for its Pods' names (`<name>-workers-0-<rank>-<5>`) within
    /// 63 characters at the largest rank allowed, as the JobSet webhook requires.
    public let properties = PluginProperties(generatedNameMaxLength: 63 - "-workers-0-99999-abcde".count)
    public let config: PluginConfig

    public init(config: PluginConfig = PluginConfig()) {
        self.config = config
    }

    /// The one replicated job.
    public static let workers = "workers"
    /// Ranks allowed: the JobSet's name is bounded for Pod indexes below this.
    public static let maxReplicas: Int32 = 100_000
    /// The annotation naming the primary container, read back for links and failures.
    public static let primaryContainerAnnotation = "flyte.org/primary-container"

    // MARK: Building

    public func build(_ context: TaskExecutionContext) throws -> JobSet {
        let task = try CustomPayload.decode(Flyteidl2_Plugins_ClusteredTaskSpec.self, from: context.template, name: "ClusteredTaskSpec")
        func refuse(_ message: String) -> ExecutionError { ExecutionError(code: "BadTaskSpecification", message: message, kind: .user) }
        guard task.replicas >= 1 else { throw refuse("replicas must be >= 1, got \(task.replicas)") }
        guard task.replicas <= Self.maxReplicas else { throw refuse("replicas must be <= \(Self.maxReplicas), got \(task.replicas)") }
        guard task.nprocPerNode >= 1 else { throw refuse("nproc_per_node must be >= 1, got \(task.nprocPerNode)") }
        let maxRestarts = task.failurePolicy.maxRestarts
        guard maxRestarts >= 0 else { throw refuse("failure_policy.max_restarts must be >= 0, got \(maxRestarts)") }
        if task.hasTtlSecondsAfterFinished, task.ttlSecondsAfterFinished.value > UInt32(Int32.max) {
            throw refuse("ttl_seconds_after_finished \(task.ttlSecondsAfterFinished.value) exceeds maximum allowed value")
        }

        let pod = try PodPlugin(config: config).build(context)
        var spec = pod.spec ?? PodSpec(containers: [])
        let primary = PodPlugin.builtPrimaryContainer(pod) ?? ""
        guard let index = spec.containers.firstIndex(where: { $0.name == primary }) else {
            throw refuse("primary container \"\(primary)\" not found in pod spec")
        }
        spec.containers[index].env = Self.upsert(spec.containers[index].env ?? [], Self.torchrunEnvironment(task))
        spec.restartPolicy = "Never"
        // Pods resolve each other as <hostname>.<subdomain>: the JobSet's headless Service.
        if (spec.unknownFields["subdomain"]?.stringValue ?? "").isEmpty { spec.unknownFields["subdomain"] = .string(context.generatedName) }

        // The execution's labels on every rank (the controller copies none of the JobSet's),
        // and the child's name, so the executor watches the ranks.
        var labels = (pod.metadata.labels ?? [:]).merging(context.labels) { $1 }
        if context.generatedName.count <= 63 { labels[TaskActionLabels.childName] = context.generatedName }
        let annotations = (pod.metadata.annotations ?? [:]).merging(context.annotations) { $1 }
        let replicas = JSONValue.int(Int64(task.replicas))
        var jobSetSpec: JSONValue = [
            "network": ["enableDNSHostnames": true],
            "successPolicy": ["operator": "All"],
            "replicatedJobs": [[
                "name": .string(Self.workers),
                "replicas": 1,
                "template": ["spec": [
                    "parallelism": replicas, "completions": replicas, "completionMode": "Indexed", "backoffLimit": 0,
                    "template": [
                        "metadata": ["labels": .object(labels.mapValues(JSONValue.string)), "annotations": .object(annotations.mapValues(JSONValue.string))],
                        "spec": try JSONValueEncoder().encode(spec),
                    ],
                ]],
            ]],
        ]
        if maxRestarts > 0 { jobSetSpec["failurePolicy"] = ["maxRestarts": .int(Int64(maxRestarts))] }
        if task.hasTtlSecondsAfterFinished { jobSetSpec["ttlSecondsAfterFinished"] = .int(Int64(task.ttlSecondsAfterFinished.value)) }

        var metadata = ObjectMeta()
        metadata.labels = ["flyte.org/execution": Self.labelValue(context.taskAction.spec.runName)]
        metadata.annotations = ["flyte.org/task-type": "clustered-task", Self.primaryContainerAnnotation: primary]
        return JobSet(metadata: metadata, spec: jobSetSpec)
    }

    /// Flyte's `injectTorchRunEnv`: what torchrun and flyte-sdk's entrypoint read.
    static func torchrunEnvironment(_ task: Flyteidl2_Plugins_ClusteredTaskSpec) -> [EnvVar] {
        let backend = task.runtime.torchrun.rdzvBackend == .c10D ? "c10d" : "static"
        func field(_ path: String) -> JSONValue { ["fieldRef": ["fieldPath": .string(path)]] }
        return [
            EnvVar(name: "NNODES", value: String(task.replicas)),
            EnvVar(name: "NPROC_PER_NODE", value: String(task.nprocPerNode)),
            EnvVar(name: "MASTER_PORT", value: "29500"),
            EnvVar(name: "RDZV_BACKEND", value: backend),
            // The restart budget, so the entrypoint writes its error document only on the last attempt.
            EnvVar(name: "JOBSET_MAX_RESTARTS", value: String(task.failurePolicy.maxRestarts)),
            EnvVar(name: "JOBSET_NAME", valueFrom: field("metadata.labels['jobset.sigs.k8s.io/jobset-name']")),
            EnvVar(name: "JOBSET_RESTART_ATTEMPT", valueFrom: field("metadata.annotations['jobset.sigs.k8s.io/restart-attempt']")),
            EnvVar(name: "POD_NAMESPACE", valueFrom: field("metadata.namespace")),
        ]
    }

    /// Flyte's `upsertEnv`: a variable of the same name is replaced in place, others appended.
    static func upsert(_ existing: [EnvVar], _ updates: [EnvVar]) -> [EnvVar] {
        var out = existing
        for update in updates {
            if let index = out.firstIndex(where: { $0.name == update.name }) { out[index] = update } else { out.append(update) }
        }
        return out
    }

    /// Flyte's `sanitizeLabelValue`: a valid label value, `none` for nothing.
    static func labelValue(_ value: String) -> String {
        guard !value.isEmpty else { return "none" }
        func isAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
        var chars = value.map { c -> Character in isAlnum(c) || c == "." || c == "_" || c == "-" ? c : "-" }
        if let first = chars.first, !isAlnum(first) { chars[0] = "x" }
        if let last = chars.last, !isAlnum(last) { chars[chars.count - 1] = "x" }
        if chars.count > 63 {
            chars = Array(chars.prefix(63))
            if let last = chars.last, !isAlnum(last) { chars[62] = "x" }
        }
        return String(chars)
    }

    // MARK: Status

    /// Rank 0's Pod (`<jobset>-workers-0-0-<random>`), an active one before a finished one of
    /// an earlier restart, then the newest: Flyte's `findRank0Pod`.
    public var relatedPod: RelatedPod<JobSet>? {
        .labelled { jobSet, pods in
            let prefix = "\(jobSet.metadata.name ?? "")-\(Self.workers)-0-0"
            func active(_ pod: Pod) -> Bool { ["Running", "Pending"].contains(pod.status?.phase ?? "Pending") }
            return pods.filter { ($0.metadata.name ?? "").hasPrefix(prefix) }.max { a, b in
                if active(a) != active(b) { return !active(a) }
                let (at, bt) = (a.metadata.creationTimestamp ?? "", b.metadata.creationTimestamp ?? "")
                return at == bt ? (a.metadata.name ?? "") < (b.metadata.name ?? "") : at < bt
            }
        }
    }

    public func phase(of jobSet: JobSet, context: TaskExecutionContext) -> PhaseInfo {
        phase(of: jobSet, relatedPod: nil, context: context)
    }

    /// Flyte's `GetTaskPhase`: the condition that turned true last decides (Completed,
    /// Failed, RestartingJobSet); before any, the set is initializing until it has started.
    /// Rank 0 in Pending fails the attempt by its Pending rules; rank 0 Failed does once the
    /// restart budget is spent (a restart would replace it otherwise).
    public func phase(of jobSet: JobSet, relatedPod rank0: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        var info = phaseWithoutLinks(jobSet, rank0: rank0, context: context)
        info.links = links(jobSet, context: context)
        if let rank0, rank0.status != nil, rank0.status?.phase != "Pending" {
            var logContext = PodPlugin.logContext(rank0)
            if let primary = jobSet.metadata.annotations?[Self.primaryContainerAnnotation], !primary.isEmpty {
                for index in logContext.pods.indices { logContext.pods[index].primaryContainerName = primary }
            }
            info.logContext = logContext
        }
        return info
    }

    private func phaseWithoutLinks(_ jobSet: JobSet, rank0: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        // The restart budget is the JobSet's (``build(_:)`` writes a failure policy exactly when
        // the task asks for restarts); the task's payload is decoded only for the one flag the
        // JobSet does not carry, on a failure, not at every round.
        func task() -> Flyteidl2_Plugins_ClusteredTaskSpec? {
            try? CustomPayload.decode(Flyteidl2_Plugins_ClusteredTaskSpec.self, from: context.template, name: "ClusteredTaskSpec")
        }
        let maxRestarts = Int(jobSet.spec?.value(atPath: "failurePolicy.maxRestarts")?.intValue ?? 0)
        let primary = jobSet.metadata.annotations?[Self.primaryContainerAnnotation] ?? ""
        let running = PhaseInfo.running("running (restart attempt \(jobSet.restarts))")
        guard let condition = CurrentCondition.of(jobSet.conditions) else {
            guard hasStarted(jobSet, context: context) else { return .initializing("pods scheduling / DNS resolving") }
            return fastFail(jobSet, rank0: rank0, primary: primary, maxRestarts: maxRestarts, allowFailed: true, context: context) ?? running
        }
        switch condition["type"]?.stringValue {
        case "Completed":
            return .success()
        case "Failed":
            // Flyte's `maybeSystemRetryOnMaintenance`: rank 0 lost to the node (a system
            // failure by its Pod's rules) retries the task without spending the user's retries.
            if let rank0, task()?.failurePolicy.restartOnHostMaintenance == true,
                let verdict = PodPhaseMapper(config: config, now: context.now).relatedPod(rank0, primary: primary).verdict,
                verdict.phase == .retryableFailure, verdict.error?.kind == .system {
                var retry = PhaseInfo.systemRetryableFailure(verdict.error?.code ?? "", verdict.error?.message ?? "")
                retry.cleanupOnFailure = true
                return retry
            }
            return .retryableFailure(condition["reason"]?.stringValue ?? "", condition["message"]?.stringValue ?? "")
        case "RestartingJobSet":
            return fastFail(jobSet, rank0: rank0, primary: primary, maxRestarts: maxRestarts, allowFailed: false, context: context)
                ?? .running("restart in progress (attempt \(jobSet.restarts))")
        default:
            return fastFail(jobSet, rank0: rank0, primary: primary, maxRestarts: maxRestarts, allowFailed: true, context: context) ?? running
        }
    }

    /// Flyte's `hasJobSetStarted`: a restart, a worker seen ready, active, done or failed, or
    /// the attempt already running.
    func hasStarted(_ jobSet: JobSet, context: TaskExecutionContext) -> Bool {
        if jobSet.restarts > 0 { return true }
        if let workers = jobSet.replicatedJobStatus(Self.workers), ["ready", "active", "succeeded", "failed"].contains(where: { (workers[$0]?.intValue ?? 0) > 0 }) {
            return true
        }
        return context.taskAction.status?.pluginPhase == "PhaseRunning"
    }

    /// Flyte's `maybeFastFailWorker0`: rank 0 Pending past its rules fails the attempt; rank 0
    /// Failed does too once the workers have failed and the restarts are spent.
    func fastFail(_ jobSet: JobSet, rank0: Pod?, primary: String, maxRestarts: Int, allowFailed: Bool, context: TaskExecutionContext) -> PhaseInfo? {
        guard let rank0 else { return nil }
        let mapper = PodPhaseMapper(config: config, now: context.now)
        switch rank0.status?.phase {
        case "Pending", nil:
            let (verdict, _) = mapper.relatedPod(rank0, primary: primary)
            return verdict
        case "Failed":
            let failedWorkers = (jobSet.replicatedJobStatus(Self.workers)?["failed"]?.intValue ?? 0) > 0
            guard allowFailed, failedWorkers, jobSet.restarts >= maxRestarts else { return nil }
            return mapper.relatedPod(rank0, primary: primary).verdict
        default:
            return nil
        }
    }

    /// Flyte's `getTaskLogs`: each rank's links (`rank-<i>` appended to their names), by the
    /// Pod names the JobSet gives its ranks before the Job controller's suffix, the set's
    /// creation as their start.
    func links(_ jobSet: JobSet, context: TaskExecutionContext) -> [LogLink] {
        guard let name = jobSet.metadata.name else { return [] }
        let replicas = jobSet.spec?["replicatedJobs"]?.arrayValue?.first { $0["name"]?.stringValue == Self.workers }?.value(atPath: "template.spec.parallelism")?.intValue ?? 0
        let pods = (0..<max(0, replicas)).map { ReplicaLogPod(name: "\(name)-\(Self.workers)-0-\($0)", logName: "rank-\($0)") }
        return config.logs.links(for: pods, of: jobSet.metadata, containerName: jobSet.metadata.annotations?[Self.primaryContainerAnnotation] ?? "", context: context)
    }

    /// Flyte's: a true Completed or Failed condition.
    public func isTerminal(_ jobSet: JobSet) -> Bool {
        jobSet.conditions.contains { ["Completed", "Failed"].contains($0["type"]?.stringValue ?? "") && $0["status"]?.stringValue == "True" }
    }

    /// Flyte's: the terminal condition's time, else the creation.
    public func completionTime(_ jobSet: JobSet) -> Date? {
        for condition in jobSet.conditions where ["Completed", "Failed"].contains(condition["type"]?.stringValue ?? "") && condition["status"]?.stringValue == "True" {
            if let at = condition["lastTransitionTime"]?.stringValue.flatMap(KubeTime.parse) { return at }
        }
        return jobSet.metadata.creationTimestamp.flatMap(KubeTime.parse)
    }

    /// Keeps what the phase and the links read: the failure policy, the ranks' count, the
    /// primary container's annotation, and the conditions, restarts and workers' counts.
    public var cacheTransform: (@Sendable (inout JobSet) -> Void)? {
        { jobSet in
            let primary = jobSet.metadata.annotations?[Self.primaryContainerAnnotation]
            var spec: JSONValue = [:]
            if let policy = jobSet.spec?["failurePolicy"] { spec["failurePolicy"] = policy }
            let parallelism = jobSet.spec?["replicatedJobs"]?.arrayValue?.first { $0["name"]?.stringValue == Self.workers }?.value(atPath: "template.spec.parallelism")
            spec["replicatedJobs"] = [["name": .string(Self.workers), "template": ["spec": ["parallelism": parallelism ?? 0]]]]
            jobSet.trimForCache(spec: spec, statusKeys: ["conditions", "restarts", "replicatedJobsStatus"])
            if let primary { jobSet.metadata.annotations = [Self.primaryContainerAnnotation: primary] }
        }
    }

    public var rbacRules: [PolicyRule] {
        [.children(of: JobSet.resourceType, comment: "JobSets of clustered-task tasks: created per attempt, watched by a label-scoped informer,\nread when the cache lags, deleted on abort and between attempts, patched to take\ninject-finalizer's finalizer off.")]
    }
}
