import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient

/// Runs `pytorch` tasks as Kubeflow `kubeflow.org/v1` PyTorchJobs, for the Kubeflow training
/// operator to run (Flyte's `kfoperators/pytorch`): a Master and Workers from the task's Pod,
/// or Workers only for an elastic (torchrun) job.
public struct PyTorchPlugin: KubeflowTrainingPlugin {
    public typealias JobKind = PyTorchJobKind

    public let id = "pytorch"
    public let taskTypes = ["pytorch"]
    public let properties = PluginProperties()
    public let config: PluginConfig
    public let kubeflow: KubeflowConfig

    public init(config: PluginConfig = PluginConfig(), kubeflow: KubeflowConfig = KubeflowConfig()) {
        self.config = config
        self.kubeflow = kubeflow
    }

    /// The training operator requires its replicas' main container to have this name.
    public static let containerName = "pytorch"

    // MARK: Building

    public func build(_ context: TaskExecutionContext) throws -> PyTorchJob {
        var master = KubeflowCommon.Replicas(count: 1)
        var worker: KubeflowCommon.Replicas
        var runPolicy: JSONValue = [:]
        var elastic: JSONValue?
        switch context.template.taskTypeVersion {
        case 0:
            let task = try CustomPayload.decode(Flyteidl2_Plugins_DistributedPyTorchTrainingTask.self, from: context.template, name: "DistributedPyTorchTrainingTask")
            worker = KubeflowCommon.Replicas(count: task.workers)
            if task.hasElasticConfig { elastic = Self.elasticPolicy(task.elasticConfig) }
        case 1:
            let task = try CustomPayload.decode(Flyteidl2_Plugins_Kubeflow_DistributedPyTorchTrainingTask.self, from: context.template, name: "DistributedPyTorchTrainingTask")
            master = KubeflowCommon.replicas(task.masterReplicas)
            master.count = 1
            worker = KubeflowCommon.replicas(task.workerReplicas)
            if task.hasRunPolicy { runPolicy = KubeflowCommon.runPolicy(task.runPolicy) }
            if task.hasElasticConfig { elastic = Self.elasticPolicy(task.elasticConfig) }
        case let version:
            throw KubeflowCommon.unsupportedVersion(version)
        }
        guard worker.count > 0 else {
            throw ExecutionError(code: "BadTaskSpecification", message: "number of workers must be greater than 0", kind: .user)
        }
        let base = try KubeflowCommon.basePod(context, config: config)
        func replicaSpec(_ replicas: KubeflowCommon.Replicas, watched: Bool) throws -> JSONValue {
            try KubeflowCommon.replicaSpec(base, replicas, containerName: Self.containerName, context: context, config: config, carriesChildName: watched)
        }
        // Worker 0 is the Pod watched: its fate is the job's first, as in Flyte.
        var specs: JSONValue = ["Worker": try replicaSpec(worker, watched: true)]
        if elastic == nil { specs["Master"] = try replicaSpec(master, watched: false) }
        var spec: JSONValue = [PyTorchJobKind.replicaSpecsField: specs, "runPolicy": runPolicy]
        if let elastic { spec["elasticPolicy"] = elastic }
        return PyTorchJob(metadata: KubeflowCommon.jobMetadata(base), spec: spec)
    }

    /// Flyte's `ParseElasticConfig`, for either version's message: every field written, zeros
    /// included.
    static func elasticPolicy(_ e: some ElasticSettings) -> JSONValue {
        ["minReplicas": .int(Int64(e.minReplicas)), "maxReplicas": .int(Int64(e.maxReplicas)), "rdzvBackend": .string(e.rdzvBackend),
         "nProcPerNode": .int(Int64(e.nprocPerNode)), "maxRestarts": .int(Int64(e.maxRestarts))]
    }

    // MARK: Status

    /// Worker 0, whose Pending and Failed rules decide before the job's own status (Flyte's
    /// `DemystifyFailedOrPendingPod` on `<job>-worker-0`).
    public func watchedPod(ofJob name: String) -> String { "\(name)-worker-0" }

    /// Flyte's `common.GetLogs` for a PyTorchJob: the master's links (their names ending in
    /// `master`), then each worker's.
    public func logPods(_ job: PyTorchJob) -> [ReplicaLogPod] {
        let name = job.metadata.name ?? ""
        let master = job.replicaSpecs["Master"] != nil ? [ReplicaLogPod(name: "\(name)-master-0", logName: "master")] : []
        return master + (0..<job.replicas("Worker")).map { ReplicaLogPod(name: "\(name)-worker-\($0)") }
    }
}

/// The elastic (torchrun) settings, alike in both versions of the payload (Flyte's
/// `ElasticConfig` interface).
protocol ElasticSettings {
    var rdzvBackend: String { get }
    var minReplicas: Int32 { get }
    var maxReplicas: Int32 { get }
    var nprocPerNode: Int32 { get }
    var maxRestarts: Int32 { get }
}

extension Flyteidl2_Plugins_ElasticConfig: ElasticSettings {}
extension Flyteidl2_Plugins_Kubeflow_ElasticConfig: ElasticSettings {}
