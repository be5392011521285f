import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Testing
@testable import TaskPlugins

/// `dask` tasks as DaskJobs, as Flyte's `plugins/k8s/dask` builds and reads them.
@Suite("Dask plugin")
struct DaskPluginTests {
    static func template(custom: String, interruptible: Bool = false) throws -> Flyteidl2_Core_TaskTemplate {
        var t = try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.pluginTemplate(type: "dask", env: [:], retries: 0, custom: custom))
        t.metadata.interruptible = interruptible
        return t
    }

    static func context(_ template: Flyteidl2_Core_TaskTemplate, config: PluginConfig = PluginConfig(), now: Date = Date(timeIntervalSince1970: 1_800_000_100)) throws -> TaskExecutionContext {
        try Fixtures.pluginContext("r1-dask", template, config: config, now: now)
    }

    static func primary(_ spec: JSONValue?) -> JSONValue? { spec?["containers"]?[0] }

    @Test("the job runner is the task's Pod (container job-runner, Never, never interruptible, naming the child); the scheduler runs `dask scheduler` with its ports, probe and NodePort Service; the workers `dask worker` with threads and memory from their limits")
    func build() throws {
        let custom = #"""
        {"scheduler": {"image": "ghcr.io/dask/dask:2024.1", "resources": {"requests": [{"name": "CPU", "value": "1"}]}},
         "workers": {"numberOfWorkers": 3, "image": "ghcr.io/acme/worker:1", "resources": {"limits": [{"name": "CPU", "value": "1500m"}, {"name": "MEMORY", "value": "4Gi"}]}}}
        """#
        var config = PluginConfig()
        config.interruptibleTolerations = [Toleration(key: "spot", operator: "Exists", effect: "NoSchedule")]
        let context = try Self.context(try Self.template(custom: custom, interruptible: true), config: config)
        let job = try DaskPlugin(config: config).build(context)
        #expect(job.apiVersion == "kubernetes.dask.org/v1" && job.kind == "DaskJob")

        let runner = job.spec?.value(atPath: "job.spec")
        #expect(Self.primary(runner)?["name"] == "job-runner" && runner?["restartPolicy"] == "Never")
        #expect(Self.primary(runner)?["args"]?.arrayValue?.first == "pyflyte-execute")
        #expect(runner?["tolerations"] == nil, "the runner is never interruptible")
        #expect(job.spec?.value(atPath: "job.metadata.labels")?[TaskActionLabels.childName] == .string(context.generatedName))

        let scheduler = job.spec?.value(atPath: "cluster.spec.scheduler")
        let s = Self.primary(scheduler?["spec"])
        #expect(s?["name"] == "scheduler" && s?["image"] == "ghcr.io/dask/dask:2024.1" && s?["args"] == ["dask", "scheduler"])
        #expect(s?["resources"] == ["requests": ["cpu": "1"], "limits": ["cpu": "1"]])
        #expect(s?["ports"]?.arrayValue?.map { $0["containerPort"] } == [8786, 8787])
        #expect(s?.value(atPath: "readinessProbe.httpGet.port") == "dashboard")
        #expect(scheduler?.value(atPath: "spec.restartPolicy") == "Always" && scheduler?.value(atPath: "spec.tolerations") == nil)
        #expect(scheduler?.value(atPath: "service.type") == "NodePort")
        #expect(scheduler?.value(atPath: "service.selector") == ["dask.org/cluster-name": .string(context.generatedName), "dask.org/component": "scheduler"])

        let worker = job.spec?.value(atPath: "cluster.spec.worker")
        let w = Self.primary(worker?["spec"])
        #expect(worker?["replicas"] == 3 && worker?.value(atPath: "spec.restartPolicy") == "Always")
        #expect(w?["name"] == "dask-worker" && w?["image"] == "ghcr.io/acme/worker:1")
        #expect(w?["args"] == ["dask", "worker", "--name", "$(DASK_WORKER_NAME)", "--nthreads", "2", "--memory-limit", "4Gi"])
        // Only the workers run on interruptible capacity when the task may.
        #expect(worker?.value(atPath: "spec.tolerations")?.arrayValue?.isEmpty == false)
    }

    @Test("a dashboard template in dask.logs gives the scheduler its --dashboard-prefix (the link's path less /status); refused: a payload that does not decode")
    func dashboardPrefixAndRefusal() throws {
        var dask = DaskConfig()
        var dashboard = LogLinkTemplate(displayName: "Dask dashboard", templateUris: ["https://dask.example.com/dashboard/{{ .namespace }}/{{ .generatedName }}/status"])
        dashboard.linkType = "dashboard"
        dask.logs.templates = [dashboard]
        let context = try Self.context(try Self.template(custom: #"{"workers": {"numberOfWorkers": 1}}"#))
        let job = try DaskPlugin(dask: dask).build(context)
        #expect(Self.primary(job.spec?.value(atPath: "cluster.spec.scheduler.spec"))?["args"] == ["dask", "scheduler", "--dashboard-prefix", .string("/dashboard/default/\(context.generatedName)")])
        #expect(try ExecutorConfig.parse(yaml: "dask: {logs: {templates: [{displayName: D, templateUris: [x], linkType: dashboard}]}}", path: "c").dask.logs.templates.count == 1)
        #expect(throws: (any Error).self) { try ExecutorConfig.parse(yaml: "dask: {log: {}}", path: "c") }
        #expect {
            _ = try DaskPlugin().build(try Self.context(try Self.template(custom: #"{"workers": {"numberOfWorkers": "many"}}"#)))
        } throws: { error in
            (error as? ExecutionError)?.code == "BadTaskSpecification"
        }
    }

    static func job(_ jobStatus: String?, runner: String? = "r1-dask-0-runner") -> DaskJob {
        var metadata = ObjectMeta(name: "r1-dask-0", namespace: "flytesnacks-development")
        metadata.creationTimestamp = KubeTime.format(Date(timeIntervalSince1970: 1_800_000_000))
        var status: JSONValue = [:]
        if let jobStatus { status["jobStatus"] = .string(jobStatus) }
        if let runner { status["jobRunnerPodName"] = .string(runner); status["clusterName"] = "r1-dask-0" }
        if jobStatus == "Successful" || jobStatus == "Failed" { status["endTime"] = .string(KubeTime.format(Date(timeIntervalSince1970: 1_800_000_050))) }
        return DaskJob(metadata: metadata, status: jobStatus == nil ? nil : status)
    }

    @Test("jobStatus → phase as Flyte's table; the job runner watched and its failure first; links for the runner with daskSchedulerName, the dashboard ready while the job runs; the log context names the runner")
    func status() throws {
        var dask = DaskConfig()
        var dashboard = LogLinkTemplate(displayName: "Dask dashboard", templateUris: ["https://dask/{{ .daskSchedulerName }}/status"])
        dashboard.linkType = "dashboard"
        dask.logs.templates = [LogLinkTemplate(displayName: "Runner logs", templateUris: ["https://logs/{{ .podName }}"]), dashboard]
        let plugin = DaskPlugin(dask: dask)
        let context = try Self.context(try Self.template(custom: "{}"))
        // Without a dashboard link the reasons are the table's; with one, they say whether it is ready.
        #expect(DaskPlugin().phase(of: Self.job(nil, runner: nil), context: context).reason == "unknown")
        #expect(DaskPlugin().phase(of: Self.job("JobCreated", runner: nil), context: context).reason == "job created")
        #expect(DaskPlugin().phase(of: Self.job("ClusterCreated"), context: context).reason == "cluster created")
        #expect(plugin.phase(of: Self.job("ClusterCreated"), context: context).phase == .initializing)
        let running = plugin.phase(of: Self.job("Running"), context: context)
        #expect(running.phase == .running && running.reason == "Dask dashboard is ready")
        #expect(running.links.map(\.uri) == ["https://logs/r1-dask-0-runner", "https://dask/r1-dask-0-scheduler/status"])
        #expect(running.links.last?.ready == true)
        #expect(running.logContext?.primaryPodName == "r1-dask-0-runner" && running.logContext?.pods.first?.primaryContainerName == "job-runner")
        let created = plugin.phase(of: Self.job("ClusterCreated"), context: context)
        #expect(created.links.last?.ready == false && created.reason == "Dask dashboard is not ready")
        #expect(plugin.phase(of: Self.job("Successful"), context: context).phase == .success)
        let failed = plugin.phase(of: Self.job("Failed"), context: context)
        #expect(failed.phase == .retryableFailure && failed.error?.code == "DownstreamSystemError" && failed.error?.message == "Dask Job failed")
        #expect(plugin.isTerminal(Self.job("Failed")) && !plugin.isTerminal(Self.job("Running")))
        #expect(plugin.completionTime(Self.job("Successful")) == Date(timeIntervalSince1970: 1_800_000_050))

        #expect(plugin.relatedPod?.name(Self.job("Running")) == "r1-dask-0-runner")
        #expect(plugin.relatedPod?.name(Self.job(nil, runner: nil)) == "r1-dask-0-runner")
        var pod = Pod(metadata: ObjectMeta(name: "r1-dask-0-runner", namespace: "flytesnacks-development"), spec: PodSpec(containers: [Container(name: "job-runner")]))
        var terminated = ContainerStatus(name: "job-runner", state: ContainerState(terminated: .init(exitCode: 2, reason: "Error")))
        terminated.image = "img"
        var podStatus = PodStatus(phase: "Failed")
        podStatus.containerStatuses = [terminated]
        pod.status = podStatus
        let runnerFailed = plugin.phase(of: Self.job("Running"), relatedPod: pod, context: context)
        #expect(runnerFailed.phase.isFailure && runnerFailed.error?.message.contains("exit code (2)") == true, "\(runnerFailed)")
    }
}

/// `dask` tasks end to end against the simulated Dask operator.
@Suite("Dask tasks", TestCluster.sandboxOnly)
struct DaskScenarioTests {
    @Test("a Dask task succeeds with its runner, a scheduler and two workers, whose Pods go with the job's end; one whose runner fails fails")
    func tasks() async throws {
        try await ExecutorHarness.with(operators: [.dask]) { h in
            try await h.create(Fixtures.taskAction("r1-dask", taskType: "dask", template: Fixtures.pluginTemplate(type: "dask", env: [:], retries: 0, custom: #"{"workers": {"numberOfWorkers": 2}}"#)))
            let done = try await h.terminal("r1-dask")
            #expect(done.status?.phaseHistory?.last?.phase == "Completed", "\(done.status?.phaseHistory?.map(\.phase) ?? [])")
            let job = try await h.client.get(DaskJob.self, name: "r1-dask-0", namespace: h.namespace)
            #expect(job.metadata.ownerReferences?.first?.kind == "TaskAction" && job.jobStatus == "Successful" && job.status?["endTime"] != nil)
            let runner = try await h.pod("r1-dask-0-runner")
            #expect(runner.spec?.containers.first?.name == "job-runner" && runner.metadata.labels?[TaskActionLabels.childName] == "r1-dask-0")
            #expect(runner.spec?.containers.first?.env?.contains { $0.name == "DASK_SCHEDULER_ADDRESS" } == true)
            // The cluster's Pods went with the job's end.
            try await eventually("the cluster's Pods deleted") {
                try await h.pods().compactMap(\.metadata.name).filter { $0.hasPrefix("r1-dask-0-") }.sorted() == ["r1-dask-0-runner"]
            }

            try await h.create(Fixtures.taskAction("r2-dask", taskType: "dask", template: Fixtures.pluginTemplate(type: "dask", env: ["SANDBOX_OUTCOME": "fail"], retries: 0, custom: #"{"workers": {"numberOfWorkers": 1}}"#)))
            let failed = try await h.terminal("r2-dask")
            #expect(failed.status?.phaseHistory?.last?.phase == "PermanentFailure")
            let message = failed.status?.errorState?.message ?? ""
            #expect(message.contains("exit code") || message.contains("Dask Job failed"), "\(message)")
        }
    }
}
