import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import SwiftProtobuf
import Testing
@testable import TaskPlugins

/// The Ray plugin against spec §8.2 and the flyteidl2 Ray test vector.
@Suite("Ray plugin")
struct RayPluginTests {
    /// flyteidl2-facts §7.3.
    static let vector = "ChMIARIBcBoBZCIFcmF5X3QqAnYxEgNyYXkqlQIKzAEKCnJheUNsdXN0ZXISvQEqugEKOgoNaGVhZEdyb3VwU3BlYxIpKicKJQoOcmF5U3RhcnRQYXJhbXMSEyoRCg8KCG51bS1jcHVzEgMaATEKfAoPd29ya2VyR3JvdXBTcGVjEmkyZwplKmMKFgoJZ3JvdXBOYW1lEgkaB3dvcmtlcnMKGAoLbWF4UmVwbGljYXMSCREAAAAAAAAIQAoYCgttaW5SZXBsaWNhcxIJEQAAAAAAAPA/ChUKCHJlcGxpY2FzEgkRAAAAAAAAAEAKHgoYc2h1dGRvd25BZnRlckpvYkZpbmlzaGVzEgIgAQokChd0dGxTZWNvbmRzQWZ0ZXJGaW5pc2hlZBIJEQAAAAAAIKxAMlMKFHJheXByb2plY3QvcmF5OjIuOS4wGgJhMBoILS1pbnB1dHMaCnt7LmlucHV0fX0aDi0tb3V0cHV0cy1wYXRoGhF7ey5vdXRwdXRQcmVmaXh9fQ=="

    static func template(_ base64: String = vector) throws -> Flyteidl2_Core_TaskTemplate {
        try Flyteidl2_Core_TaskTemplate(serializedBytes: Data(base64Encoded: base64) ?? Data())
    }

    static func context(_ template: Flyteidl2_Core_TaskTemplate, name: String = "r1-ray") throws -> TaskExecutionContext {
        var action = Fixtures.taskAction(name, taskType: "ray", template: try template.serializedBytes())
        action.metadata.uid = "uid-ray"
        return TaskExecutionContext(taskAction: action, template: template, properties: RayPlugin().properties, config: PluginConfig())
    }

    @Test("the flyteidl2 Ray vector builds the RayJob of spec §8.2, field by field")
    func vectorBuild() throws {
        let context = try Self.context(try Self.template())
        let job = try RayPlugin().build(context)
        let spec = try #require(job.spec)
        #expect(job.metadata.name == nil && job.metadata.namespace == nil)
        let head = try #require(spec.value(atPath: "rayClusterSpec.headGroupSpec"))
        #expect(head["rayStartParams"] == ["num-cpus": "1", "include-dashboard": "true", "node-ip-address": "$MY_POD_IP", "dashboard-host": "0.0.0.0", "disable-usage-stats": "true"])
        #expect(head["serviceType"] == "NodePort" && head["enableIngress"] == true)
        let headContainer = try #require(head.value(atPath: "template.spec.containers")?.arrayValue?.first)
        #expect(headContainer["name"] == "ray-head" && headContainer["args"] == nil && headContainer["image"] == "rayproject/ray:2.9.0")
        #expect(headContainer["ports"] == [["name": "redis", "containerPort": 6379], ["name": "head", "containerPort": 10001], ["name": "dashboard", "containerPort": 8265]])
        #expect(headContainer["env"]?.arrayValue?.contains { $0["name"] == "MY_POD_IP" && $0.value(atPath: "valueFrom.fieldRef.fieldPath") == "status.podIP" } == true)
        #expect(head.value(atPath: "template.metadata.labels")?[TaskActionLabels.managed] == "true")
        #expect(head.value(atPath: "template.metadata.labels")?[TaskActionLabels.childName] == .string(context.generatedName))
        #expect(head.value(atPath: "template.spec.serviceAccountName") == "default")
        let worker = try #require(spec.value(atPath: "rayClusterSpec.workerGroupSpecs")?.arrayValue?.first)
        #expect(worker["groupName"] == "workers" && worker["replicas"] == 2 && worker["minReplicas"] == 1 && worker["maxReplicas"] == 3)
        #expect(worker["rayStartParams"] == ["node-ip-address": "$MY_POD_IP", "disable-usage-stats": "true"])
        #expect(worker.value(atPath: "template.spec.containers")?.arrayValue?.first?["name"] == "ray-worker")
        #expect(spec["entrypoint"] == .string(try context.renderer.render(["a0", "--inputs", "{{.input}}", "--outputs-path", "{{.outputPrefix}}"]).joined(separator: " ")))
        #expect(spec["shutdownAfterJobFinishes"] == true && spec["ttlSecondsAfterFinished"] == 3600)
        #expect(spec["submissionMode"] == "K8sJobMode")
        let submitter = try #require(spec.value(atPath: "submitterPodTemplate.spec.containers")?.arrayValue?.first)
        #expect(submitter["name"] == "ray-job-submitter" && submitter["image"] == "rayproject/ray:2.9.0")
        #expect(submitter["resources"] == ["limits": ["cpu": "1", "memory": "1Gi"], "requests": ["cpu": "500m", "memory": "200Mi"]])
        #expect(spec.value(atPath: "submitterPodTemplate.spec.restartPolicy") == "Never")
    }

    @Test("generated names are at most 47 characters; min and max replicas are clamped around replicas; the legacy base64 runtimeEnv becomes runtimeEnvYAML")
    func namesClampsAndRuntimeEnv() throws {
        let long = String(repeating: "a", count: 60)
        let context = try Self.context(try Self.template(), name: long)
        #expect(context.generatedName.count <= 47)
        var template = try Self.template()
        let env = Data(#"{"pip":["numpy"]}"#.utf8).base64EncodedString()
        template.custom = try Google_Protobuf_Struct(jsonString: #"{"rayCluster":{"workerGroupSpec":[{"groupName":"w","replicas":4,"minReplicas":6,"maxReplicas":2}]},"runtimeEnv":"\#(env)"}"#)
        let job = try RayPlugin().build(try Self.context(template))
        let worker = job.spec?.value(atPath: "rayClusterSpec.workerGroupSpecs")?.arrayValue?.first
        #expect(worker?["minReplicas"] == 4 && worker?["maxReplicas"] == 4)
        #expect(job.spec?["runtimeEnvYAML"]?.stringValue?.contains("numpy") == true)
        #expect(job.spec?["shutdownAfterJobFinishes"] == true && job.spec?["ttlSecondsAfterFinished"] == 3600)  // config defaults
        template.custom = try Google_Protobuf_Struct(jsonString: #"{"rayCluster":{},"runtimeEnv":"not base64 json"}"#)
        #expect(throws: ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: runtimeEnv is not base64 of a JSON object", kind: .user)) { try RayPlugin().build(try Self.context(template)) }
        template.custom = try Google_Protobuf_Struct(jsonString: #"{"runtimeEnvYaml":"pip: [x]"}"#)
        #expect(throws: ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: RayJob needs rayCluster", kind: .user)) { try RayPlugin().build(try Self.context(template)) }
    }

    static func job(_ status: String?, reason: String = "", message: String = "", cluster: String? = "c1") -> RayJob {
        var s: JSONValue = ["reason": .string(reason), "message": .string(message)]
        if let status { s["jobDeploymentStatus"] = .string(status) }
        if let cluster { s["rayClusterName"] = .string(cluster) }
        return RayJob(metadata: ObjectMeta(name: "job"), status: s)
    }

    @Test("ray.logs and the dashboard link: the head Pod's name, the job's id and cluster, the dashboard only while RUNNING, ready with the head Pod")
    func links() throws {
        var ray = try ExecutorConfig.parse(yaml: """
            ray:
              logs: {kubernetes-enabled: true, kubernetes-url: "https://k8s", templates: [{displayName: "Ray job {{ .rayJobID }}", templateUris: ["https://logs/{{ .namespace }}/{{ .podName }}?job={{ .rayJobID }}&cluster={{ .rayClusterName }}&a={{ .taskRetryAttempt }}&c={{ .containerName }}"]}]}
              dashboard-url-template: {displayName: "Ray Dashboard", templateUris: ["https://ray.example.com/{{ .namespace }}/{{ .rayClusterName }}"]}
            """, path: "executor.yaml").ray
        let plugin = RayPlugin(ray: ray)
        let context = try Self.context(try Self.template())
        var job = Self.job("Running")
        job.metadata.namespace = "default"
        job.status?["jobId"] = "job-abc"
        job.status?["jobStatus"] = "RUNNING"
        job.status?["dashboardURL"] = "c1-head-svc.default.svc.cluster.local:8265"
        var head = Pod(metadata: ObjectMeta(name: "c1-head", namespace: "default"), spec: nil, status: PodStatus(phase: "Running"))
        head.status?.conditions = [PodCondition(type: "Ready", status: "False")]

        var info = plugin.phase(of: job, relatedPod: head, context: context)
        #expect(info.phase == .running)
        #expect(info.links.map(\.name) == ["Kubernetes Logs", "Ray job job-abc", "Ray Dashboard"])
        #expect(info.links.map(\.uri) == [
            "https://k8s/#!/log/default/c1-head/pod?namespace=default",
            "https://logs/default/c1-head?job=job-abc&cluster=c1&a=0&c={{ .containerName }}",
            "https://ray.example.com/default/c1",
        ])
        #expect(info.links[2].linkType == .dashboard && !info.links[2].ready)
        #expect(info.reason == "Ray dashboard is not ready")
        #expect(info.logContext?.primaryPodName == "c1-head")

        head.status?.conditions = [PodCondition(type: "Ready", status: "True")]
        info = plugin.phase(of: job, relatedPod: head, context: context)
        #expect(info.links[2].ready && info.reason == "Ray dashboard is ready")

        // No dashboard before KubeRay reports its URL, nor once the job is no longer running.
        job.status?["dashboardURL"] = ""
        #expect(plugin.phase(of: job, relatedPod: head, context: context).links.count == 2)
        job.status?["dashboardURL"] = "c1-head-svc.default.svc.cluster.local:8265"
        job.status?["jobStatus"] = "SUCCEEDED"
        job.status?["jobDeploymentStatus"] = "Complete"
        let done = plugin.phase(of: job, relatedPod: head, context: context)
        #expect(done.phase == .success && done.links.count == 2 && done.reason.isEmpty)
        // Nothing configured: no links.
        #expect(RayPlugin().phase(of: job, relatedPod: head, context: context).links.isEmpty)
        // The cached view keeps what the links read.
        var cached = job
        RayPlugin().cacheTransform?(&cached)
        #expect(plugin.phase(of: cached, relatedPod: head, context: context) == done)
        ray.dashboardURLTemplate = nil
        #expect(RayPlugin(ray: ray).phase(of: job, relatedPod: head, context: context).links.count == 2)
    }

    @Test("status → phase per the table of §8.2, the newer KubeRay values with clear messages, and a failing head Pod wins")
    func phases() throws {
        let plugin = RayPlugin()
        let context = try Self.context(try Self.template())
        #expect(plugin.phase(of: Self.job(nil), context: context) == .queued("Scheduling"))
        #expect(plugin.phase(of: Self.job("Initializing"), context: context) == .initializing("cluster is creating"))
        #expect(plugin.phase(of: Self.job("Running"), context: context).phase == .running)
        #expect(plugin.phase(of: Self.job("Complete"), context: context).phase == .success)
        #expect(plugin.phase(of: Self.job("Suspending"), context: context) == .queued("cluster is about to be suspended"))
        #expect(plugin.phase(of: Self.job("Suspended"), context: context) == .queued("cluster is suspended"))
        let failed = plugin.phase(of: Self.job("Failed", reason: "AppFailed", message: "exit 1"), context: context)
        #expect(failed.phase == .permanentFailure && failed.error == ExecutionError(code: "TaskFailedWithError", message: "Failed to run Ray job job with error: [AppFailed] exit 1", kind: .user))
        #expect(failed.errorDocumentRule == .recoverableRetries)
        let recoverable = TaskErrorDocument(recoverable: true, error: ExecutionError(code: "OOM", message: "worker died", kind: .user))
        #expect(failed.applying(errorDocument: nil) == { var f = failed; f.errorDocumentRule = .none; return f }())
        #expect(failed.applying(errorDocument: recoverable).phase == .retryableFailure && failed.applying(errorDocument: recoverable).error == recoverable.error)
        let unrecoverable = TaskErrorDocument(recoverable: false, error: ExecutionError(code: "ValueError", message: "bad", kind: .user))
        #expect(failed.applying(errorDocument: unrecoverable).error?.code == "TaskFailedWithError")
        // The deployment grace period: a system error (retried, cleaned up) unless the task left a document.
        let grace = plugin.phase(of: Self.job("Failed", reason: "JobDeploymentStatusTransitionGracePeriodExceeded"), context: context)
        let graceAlone = grace.applying(errorDocument: nil)
        #expect(graceAlone.phase == .retryableFailure && graceAlone.error?.kind == .system && graceAlone.error?.code == "JobDeploymentStatusTransitionGracePeriodExceeded" && graceAlone.cleanupOnFailure)
        #expect(grace.applying(errorDocument: recoverable).error == recoverable.error)
        #expect(grace.applying(errorDocument: unrecoverable).phase == .permanentFailure && grace.applying(errorDocument: unrecoverable).error?.code == "TaskFailedWithError")
        #expect(plugin.phase(of: Self.job("Retrying", message: "attempt 2"), context: context) == .running("KubeRay is retrying the job: attempt 2"))
        #expect(plugin.phase(of: Self.job("Waiting"), context: context).phase == .queued)
        #expect(plugin.phase(of: Self.job("ValidationFailed", message: "bad spec"), context: context).error?.code == "RayJobValidationFailed")
        let unknown = plugin.phase(of: Self.job("Exploded"), context: context)
        #expect(unknown.error?.kind == .system && unknown.error?.message.contains("\"Exploded\"") == true)
        #expect(plugin.relatedPod?.name(Self.job("Running")) == "c1-head")
        #expect(plugin.isTerminal(Self.job("Complete")) && plugin.isTerminal(Self.job("Failed")) && !plugin.isTerminal(Self.job("Running")))

        var head = Pod(metadata: ObjectMeta(name: "c1-head", namespace: "default"), spec: PodSpec(containers: [Container(name: "ray-head", image: "x")]))
        head.status = PodStatus(phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory.")
        let evicted = plugin.phase(of: Self.job("Running"), relatedPod: head, context: context)
        #expect(evicted.phase == .retryableFailure && evicted.error?.code == "Evicted")
    }

    @Test("the cache keeps what the phase reads: phase(of: transform(x)) == phase(of: x)")
    func cacheTransform() throws {
        let plugin = RayPlugin()
        let context = try Self.context(try Self.template())
        var built = try plugin.build(context)
        for status in [nil, "Initializing", "Running", "Complete", "Failed", "Suspended", "Retrying"] {
            built.status = Self.job(status, reason: "r", message: "m").status
            built.status?["endTime"] = "2026-11-29T10:00:00Z"
            var cached = built
            plugin.cacheTransform?(&cached)
            #expect(cached.spec == nil)
            #expect(plugin.phase(of: cached, context: context) == plugin.phase(of: built, context: context))
            #expect(plugin.completionTime(cached) == plugin.completionTime(built))
        }
    }
}
