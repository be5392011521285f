import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Testing
@testable import TaskPlugins

/// `clustered-task` tasks as JobSets, as Flyte's `plugins/k8s/clustered` builds and reads them.
@Suite("clustered-task plugin")
struct ClusteredTaskPluginTests {
    static func template(_ custom: String) throws -> Flyteidl2_Core_TaskTemplate {
        try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.pluginTemplate(type: "clustered-task", env: ["NNODES": "9"], retries: 0, custom: custom))
    }

    static func context(_ template: Flyteidl2_Core_TaskTemplate, config: PluginConfig = PluginConfig(), phase: String? = nil) throws -> TaskExecutionContext {
        var context = try Fixtures.pluginContext("r1-cl", template, config: config)
        if let phase {
            var status = context.taskAction.status ?? TaskActionStatus()
            status.pluginPhase = phase
            context.taskAction.status = status
        }
        return context
    }

    static let full = #"{"replicas": 3, "nprocPerNode": 8, "runtime": {"torchrun": {"rdzvBackend": "C10D"}}, "failurePolicy": {"maxRestarts": 2}, "ttlSecondsAfterFinished": 600}"#

    @Test("one replicated job `workers` of `replicas` indexed Pods from the task's Pod: torchrun's variables upserted, restart policy Never, the subdomain the JobSet's name, the failure policy and TTL, Flyte's label and annotations; the name leaves room for the ranks' Pod names")
    func build() throws {
        let context = try Self.context(try Self.template(Self.full))
        let jobSet = try ClusteredTaskPlugin().build(context)
        #expect(jobSet.apiVersion == "jobset.x-k8s.io/v1alpha2" && jobSet.kind == "JobSet")
        #expect(ClusteredTaskPlugin().properties.generatedNameMaxLength == 41)
        let spec = try #require(jobSet.spec)
        #expect(spec["network"] == ["enableDNSHostnames": true] && spec["successPolicy"] == ["operator": "All"])
        #expect(spec["failurePolicy"] == ["maxRestarts": 2] && spec["ttlSecondsAfterFinished"] == 600)
        let workers = try #require(spec["replicatedJobs"]?[0])
        #expect(workers["name"] == "workers" && workers["replicas"] == 1)
        let job = try #require(workers.value(atPath: "template.spec"))
        #expect(job["parallelism"] == 3 && job["completions"] == 3 && job["completionMode"] == "Indexed" && job["backoffLimit"] == 0)
        #expect(job.value(atPath: "template.spec.restartPolicy") == "Never" && job.value(atPath: "template.spec.subdomain") == .string(context.generatedName))
        #expect(job.value(atPath: "template.metadata.labels")?[TaskActionLabels.childName] == .string(context.generatedName))
        #expect(job.value(atPath: "template.metadata.labels")?["flyte.org/managed"] == "true")
        let env = job.value(atPath: "template.spec.containers")?[0]?["env"]?.arrayValue ?? []
        func value(_ name: String) -> JSONValue? { env.first { $0["name"]?.stringValue == name }?["value"] }
        #expect(value("NNODES") == "3" && env.filter { $0["name"] == "NNODES" }.count == 1, "the task's own NNODES replaced in place")
        #expect(value("NPROC_PER_NODE") == "8" && value("MASTER_PORT") == "29500" && value("RDZV_BACKEND") == "c10d" && value("JOBSET_MAX_RESTARTS") == "2")
        #expect(env.first { $0["name"] == "JOBSET_NAME" }?.value(atPath: "valueFrom.fieldRef.fieldPath") == "metadata.labels['jobset.sigs.k8s.io/jobset-name']")
        #expect(env.first { $0["name"] == "JOBSET_RESTART_ATTEMPT" }?.value(atPath: "valueFrom.fieldRef.fieldPath") == "metadata.annotations['jobset.sigs.k8s.io/restart-attempt']")
        #expect(jobSet.metadata.labels == ["flyte.org/execution": "r1"])
        #expect(jobSet.metadata.annotations?["flyte.org/task-type"] == "clustered-task")
        #expect(jobSet.metadata.annotations?[ClusteredTaskPlugin.primaryContainerAnnotation] == job.value(atPath: "template.spec.containers")?[0]?["name"]?.stringValue)

        // No restarts asked: no failure policy, the static rendezvous.
        let plain = try ClusteredTaskPlugin().build(try Self.context(try Self.template(#"{"replicas": 1, "nprocPerNode": 1}"#)))
        #expect(plain.spec?["failurePolicy"] == nil && plain.spec?["ttlSecondsAfterFinished"] == nil)
        #expect(ClusteredTaskPlugin.labelValue("") == "none" && ClusteredTaskPlugin.labelValue("-run/1_") == "xrun-1x")
        #expect(ClusteredTaskPlugin.labelValue(String(repeating: "a", count: 70)).count == 63)
    }

    @Test("refused, naming the bound: no replicas, more than the names allow, no processes per node, a negative restart budget")
    func refused() throws {
        for (custom, words) in [
            (#"{"replicas": 0, "nprocPerNode": 1}"#, "replicas must be >= 1, got 0"),
            (#"{"replicas": 100001, "nprocPerNode": 1}"#, "replicas must be <= 100000, got 100001"),
            (#"{"replicas": 2, "nprocPerNode": 0}"#, "nproc_per_node must be >= 1, got 0"),
            (#"{"replicas": 2, "nprocPerNode": 1, "failurePolicy": {"maxRestarts": -1}}"#, "failure_policy.max_restarts must be >= 0, got -1"),
        ] {
            #expect {
                _ = try ClusteredTaskPlugin().build(try Self.context(try Self.template(custom)))
            } throws: { error in
                (error as? ExecutionError).map { $0.code == "BadTaskSpecification" && $0.message == words } ?? false
            }
        }
    }

    static func jobSet(conditions: [(String, String, String)] = [], restarts: Int = 0, workers: JSONValue? = nil, maxRestarts: Int? = 2) -> JobSet {
        var metadata = ObjectMeta(name: "r1-cl-0", namespace: "default")
        metadata.creationTimestamp = KubeTime.format(Date(timeIntervalSince1970: 1_800_000_000))
        metadata.annotations = [ClusteredTaskPlugin.primaryContainerAnnotation: "main"]
        var spec: JSONValue = ["replicatedJobs": [["name": "workers", "template": ["spec": ["parallelism": 2]]]]]
        if let maxRestarts { spec["failurePolicy"] = ["maxRestarts": .int(Int64(maxRestarts))] }
        var status: JSONValue = ["restarts": .int(Int64(restarts)), "conditions": .array(conditions.enumerated().map { i, c in
            ["type": .string(c.0), "status": "True", "reason": .string(c.1), "message": .string(c.2), "lastTransitionTime": .string(KubeTime.format(Date(timeIntervalSince1970: 1_800_000_001 + Double(i))))]
        })]
        if let workers { status["replicatedJobsStatus"] = [workers] }
        return JobSet(metadata: metadata, spec: spec, status: status)
    }

    static func rank0(_ phase: String, name: String = "r1-cl-0-workers-0-0-abcde", created: Double = 1_800_000_010, state: JSONValue? = nil) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec(containers: [Container(name: "main")]))
        pod.metadata.creationTimestamp = KubeTime.format(Date(timeIntervalSince1970: created))
        var status: JSONValue = ["phase": .string(phase)]
        if let state { status["containerStatuses"] = [["name": "main", "ready": false, "restartCount": 0, "image": "i", "imageID": "", "state": state]] }
        pod.status = try? JSONValueDecoder().decode(PodStatus.self, from: status)
        return pod
    }

    @Test("status as Flyte's: initializing until started, running with the restart attempt, Completed success, Failed a retryable failure in the controller's words, RestartingJobSet running; rank 0's failure decides only once the restarts are spent")
    func phases() throws {
        let plugin = ClusteredTaskPlugin()
        let context = try Self.context(try Self.template(Self.full))
        let waiting = plugin.phase(of: Self.jobSet(), context: context)
        #expect(waiting.phase == .initializing && waiting.reason == "pods scheduling / DNS resolving")
        let active: JSONValue = ["name": "workers", "active": 1, "ready": 0, "succeeded": 0, "failed": 0]
        #expect(plugin.phase(of: Self.jobSet(workers: active), context: context).reason == "running (restart attempt 0)")
        // Already running by the TaskAction's record: started, whatever the counts.
        #expect(plugin.phase(of: Self.jobSet(), context: try Self.context(try Self.template(Self.full), phase: "PhaseRunning")).phase == .running)
        #expect(plugin.phase(of: Self.jobSet(conditions: [("Completed", "AllJobsCompleted", "jobset completed successfully")]), context: context).phase == .success)
        let failed = plugin.phase(of: Self.jobSet(conditions: [("Failed", "ReachedMaxRestarts", "jobset failed due to reaching max number of restarts")]), context: context)
        #expect(failed.phase == .retryableFailure && failed.error?.code == "ReachedMaxRestarts" && failed.error?.message == "jobset failed due to reaching max number of restarts")
        let restarting = plugin.phase(of: Self.jobSet(conditions: [("RestartingJobSet", "DefaultFailurePolicy", "m")], restarts: 1), context: context)
        #expect(restarting.phase == .running && restarting.reason == "restart in progress (attempt 1)")
        #expect(plugin.isTerminal(Self.jobSet(conditions: [("Failed", "FailedJobs", "m")])) && !plugin.isTerminal(Self.jobSet(workers: active)))
        #expect(plugin.completionTime(Self.jobSet(conditions: [("Completed", "AllJobsCompleted", "m")])) == Date(timeIntervalSince1970: 1_800_000_001))

        // Rank 0 failed: the set will restart while its budget lasts, so only a spent budget fails the attempt now.
        let exited: JSONValue = ["terminated": ["exitCode": 3, "reason": "Error", "finishedAt": "2027-01-15T08:00:00Z"]]
        let failedWorkers: JSONValue = ["name": "workers", "active": 0, "ready": 0, "succeeded": 0, "failed": 1]
        #expect(plugin.phase(of: Self.jobSet(restarts: 1, workers: failedWorkers), relatedPod: Self.rank0("Failed", state: exited), context: context).phase == .running)
        let spent = plugin.phase(of: Self.jobSet(restarts: 2, workers: failedWorkers), relatedPod: Self.rank0("Failed", state: exited), context: context)
        #expect(spent.phase.isFailure && spent.error?.message.contains("exit code (3)") == true, "\(spent)")
        // While the set restarts, a failed rank 0 is the last attempt's: it does not decide.
        #expect(plugin.phase(of: Self.jobSet(conditions: [("RestartingJobSet", "DefaultFailurePolicy", "m")], restarts: 2, workers: failedWorkers), relatedPod: Self.rank0("Failed", state: exited), context: context).phase == .running)
        // Rank 0 stuck pulling its image past the grace period fails the attempt at once.
        var stuck = Self.rank0("Pending", state: ["waiting": ["reason": "ImagePullBackOff", "message": "Back-off pulling image"]])
        stuck.status?.conditions = [PodCondition(type: "PodScheduled", status: "True"), PodCondition(type: "Ready", status: "False", lastTransitionTime: KubeTime.format(Date(timeIntervalSince1970: 1_799_999_000)))]
        #expect(plugin.phase(of: Self.jobSet(workers: active), relatedPod: stuck, context: context).error?.code == "ImagePullBackOff")
    }

    @Test("rank 0 is the active `<set>-workers-0-0-…` Pod before a failed one of an earlier attempt, never another rank; links per rank, named rank-<i>")
    func rankZeroAndLinks() throws {
        let set = Self.jobSet()
        let choose = try #require(ClusteredTaskPlugin().relatedPod?.choose)
        let old = Self.rank0("Failed", name: "r1-cl-0-workers-0-0-old11", created: 1_800_000_020)
        let current = Self.rank0("Running", name: "r1-cl-0-workers-0-0-new22", created: 1_800_000_010)
        let rank1 = Self.rank0("Running", name: "r1-cl-0-workers-0-1-zzz33", created: 1_800_000_030)
        #expect(choose(set, [old, current, rank1])?.metadata.name == "r1-cl-0-workers-0-0-new22")
        #expect(choose(set, [old, rank1])?.metadata.name == "r1-cl-0-workers-0-0-old11")
        #expect(choose(set, [rank1]) == nil)

        var config = PluginConfig()
        config.logs.templates = [LogLinkTemplate(displayName: "Logs ", templateUris: ["https://logs/{{ .podName }}/{{ .containerName }}"])]
        let links = ClusteredTaskPlugin(config: config).phase(of: set, context: try Self.context(try Self.template(Self.full), config: config)).links
        #expect(links.map(\.name) == ["Logs rank-0", "Logs rank-1"])
        #expect(links.map(\.uri) == ["https://logs/r1-cl-0-workers-0-0/main", "https://logs/r1-cl-0-workers-0-1/main"])
    }
}

/// `clustered-task` tasks end to end against the simulated JobSet controller.
@Suite("clustered-task tasks", TestCluster.sandboxOnly)
struct ClusteredTaskScenarioTests {
    @Test("a clustered task of three ranks succeeds with the set; one whose ranks fail is restarted once, as its budget allows, then fails with the controller's reason")
    func tasks() async throws {
        try await ExecutorHarness.with(operators: [.jobset]) { h in
            try await h.create(Fixtures.taskAction("r1-cl", taskType: "clustered-task", template: Fixtures.pluginTemplate(type: "clustered-task", env: [:], retries: 0, custom: #"{"replicas": 3, "nprocPerNode": 1}"#)))
            let done = try await h.terminal("r1-cl")
            #expect(done.status?.phaseHistory?.last?.phase == "Completed", "\(done.status?.phaseHistory?.map(\.phase) ?? [])")
            let set = try await h.client.get(JobSet.self, name: "r1-cl-0", namespace: h.namespace)
            #expect(set.metadata.ownerReferences?.first?.kind == "TaskAction")
            #expect(set.conditions.contains { $0["type"] == "Completed" && $0["reason"] == "AllJobsCompleted" })
            let pods = try await h.pods().filter { ($0.metadata.name ?? "").hasPrefix("r1-cl-0-workers-0-") }
            #expect(pods.count == 3)
            let indexes = pods.compactMap { $0.spec?.containers.first?.env?.first { $0.name == "JOB_COMPLETION_INDEX" }?.value }.sorted()
            #expect(indexes == ["0", "1", "2"])

            try await h.create(Fixtures.taskAction("r2-cl", taskType: "clustered-task", template: Fixtures.pluginTemplate(type: "clustered-task", env: ["SANDBOX_OUTCOME": "fail"], retries: 0, custom: #"{"replicas": 2, "nprocPerNode": 1, "failurePolicy": {"maxRestarts": 1}}"#)))
            let failed = try await h.terminal("r2-cl")
            #expect(failed.status?.phaseHistory?.last?.phase == "PermanentFailure")
            let failedSet = try await h.client.get(JobSet.self, name: "r2-cl-0", namespace: h.namespace)
            #expect(failedSet.restarts == 1)
            let message = failed.status?.errorState?.message ?? ""
            // Rank 0's own exit once the budget is spent, or the controller's words: whichever is seen first.
            #expect(message.contains("exit code") || message.contains("jobset failed due to reaching max number of restarts"), "\(message)")
        }
    }
}
