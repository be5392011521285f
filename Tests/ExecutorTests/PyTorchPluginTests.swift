import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import SwiftProtobuf
import Testing
@testable import TaskPlugins

/// `pytorch` tasks as Kubeflow PyTorchJobs, as Flyte's `kfoperators/pytorch` builds and reads them.
@Suite("PyTorch plugin")
struct PyTorchPluginTests {
    static func template(version: Int32 = 0, custom: String, env: [String: String] = [:]) throws -> Flyteidl2_Core_TaskTemplate {
        var t = try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.pluginTemplate(type: "pytorch", env: env, retries: 0, custom: custom))
        t.taskTypeVersion = version
        return t
    }

    static func context(_ template: Flyteidl2_Core_TaskTemplate, config: PluginConfig = PluginConfig(), now: Date = Date(timeIntervalSince1970: 1_800_000_100)) throws -> TaskExecutionContext {
        try Fixtures.pluginContext("r1-pt", template, config: config, now: now)
    }

    @Test("version 0: a Master and `workers` Workers from the task's Pod, the container named pytorch, restart policy Never; an elastic config drops the Master")
    func versionZero() throws {
        let job = try PyTorchPlugin().build(try Self.context(try Self.template(custom: #"{"workers": 2}"#)))
        let specs = try #require(job.spec?["pytorchReplicaSpecs"])
        #expect(specs["Master"]?["replicas"] == 1 && specs["Worker"]?["replicas"] == 2)
        #expect(specs["Master"]?["restartPolicy"] == "Never" && specs["Worker"]?["restartPolicy"] == "Never")
        let container = specs["Worker"]?.value(atPath: "template.spec.containers")?[0]
        #expect(container?["name"] == "pytorch" && container?["image"] == "cr.flyte.org/flyteorg/flytekit:py3.11")
        #expect(container?["args"]?.arrayValue?.first == "pyflyte-execute")
        #expect(specs["Worker"]?.value(atPath: "template.spec.restartPolicy") == nil)
        // The executor's labels on every replica; worker 0's template names the child, so its Pod is watched.
        #expect(specs["Master"]?.value(atPath: "template.metadata.labels")?["flyte.org/managed"] == "true")
        #expect(specs["Worker"]?.value(atPath: "template.metadata.labels")?[TaskActionLabels.childName] == .string(try Self.context(try Self.template(custom: "{}")).generatedName))
        #expect(specs["Master"]?.value(atPath: "template.metadata.labels")?[TaskActionLabels.childName] == nil)
        #expect(job.spec?["runPolicy"] == [:] && job.spec?["elasticPolicy"] == nil)

        let elastic = try PyTorchPlugin().build(try Self.context(try Self.template(custom: #"{"workers": 3, "elasticConfig": {"rdzvBackend": "c10d", "minReplicas": 1, "maxReplicas": 3, "nprocPerNode": 4, "maxRestarts": 2}}"#)))
        #expect(elastic.spec?.value(atPath: "pytorchReplicaSpecs")?["Master"] == nil)
        #expect(elastic.spec?["elasticPolicy"] == ["minReplicas": 1, "maxReplicas": 3, "rdzvBackend": "c10d", "nProcPerNode": 4, "maxRestarts": 2])
    }

    @Test("version 1: each replica's common spec (image, resources, restart policy) over the task's, one Master whatever it asks, and the run policy")
    func versionOne() throws {
        let custom = #"""
        {"workerReplicas": {"common": {"replicas": 4, "image": "ghcr.io/acme/train:2", "restartPolicy": "RESTART_POLICY_ON_FAILURE",
                            "resources": {"requests": [{"name": "CPU", "value": "2"}, {"name": "GPU", "value": "1"}], "limits": [{"name": "GPU", "value": "1"}]}}},
         "masterReplicas": {"common": {"replicas": 3, "restartPolicy": "RESTART_POLICY_ALWAYS"}},
         "runPolicy": {"cleanPodPolicy": "CLEANPOD_POLICY_ALL", "backoffLimit": 3, "ttlSecondsAfterFinished": 100}}
        """#
        let job = try PyTorchPlugin().build(try Self.context(try Self.template(version: 1, custom: custom)))
        let specs = try #require(job.spec?["pytorchReplicaSpecs"])
        #expect(specs["Master"]?["replicas"] == 1 && specs["Master"]?["restartPolicy"] == "Always")
        #expect(specs["Worker"]?["replicas"] == 4 && specs["Worker"]?["restartPolicy"] == "OnFailure")
        let worker = specs["Worker"]?.value(atPath: "template.spec.containers")?[0]
        #expect(worker?["image"] == "ghcr.io/acme/train:2")
        // Limits not given are the requests, as the Pod plugin writes them.
        #expect(worker?["resources"] == ["requests": ["cpu": "2", "nvidia.com/gpu": "1"], "limits": ["cpu": "2", "nvidia.com/gpu": "1"]])
        #expect(specs["Master"]?.value(atPath: "template.spec.containers")?[0]?["image"] == "cr.flyte.org/flyteorg/flytekit:py3.11")
        #expect(job.spec?["runPolicy"] == ["cleanPodPolicy": "All", "backoffLimit": 3, "ttlSecondsAfterFinished": 100])

        // The deprecated fields when there is no common spec.
        let old = try PyTorchPlugin().build(try Self.context(try Self.template(version: 1, custom: #"{"workerReplicas": {"replicas": 2, "image": "old:1"}}"#)))
        #expect(old.spec?.value(atPath: "pytorchReplicaSpecs")?["Worker"]?["replicas"] == 2)
        #expect(old.spec?.value(atPath: "pytorchReplicaSpecs")?["Worker"]?.value(atPath: "template.spec.containers")?[0]?["image"] == "old:1")
    }

    @Test("refused: no workers, an unknown task type version, a payload that does not decode")
    func refused() throws {
        for (template, words) in [
            (try Self.template(custom: #"{"workers": 0}"#), "number of workers must be greater than 0"),
            (try Self.template(version: 2, custom: #"{"workers": 1}"#), "Invalid TaskSpecification, unsupported task template version [2] key"),
            (try Self.template(custom: #"{"workers": "many"}"#), "does not decode"),
        ] {
            #expect {
                _ = try PyTorchPlugin().build(try Self.context(template))
            } throws: { error in
                guard let error = error as? ExecutionError else { return false }
                return error.code == "BadTaskSpecification" && error.message.contains(words)
            }
        }
    }

    static func job(conditions: [(String, String, Int)], startTime: Bool = true, created: Date = Date(timeIntervalSince1970: 1_800_000_000), master: Bool = true) -> PyTorchJob {
        var metadata = ObjectMeta(name: "r1-pt-0", namespace: "flytesnacks-development")
        metadata.creationTimestamp = KubeTime.format(created)
        var status: JSONValue = ["conditions": .array(conditions.map { type, state, second in
            ["type": .string(type), "status": .string(state), "reason": .string("PyTorchJob\(type)"), "message": "it happened",
             "lastTransitionTime": .string(KubeTime.format(Date(timeIntervalSince1970: 1_800_000_000 + Double(second))))]
        })]
        if startTime { status["startTime"] = .string(KubeTime.format(created)) }
        var specs: JSONValue = ["Worker": ["replicas": 2]]
        if master { specs["Master"] = ["replicas": 1] }
        return PyTorchJob(metadata: metadata, spec: ["pytorchReplicaSpecs": specs], status: status)
    }

    @Test("the condition that turned true last decides, as Flyte's GetPhaseInfo; Succeeded or Failed of any status is terminal; no operator status within kf-operator.timeout is a system error")
    func phases() throws {
        let plugin = PyTorchPlugin()
        let context = try Self.context(try Self.template(custom: #"{"workers": 2}"#))
        #expect(plugin.phase(of: Self.job(conditions: []), context: context).phase == .queued)
        #expect(plugin.phase(of: Self.job(conditions: [("Created", "True", 1)]), context: context).reason == "JobCreated")
        #expect(plugin.phase(of: Self.job(conditions: [("Created", "True", 1), ("Running", "True", 2)]), context: context).phase == .running)
        #expect(plugin.phase(of: Self.job(conditions: [("Created", "True", 1), ("Running", "True", 3), ("Restarting", "True", 2)]), context: context).phase == .running)
        #expect(plugin.phase(of: Self.job(conditions: [("Created", "True", 1), ("Running", "False", 3), ("Succeeded", "True", 3)]), context: context).phase == .success)
        // All within one second: the later in the list (the operator appends) decides.
        #expect(plugin.phase(of: Self.job(conditions: [("Created", "True", 1), ("Running", "False", 1), ("Succeeded", "True", 1)]), context: context).phase == .success)
        let failed = plugin.phase(of: Self.job(conditions: [("Created", "True", 1), ("Running", "False", 4), ("Failed", "True", 4)]), context: context)
        #expect(failed.phase == .retryableFailure && failed.error?.code == "DownstreamSystemError" && failed.error?.kind == .user)
        #expect(failed.error?.message == "Job failed:\n\tPyTorchJobFailed - it happened")
        let none = plugin.phase(of: Self.job(conditions: [("Created", "False", 1)]), context: context)
        #expect(none.phase == .retryableFailure && none.error?.kind == .system)

        #expect(plugin.isTerminal(Self.job(conditions: [("Succeeded", "False", 1)])))
        #expect(!plugin.isTerminal(Self.job(conditions: [("Running", "True", 1)])))
        #expect(plugin.completionTime(Self.job(conditions: [("Failed", "True", 9)])) == Date(timeIntervalSince1970: 1_800_000_009))

        // 100 s after creation with no startTime: past the default 60 s.
        let silent = plugin.phase(of: Self.job(conditions: [], startTime: false), context: context)
        #expect(silent.phase == .retryableFailure && silent.error?.kind == .system && silent.error?.code == "KubeflowOperatorTimeout")
        var patient = KubeflowConfig()
        patient.timeoutSeconds = 300
        let waiting = PyTorchPlugin(kubeflow: patient).phase(of: Self.job(conditions: [], startTime: false), context: context)
        #expect(waiting.phase == .queued && waiting.recheckAfter == .milliseconds(200_001))
        #expect(try ExecutorConfig.parse(yaml: "kf-operator: {timeout: 2m30s}", path: "c").kfOperator.timeoutSeconds == 150)
    }

    @Test("worker 0's Pod decides first: stuck pulling its image past the grace period fails the attempt though the job still runs")
    func workerZero() throws {
        let plugin = PyTorchPlugin()
        let context = try Self.context(try Self.template(custom: #"{"workers": 2}"#))
        #expect(plugin.relatedPod?.name(Self.job(conditions: [])) == "r1-pt-0-worker-0")
        var pod = Pod(metadata: ObjectMeta(name: "r1-pt-0-worker-0", namespace: "flytesnacks-development"), spec: PodSpec(containers: [Container(name: "pytorch")]))
        var waiting = ContainerStatus(name: "pytorch", state: ContainerState(waiting: .init(reason: "ImagePullBackOff", message: "Back-off pulling image")))
        waiting.image = "img"
        var status = PodStatus(phase: "Pending")
        status.containerStatuses = [waiting]
        status.conditions = [PodCondition(type: "PodScheduled", status: "True"), PodCondition(type: "Ready", status: "False", lastTransitionTime: KubeTime.format(Date(timeIntervalSince1970: 1_799_999_000)))]
        pod.status = status
        let info = plugin.phase(of: Self.job(conditions: [("Created", "True", 1), ("Running", "True", 2)]), relatedPod: pod, context: context)
        #expect(info.phase.isFailure && info.error?.code == "ImagePullBackOff", "\(info)")
    }

    @Test("log links: the master's (its names ending in master) and each worker's, the job's creation as their start")
    func links() throws {
        var config = PluginConfig()
        var template = LogLinkTemplate(displayName: "Logs ", templateUris: ["https://logs.example.com/{{ .namespace }}/{{ .podName }}/{{ .containerName }}?from={{ .podUnixStartTime }}"])
        template.linkType = "external"
        config.logs.templates = [template]
        let context = try Self.context(try Self.template(custom: #"{"workers": 2}"#), config: config)
        let links = PyTorchPlugin(config: config).phase(of: Self.job(conditions: [("Running", "True", 2)]), context: context).links
        #expect(links.map(\.name) == ["Logs master", "Logs ", "Logs "])
        #expect(links.map(\.uri) == [
            "https://logs.example.com/flytesnacks-development/r1-pt-0-master-0/pytorch?from=1800000000",
            "https://logs.example.com/flytesnacks-development/r1-pt-0-worker-0/pytorch?from=1800000000",
            "https://logs.example.com/flytesnacks-development/r1-pt-0-worker-1/pytorch?from=1800000000",
        ])
        #expect(PyTorchPlugin(config: config).phase(of: Self.job(conditions: [], master: false), context: context).links.count == 2)
    }
}

/// `pytorch` tasks end to end against the simulated Kubeflow training operator.
@Suite("PyTorch tasks", TestCluster.sandboxOnly)
struct PyTorchScenarioTests {
    @Test("a PyTorch task succeeds: a PyTorchJob owned by the TaskAction, a master and two workers from its template; one whose Pods fail fails with the operator's words")
    func tasks() async throws {
        try await ExecutorHarness.with(operators: [.pytorch]) { h in
            try await h.create(Fixtures.taskAction("r1-pt", taskType: "pytorch", template: Fixtures.pluginTemplate(type: "pytorch", env: [:], retries: 0, custom: #"{"workers": 2}"#)))
            let done = try await h.terminal("r1-pt")
            #expect(done.status?.phaseHistory?.last?.phase == "Completed", "\(done.status?.phaseHistory?.map(\.phase) ?? [])")
            let job = try await h.client.get(PyTorchJob.self, name: "r1-pt-0", namespace: h.namespace)
            #expect(job.metadata.ownerReferences?.first?.kind == "TaskAction" && job.metadata.labels?[TaskActionLabels.managed] == "true")
            #expect(job.conditions.contains { $0["type"] == "Succeeded" && $0["status"] == "True" })
            let pods = try await h.pods().compactMap(\.metadata.name).filter { $0.hasPrefix("r1-pt-0-") }.sorted()
            #expect(pods == ["r1-pt-0-master-0", "r1-pt-0-worker-0", "r1-pt-0-worker-1"])
            #expect(try await h.pod("r1-pt-0-worker-0").spec?.containers.first?.name == "pytorch")

            try await h.create(Fixtures.taskAction("r2-pt", taskType: "pytorch", template: Fixtures.pluginTemplate(type: "pytorch", env: ["SANDBOX_OUTCOME": "fail"], retries: 0, custom: #"{"workers": 1}"#)))
            let failed = try await h.terminal("r2-pt")
            #expect(failed.status?.phaseHistory?.last?.phase == "PermanentFailure")
            // Worker 0's own failure decides first, as in Flyte; else the operator's Failed condition.
            let message = failed.status?.errorState?.message ?? ""
            #expect(message.contains("exit code") || message.contains("replica(s) failed"), "\(message)")
        }
    }
}
