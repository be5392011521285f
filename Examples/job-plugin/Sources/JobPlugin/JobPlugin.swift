import ExecutorAPI
import Foundation
import KubeClient
import TaskPlugins

/// Runs `k8s_job` tasks as `batch/v1` Jobs: one completion, no retries by the Job controller
/// (the executor retries attempts), the task's container as the Job's Pod. The Job's Pod is
/// judged by the Pod plugin's rules first (an image that cannot be pulled fails the attempt
/// before the Job controller gives up), then the Job's conditions.
public struct JobPlugin: KubernetesTaskPlugin {
    public let id = "k8s_job"
    public let taskTypes = ["k8s_job"]
    public let properties = PluginProperties()
    public let config: PluginConfig

    public init(config: PluginConfig = PluginConfig()) {
        self.config = config
    }

    public func build(_ context: TaskExecutionContext) throws -> Job {
        // The Pod plugin builds the task's Pod: container, env, resources, service account.
        let pod = try PodPlugin(config: config).build(context)
        var template = try JSONValueEncoder().encode(pod)
        template["apiVersion"] = nil
        template["kind"] = nil
        var labels = context.labels
        for (k, v) in pod.metadata.labels ?? [:] { labels[k] = v }
        // The Job controller copies these onto the Pod, so the executor finds and watches it.
        labels[TaskActionLabels.childName] = context.generatedName
        template["metadata"] = ["labels": .object(labels.mapValues(JSONValue.string)), "annotations": .object((pod.metadata.annotations ?? [:]).mapValues(JSONValue.string))]
        template["spec"]?["restartPolicy"] = "Never"
        return Job(spec: ["completions": 1, "parallelism": 1, "backoffLimit": 0, "template": template])
    }

    public var relatedPod: RelatedPod<Job>? { .labelled }

    public func phase(of job: Job, context: TaskExecutionContext) -> PhaseInfo {
        phase(of: job, relatedPod: nil, context: context)
    }

    public func phase(of job: Job, relatedPod pod: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        if job.condition("Complete") != nil { return .success() }
        if let failed = job.condition("Failed") {
            let reason = failed["reason"]?.stringValue ?? "JobFailed"
            return .retryableFailure(reason, "Job \(job.metadata.name ?? "") failed: [\(reason)] \(failed["message"]?.stringValue ?? "")")
        }
        if let pod, pod.status?.phase == "Pending" || pod.status?.phase == "Failed" {
            // The Pod's own trouble (ImagePullBackOff, OOMKilled, …) says more than the Job.
            let info = PodPlugin(config: config).phase(of: pod, context: context)
            if info.phase.isFailure || pod.status?.phase == "Pending" { return info }
        }
        if (job.status?["active"]?.intValue ?? 0) > 0 { return .running() }
        return .queued("job created")
    }

    public func isTerminal(_ job: Job) -> Bool { job.condition("Complete") != nil || job.condition("Failed") != nil }

    public func completionTime(_ job: Job) -> Date? {
        let time = job.status?["completionTime"]?.stringValue
            ?? (job.condition("Complete") ?? job.condition("Failed"))?["lastTransitionTime"]?.stringValue
        return time.flatMap(KubeTime.parse)
    }

    /// Keeps the conditions, the active count and the completion time; the spec (the whole
    /// Pod template) is not cached.
    public var cacheTransform: (@Sendable (inout Job) -> Void)? {
        { job in
            job.spec = nil
            job.metadata.annotations = nil
            guard let status = job.status else { return }
            var kept: JSONValue = [:]
            for key in ["conditions", "active", "completionTime"] { kept[key] = status[key] }
            job.status = kept
        }
    }

    public var rbacRules: [PolicyRule] {
        [.children(of: Job.resourceType, comment: "Jobs of k8s_job tasks (the job-plugin example).")]
    }
}
