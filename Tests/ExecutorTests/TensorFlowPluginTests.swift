import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Testing
@testable import TaskPlugins

/// `tensorflow` tasks as Kubeflow TFJobs, as Flyte's `kfoperators/tensorflow` builds and reads them.
@Suite("TensorFlow plugin")
struct TensorFlowPluginTests {
    static func template(version: Int32 = 0, custom: String) throws -> Flyteidl2_Core_TaskTemplate {
        var t = try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.pluginTemplate(type: "tensorflow", env: [:], retries: 0, custom: custom))
        t.taskTypeVersion = version
        return t
    }

    static func context(_ template: Flyteidl2_Core_TaskTemplate, config: PluginConfig = PluginConfig(), now: Date = Date(timeIntervalSince1970: 1_800_000_100)) throws -> TaskExecutionContext {
        try Fixtures.pluginContext("r1-tf", template, config: config, now: now)
    }

    @Test("version 0: Worker, PS, Chief and Evaluator replicas by count (a kind with none left out), the container named tensorflow, restart policy Never, worker 0's template naming the child")
    func versionZero() throws {
        let context = try Self.context(try Self.template(custom: #"{"workers": 2, "psReplicas": 1, "chiefReplicas": 1}"#))
        let job = try TensorFlowPlugin().build(context)
        let specs = try #require(job.spec?["tfReplicaSpecs"]?.objectValue)
        #expect(specs.keys.sorted() == ["Chief", "PS", "Worker"])
        #expect(specs["Worker"]?["replicas"] == 2 && specs["PS"]?["replicas"] == 1 && specs["Chief"]?["replicas"] == 1)
        #expect(specs.values.allSatisfy { $0["restartPolicy"] == "Never" })
        for spec in specs.values {
            let container = spec.value(atPath: "template.spec.containers")?[0]
            #expect(container?["name"] == "tensorflow" && container?["args"]?.arrayValue?.first == "pyflyte-execute")
            #expect(spec.value(atPath: "template.metadata.labels")?["flyte.org/managed"] == "true")
        }
        #expect(specs["Worker"]?.value(atPath: "template.metadata.labels")?[TaskActionLabels.childName] == .string(context.generatedName))
        #expect(specs["PS"]?.value(atPath: "template.metadata.labels")?[TaskActionLabels.childName] == nil)
        #expect(job.spec?["runPolicy"] == [:])
        #expect(job.apiVersion == "kubeflow.org/v1" && job.kind == "TFJob")
    }

    @Test("version 1: each replica's common spec or deprecated fields over the task's, the Chief's count as asked, the run policy")
    func versionOne() throws {
        let custom = #"""
        {"workerReplicas": {"common": {"replicas": 3, "image": "ghcr.io/acme/tf:2", "restartPolicy": "RESTART_POLICY_ON_FAILURE",
                            "resources": {"requests": [{"name": "CPU", "value": "2"}]}}},
         "psReplicas": {"replicas": 2, "image": "ghcr.io/acme/ps:1"},
         "chiefReplicas": {"common": {"replicas": 1, "restartPolicy": "RESTART_POLICY_ALWAYS"}},
         "evaluatorReplicas": {"common": {"replicas": 1}},
         "runPolicy": {"cleanPodPolicy": "CLEANPOD_POLICY_RUNNING", "activeDeadlineSeconds": 600}}
        """#
        let job = try TensorFlowPlugin().build(try Self.context(try Self.template(version: 1, custom: custom)))
        let specs = try #require(job.spec?["tfReplicaSpecs"])
        #expect(specs["Worker"]?["replicas"] == 3 && specs["Worker"]?["restartPolicy"] == "OnFailure")
        #expect(specs["Worker"]?.value(atPath: "template.spec.containers")?[0]?["image"] == "ghcr.io/acme/tf:2")
        #expect(specs["Worker"]?.value(atPath: "template.spec.containers")?[0]?["resources"] == ["requests": ["cpu": "2"], "limits": ["cpu": "2"]])
        #expect(specs["PS"]?["replicas"] == 2 && specs["PS"]?.value(atPath: "template.spec.containers")?[0]?["image"] == "ghcr.io/acme/ps:1")
        #expect(specs["Chief"]?["replicas"] == 1 && specs["Chief"]?["restartPolicy"] == "Always")
        #expect(specs["Evaluator"]?["replicas"] == 1)
        #expect(job.spec?["runPolicy"] == ["cleanPodPolicy": "Running", "activeDeadlineSeconds": 600])
    }

    @Test("refused: no workers (whatever else), an unknown task type version")
    func refused() throws {
        for (template, words) in [
            (try Self.template(custom: #"{"psReplicas": 2, "chiefReplicas": 1}"#), "number of workers must be greater than 0"),
            (try Self.template(version: 1, custom: #"{"workerReplicas": {"common": {"replicas": 0}}}"#), "number of workers must be greater than 0"),
            (try Self.template(version: 3, custom: #"{"workers": 1}"#), "unsupported task template version [3]"),
        ] {
            #expect {
                _ = try TensorFlowPlugin().build(try Self.context(template))
            } throws: { error in
                (error as? ExecutionError).map { $0.code == "BadTaskSpecification" && $0.message.contains(words) } ?? false
            }
        }
    }

    static func job(_ replicas: [String: Int], conditions: [(String, String)] = [], startTime: Bool = true) -> TFJob {
        var metadata = ObjectMeta(name: "r1-tf-0", namespace: "flytesnacks-development")
        metadata.creationTimestamp = KubeTime.format(Date(timeIntervalSince1970: 1_800_000_000))
        var status: JSONValue = ["conditions": .array(conditions.enumerated().map { i, c in
            ["type": .string(c.0), "status": .string(c.1), "reason": .string("TFJob\(c.0)"), "message": "it happened",
             "lastTransitionTime": .string(KubeTime.format(Date(timeIntervalSince1970: 1_800_000_001 + Double(i))))]
        })]
        if startTime { status["startTime"] = .string(KubeTime.format(Date(timeIntervalSince1970: 1_800_000_000))) }
        return TFJob(metadata: metadata, spec: ["tfReplicaSpecs": .object(replicas.mapValues { ["replicas": .int(Int64($0))] })], status: status)
    }

    @Test("status: the job's conditions as PyTorch's, the operator timeout naming tensorflow, worker 0 watched, links for each replica by the operator's Pod names")
    func status() throws {
        var config = PluginConfig()
        config.logs.templates = [LogLinkTemplate(displayName: "Logs ", templateUris: ["https://logs/{{ .podName }}/{{ .containerName }}"])]
        let plugin = TensorFlowPlugin(config: config)
        let context = try Self.context(try Self.template(custom: #"{"workers": 2}"#), config: config)
        #expect(plugin.phase(of: Self.job(["Worker": 1], conditions: [("Created", "True")]), context: context).phase == .queued)
        #expect(plugin.phase(of: Self.job(["Worker": 1], conditions: [("Created", "True"), ("Running", "True")]), context: context).phase == .running)
        #expect(plugin.phase(of: Self.job(["Worker": 1], conditions: [("Created", "True"), ("Running", "False"), ("Succeeded", "True")]), context: context).phase == .success)
        let failed = plugin.phase(of: Self.job(["Worker": 1], conditions: [("Created", "True"), ("Failed", "True")]), context: context)
        #expect(failed.error?.code == "DownstreamSystemError" && failed.error?.message == "Job failed:\n\tTFJobFailed - it happened")
        #expect(plugin.isTerminal(Self.job(["Worker": 1], conditions: [("Failed", "True")])))

        let silent = plugin.phase(of: Self.job(["Worker": 1], startTime: false), context: context)
        #expect(silent.error?.code == "KubeflowOperatorTimeout" && silent.error?.message.contains("the tensorflow custom resource") == true)
        #expect(plugin.relatedPod?.name(Self.job(["Worker": 1])) == "r1-tf-0-worker-0")

        let links = plugin.phase(of: Self.job(["Worker": 2, "PS": 2, "Chief": 1, "Evaluator": 1], conditions: [("Running", "True")]), context: context).links
        #expect(links.map(\.uri) == ["worker-0", "worker-1", "ps-0", "ps-1", "chief-0", "evaluator-0"].map { "https://logs/r1-tf-0-\($0)/tensorflow" })
    }
}

/// `tensorflow` tasks end to end against the simulated Kubeflow training operator.
@Suite("TensorFlow tasks", TestCluster.sandboxOnly)
struct TensorFlowScenarioTests {
    @Test("a TensorFlow task with a chief, a parameter server and two workers succeeds when its chief does; one whose Pods fail fails")
    func tasks() async throws {
        try await ExecutorHarness.with(operators: [.tensorflow]) { h in
            try await h.create(Fixtures.taskAction("r1-tf", taskType: "tensorflow", template: Fixtures.pluginTemplate(type: "tensorflow", env: [:], retries: 0, custom: #"{"workers": 2, "psReplicas": 1, "chiefReplicas": 1}"#)))
            let done = try await h.terminal("r1-tf")
            #expect(done.status?.phaseHistory?.last?.phase == "Completed", "\(done.status?.phaseHistory?.map(\.phase) ?? [])")
            let job = try await h.client.get(TFJob.self, name: "r1-tf-0", namespace: h.namespace)
            #expect(job.metadata.ownerReferences?.first?.kind == "TaskAction")
            #expect(job.conditions.contains { $0["type"] == "Succeeded" && $0["status"] == "True" && $0["message"] == .string("TFJob \(h.namespace)/r1-tf-0 successfully completed.") })
            let pods = try await h.pods().compactMap(\.metadata.name).filter { $0.hasPrefix("r1-tf-0-") }.sorted()
            #expect(pods == ["r1-tf-0-chief-0", "r1-tf-0-ps-0", "r1-tf-0-worker-0", "r1-tf-0-worker-1"])
            let chief = try await h.pod("r1-tf-0-chief-0")
            #expect(chief.spec?.containers.first?.name == "tensorflow")
            #expect(chief.spec?.containers.first?.env?.contains { $0.name == "TF_CONFIG" && ($0.value ?? "").contains(#""task":{"index":0,"type":"chief"}"#) } == true)

            try await h.create(Fixtures.taskAction("r2-tf", taskType: "tensorflow", template: Fixtures.pluginTemplate(type: "tensorflow", env: ["SANDBOX_OUTCOME": "fail"], retries: 0, custom: #"{"workers": 1}"#)))
            let failed = try await h.terminal("r2-tf")
            #expect(failed.status?.phaseHistory?.last?.phase == "PermanentFailure")
            let message = failed.status?.errorState?.message ?? ""
            #expect(message.contains("exit code") || message.contains("replica(s) failed"), "\(message)")
        }
    }
}
