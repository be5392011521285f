import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Testing
@testable import TaskPlugins

/// `mpi` tasks as Kubeflow `kubeflow.org/v1` MPIJobs, as Flyte's `kfoperators/mpi` builds and reads them.
@Suite("MPI plugin")
struct MPIPluginTests {
    static func template(version: Int32 = 0, custom: String, config: [String: String] = [:]) throws -> Flyteidl2_Core_TaskTemplate {
        var t = try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.pluginTemplate(type: "mpi", env: [:], retries: 0, custom: custom))
        t.taskTypeVersion = version
        t.config = config
        return t
    }

    static func context(_ template: Flyteidl2_Core_TaskTemplate, config: PluginConfig = PluginConfig(), now: Date = Date(timeIntervalSince1970: 1_800_000_100)) throws -> TaskExecutionContext {
        try Fixtures.pluginContext("r1-mpi", template, config: config, now: now)
    }

    static func container(_ job: MPIJob, _ type: String) -> JSONValue? {
        job.spec?.value(atPath: "mpiReplicaSpecs")?[type]?.value(atPath: "template.spec.containers")?[0]
    }

    @Test("version 0: at least one Launcher, `numWorkers` Workers running worker_spec_command as args and no command, the slots per worker, the container named mpi, the Launcher's template naming the child")
    func versionZero() throws {
        let context = try Self.context(try Self.template(custom: #"{"numWorkers": 3, "slots": 4}"#, config: ["worker_spec_command": "/usr/sbin/sshd -De"]))
        let job = try MPIPlugin().build(context)
        let specs = try #require(job.spec?["mpiReplicaSpecs"])
        #expect(specs["Launcher"]?["replicas"] == 1 && specs["Worker"]?["replicas"] == 3)
        #expect(specs["Launcher"]?["restartPolicy"] == "Never" && specs["Worker"]?["restartPolicy"] == "Never")
        #expect(job.spec?["slotsPerWorker"] == 4 && job.spec?["runPolicy"] == [:])
        #expect(Self.container(job, "Launcher")?["name"] == "mpi" && Self.container(job, "Launcher")?["args"]?.arrayValue?.first == "pyflyte-execute")
        #expect(Self.container(job, "Worker")?["name"] == "mpi" && Self.container(job, "Worker")?["args"] == ["/usr/sbin/sshd", "-De"])
        #expect(Self.container(job, "Worker")?["command"] == nil)
        #expect(specs["Launcher"]?.value(atPath: "template.metadata.labels")?[TaskActionLabels.childName] == .string(context.generatedName))
        #expect(specs["Worker"]?.value(atPath: "template.metadata.labels")?[TaskActionLabels.childName] == nil)
        #expect(job.kind == "MPIJob")

        // Two launchers asked for are two; none configured clears the workers' args.
        let two = try MPIPlugin().build(try Self.context(try Self.template(custom: #"{"numWorkers": 1, "numLauncherReplicas": 2}"#)))
        #expect(two.spec?.value(atPath: "mpiReplicaSpecs")?["Launcher"]?["replicas"] == 2)
        #expect(Self.container(two, "Worker")?["args"] == nil)
    }

    @Test("version 1: one Launcher whatever it asks, each replica's command as its args, the common specs, the run policy, and the slots asked for (1 when none)")
    func versionOne() throws {
        let custom = #"""
        {"workerReplicas": {"common": {"replicas": 2, "image": "ghcr.io/acme/mpi:1", "resources": {"requests": [{"name": "GPU", "value": "1"}]}}, "command": ["/usr/sbin/sshd", "-De"]},
         "launcherReplicas": {"common": {"replicas": 3, "restartPolicy": "RESTART_POLICY_ON_FAILURE"}, "command": ["mpirun", "-np", "2", "python", "train.py"]},
         "runPolicy": {"cleanPodPolicy": "CLEANPOD_POLICY_ALL"}, "slots": 2}
        """#
        let job = try MPIPlugin().build(try Self.context(try Self.template(version: 1, custom: custom)))
        let specs = try #require(job.spec?["mpiReplicaSpecs"])
        #expect(specs["Launcher"]?["replicas"] == 1 && specs["Launcher"]?["restartPolicy"] == "OnFailure")
        #expect(Self.container(job, "Launcher")?["args"] == ["mpirun", "-np", "2", "python", "train.py"])
        #expect(specs["Worker"]?["replicas"] == 2 && Self.container(job, "Worker")?["args"] == ["/usr/sbin/sshd", "-De"])
        #expect(Self.container(job, "Worker")?["image"] == "ghcr.io/acme/mpi:1")
        #expect(Self.container(job, "Worker")?["resources"] == ["requests": ["nvidia.com/gpu": "1"], "limits": ["nvidia.com/gpu": "1"]])
        #expect(job.spec?["slotsPerWorker"] == 2 && job.spec?["runPolicy"] == ["cleanPodPolicy": "All"])

        // No command keeps the task's args; no slots is one per worker.
        let plain = try MPIPlugin().build(try Self.context(try Self.template(version: 1, custom: #"{"workerReplicas": {"replicas": 1}}"#)))
        #expect(Self.container(plain, "Launcher")?["args"]?.arrayValue?.first == "pyflyte-execute")
        #expect(plain.spec?["slotsPerWorker"] == 1)

        #expect {
            _ = try MPIPlugin().build(try Self.context(try Self.template(version: 1, custom: #"{"launcherReplicas": {"replicas": 1}}"#)))
        } throws: { error in
            (error as? ExecutionError).map { $0.code == "BadTaskSpecification" && $0.message == "number of workers must be greater than 0" } ?? false
        }
    }

    @Test("status: the conditions decide, the operator timeout names mpi, the Launcher's Pod is watched and its links come first")
    func status() throws {
        var config = PluginConfig()
        config.logs.templates = [LogLinkTemplate(displayName: "Logs ", templateUris: ["https://logs/{{ .podName }}/{{ .containerName }}"])]
        let plugin = MPIPlugin(config: config)
        let context = try Self.context(try Self.template(custom: #"{"numWorkers": 2}"#), config: config)
        var metadata = ObjectMeta(name: "r1-mpi-0", namespace: "flytesnacks-development")
        metadata.creationTimestamp = KubeTime.format(Date(timeIntervalSince1970: 1_800_000_000))
        let spec: JSONValue = ["mpiReplicaSpecs": ["Launcher": ["replicas": 1], "Worker": ["replicas": 2]]]
        let at = JSONValue.string(KubeTime.format(Date(timeIntervalSince1970: 1_800_000_001)))
        let running = MPIJob(metadata: metadata, spec: spec, status: ["startTime": at, "conditions": [["type": "Created", "status": "True", "lastTransitionTime": at], ["type": "Running", "status": "True", "lastTransitionTime": at]]])
        let info = plugin.phase(of: running, context: context)
        #expect(info.phase == .running)
        #expect(info.links.map(\.name) == ["Logs launcher", "Logs ", "Logs "])
        #expect(info.links.map(\.uri) == ["launcher", "worker-0", "worker-1"].map { "https://logs/r1-mpi-0-\($0)/mpi" })
        #expect(plugin.relatedPod?.name(running) == "r1-mpi-0-launcher")

        let silent = plugin.phase(of: MPIJob(metadata: metadata, spec: spec), context: context)
        #expect(silent.error?.code == "KubeflowOperatorTimeout" && silent.error?.message.contains("the mpi custom resource") == true)

        // The Launcher failed: its own exit decides before the job's conditions say so.
        var launcher = Pod(metadata: ObjectMeta(name: "r1-mpi-0-launcher", namespace: "flytesnacks-development"), spec: PodSpec(containers: [Container(name: "mpi")]))
        var terminated = ContainerStatus(name: "mpi", state: ContainerState(terminated: .init(exitCode: 3, reason: "Error")))
        terminated.image = "img"
        var status = PodStatus(phase: "Failed")
        status.containerStatuses = [terminated]
        launcher.status = status
        let failed = plugin.phase(of: running, relatedPod: launcher, context: context)
        #expect(failed.phase.isFailure, "\(failed)")
    }
}

/// `mpi` tasks end to end against the simulated Kubeflow training operator.
@Suite("MPI tasks", TestCluster.sandboxOnly)
struct MPIScenarioTests {
    @Test("an MPI task succeeds when its Launcher does, with `<job>-launcher` and two workers; one whose Launcher fails fails")
    func tasks() async throws {
        try await ExecutorHarness.with(operators: [.mpi]) { h in
            try await h.create(Fixtures.taskAction("r1-mpi", taskType: "mpi", template: Fixtures.pluginTemplate(type: "mpi", env: [:], retries: 0, custom: #"{"numWorkers": 2, "slots": 1}"#)))
            let done = try await h.terminal("r1-mpi")
            #expect(done.status?.phaseHistory?.last?.phase == "Completed", "\(done.status?.phaseHistory?.map(\.phase) ?? [])")
            let job = try await h.client.get(MPIJob.self, name: "r1-mpi-0", namespace: h.namespace)
            #expect(job.metadata.ownerReferences?.first?.kind == "TaskAction" && job.spec?["slotsPerWorker"] == 1)
            #expect(job.conditions.contains { $0["type"] == "Succeeded" && $0["message"] == "MPIJob r1-mpi-0 is successfully completed." })
            let pods = try await h.pods().compactMap(\.metadata.name).filter { $0.hasPrefix("r1-mpi-0-") }.sorted()
            #expect(pods == ["r1-mpi-0-launcher", "r1-mpi-0-worker-0", "r1-mpi-0-worker-1"])
            #expect(try await h.pod("r1-mpi-0-launcher").spec?.containers.first?.env?.contains { $0.name == "OMPI_MCA_orte_default_hostfile" } == true)

            try await h.create(Fixtures.taskAction("r2-mpi", taskType: "mpi", template: Fixtures.pluginTemplate(type: "mpi", env: ["SANDBOX_OUTCOME": "fail"], retries: 0, custom: #"{"numWorkers": 1}"#)))
            let failed = try await h.terminal("r2-mpi")
            #expect(failed.status?.phaseHistory?.last?.phase == "PermanentFailure")
            let message = failed.status?.errorState?.message ?? ""
            #expect(message.contains("exit code") || message.contains("replica(s) failed"), "\(message)")
        }
    }
}
