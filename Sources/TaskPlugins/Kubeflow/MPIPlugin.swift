import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient

/// Runs `mpi` tasks as Kubeflow `kubeflow.org/v1` MPIJobs, for the Kubeflow training
/// operator to run (Flyte's `kfoperators/mpi`): a Launcher, which runs `mpirun`, and Workers,
/// each from the task's Pod.
///
/// Beyond Flyte's: the Launcher's Pod (`<job>-launcher`) is watched as the PyTorch plugin
/// watches worker 0, and its links come first, named `…launcher` (Flyte lists only the
/// workers', though `mpirun`'s output is the Launcher's); a version 1 payload's `slots` is
/// the job's `slotsPerWorker` (Flyte writes 1 whatever it asks).
public struct MPIPlugin: KubeflowTrainingPlugin {
    public typealias JobKind = MPIJobKind

    public let id = "mpi"
    public let taskTypes = ["mpi"]
    public let properties = PluginProperties()
    public let config: PluginConfig
    public let kubeflow: KubeflowConfig

    public init(config: PluginConfig = PluginConfig(), kubeflow: KubeflowConfig = KubeflowConfig()) {
        self.config = config
        self.kubeflow = kubeflow
    }

    /// The training operator's name for the replicas' main container.
    public static let containerName = "mpi"

    /// The task template config key whose value, split at spaces, is the workers' args for a
    /// version 0 payload (Flyte's `worker_spec_command`).
    public static let workerSpecCommandKey = "worker_spec_command"

    // MARK: Building

    public func build(_ context: TaskExecutionContext) throws -> MPIJob {
        var launcher: KubeflowCommon.Replicas
        var worker: KubeflowCommon.Replicas
        var runPolicy: JSONValue = [:]
        var slots: Int32 = 1
        switch context.template.taskTypeVersion {
        case 0:
            let task = try CustomPayload.decode(Flyteidl2_Plugins_DistributedMPITrainingTask.self, from: context.template, name: "DistributedMPITrainingTask")
            launcher = KubeflowCommon.Replicas(count: max(task.numLauncherReplicas, 1))
            worker = KubeflowCommon.Replicas(count: task.numWorkers)
            // The workers run the configured command as args, and no command of their own.
            worker.args = context.template.config[Self.workerSpecCommandKey].map { $0.split(separator: " ", omittingEmptySubsequences: false).map(String.init) } ?? []
            worker.clearsCommand = true
            slots = task.slots
        case 1:
            let task = try CustomPayload.decode(Flyteidl2_Plugins_Kubeflow_DistributedMPITrainingTask.self, from: context.template, name: "DistributedMPITrainingTask")
            launcher = KubeflowCommon.replicas(task.launcherReplicas)
            launcher.count = 1
            if !task.launcherReplicas.command.isEmpty { launcher.args = task.launcherReplicas.command }
            worker = KubeflowCommon.replicas(task.workerReplicas)
            if !task.workerReplicas.command.isEmpty { worker.args = task.workerReplicas.command }
            if task.hasRunPolicy { runPolicy = KubeflowCommon.runPolicy(task.runPolicy) }
            if task.slots > 0 { slots = task.slots }
        case let version:
            throw KubeflowCommon.unsupportedVersion(version)
        }
        guard worker.count > 0 else {
            throw ExecutionError(code: "BadTaskSpecification", message: "number of workers must be greater than 0", kind: .user)
        }
        let base = try KubeflowCommon.basePod(context, config: config)
        let specs: JSONValue = [
            "Launcher": try KubeflowCommon.replicaSpec(base, launcher, containerName: Self.containerName, context: context, config: config, carriesChildName: true),
            "Worker": try KubeflowCommon.replicaSpec(base, worker, containerName: Self.containerName, context: context, config: config, carriesChildName: false),
        ]
        return MPIJob(metadata: KubeflowCommon.jobMetadata(base), spec: [MPIJobKind.replicaSpecsField: specs, "slotsPerWorker": .int(Int64(slots)), "runPolicy": runPolicy])
    }

    // MARK: Status

    /// The Launcher, whose Pending and Failed rules decide before the job's own status.
    public func watchedPod(ofJob name: String) -> String { "\(name)-launcher" }

    /// The Launcher's links (their names ending in `launcher`), then each worker's.
    public func logPods(_ job: MPIJob) -> [ReplicaLogPod] {
        let name = job.metadata.name ?? ""
        return [ReplicaLogPod(name: "\(name)-launcher", logName: "launcher")] + (0..<job.replicas("Worker")).map { ReplicaLogPod(name: "\(name)-worker-\($0)") }
    }
}
