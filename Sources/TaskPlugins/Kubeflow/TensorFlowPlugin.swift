import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient

/// Runs `tensorflow` tasks as Kubeflow `kubeflow.org/v1` TFJobs, for the Kubeflow training
/// operator to run (Flyte's `kfoperators/tensorflow`): Workers, and Chief, parameter server
/// (PS) and Evaluator replicas when the task asks for them, each from the task's Pod.
///
/// Beyond Flyte's: worker 0's Pod is watched as the PyTorch plugin watches it (a worker stuck
/// pulling its image fails the task after the grace period instead of waiting for the job's
/// deadline), and the links of PS, Chief and Evaluator Pods name the Pods the operator makes
/// (`<job>-ps-<i>`; Flyte's name `<job>-psReplica-<i>`, which no Pod has).
public struct TensorFlowPlugin: KubeflowTrainingPlugin {
    public typealias JobKind = TFJobKind

    public let id = "tensorflow"
    public let taskTypes = ["tensorflow"]
    public let properties = PluginProperties()
    public let config: PluginConfig
    public let kubeflow: KubeflowConfig

    public init(config: PluginConfig = PluginConfig(), kubeflow: KubeflowConfig = KubeflowConfig()) {
        self.config = config
        self.kubeflow = kubeflow
    }

    /// The training operator requires its replicas' main container to have this name.
    public static let containerName = "tensorflow"

    /// The replica types, in the order their links are listed (Flyte's `GetLogs`).
    static let replicaTypes = ["Worker", "PS", "Chief", "Evaluator"]

    // MARK: Building

    public func build(_ context: TaskExecutionContext) throws -> TFJob {
        var replicas: [String: KubeflowCommon.Replicas] = [:]
        var runPolicy: JSONValue = [:]
        switch context.template.taskTypeVersion {
        case 0:
            let task = try CustomPayload.decode(Flyteidl2_Plugins_DistributedTensorflowTrainingTask.self, from: context.template, name: "DistributedTensorflowTrainingTask")
            replicas = ["Worker": .init(count: task.workers), "PS": .init(count: task.psReplicas), "Chief": .init(count: task.chiefReplicas), "Evaluator": .init(count: task.evaluatorReplicas)]
        case 1:
            let task = try CustomPayload.decode(Flyteidl2_Plugins_Kubeflow_DistributedTensorflowTrainingTask.self, from: context.template, name: "DistributedTensorflowTrainingTask")
            replicas = ["Worker": KubeflowCommon.replicas(task.workerReplicas), "PS": KubeflowCommon.replicas(task.psReplicas),
                        "Chief": KubeflowCommon.replicas(task.chiefReplicas), "Evaluator": KubeflowCommon.replicas(task.evaluatorReplicas)]
            if task.hasRunPolicy { runPolicy = KubeflowCommon.runPolicy(task.runPolicy) }
        case let version:
            throw KubeflowCommon.unsupportedVersion(version)
        }
        guard (replicas["Worker"]?.count ?? 0) > 0 else {
            throw ExecutionError(code: "BadTaskSpecification", message: "number of workers must be greater than 0", kind: .user)
        }
        let base = try KubeflowCommon.basePod(context, config: config)
        var specs: JSONValue = [:]
        // A kind of replica with none is left out, as Flyte leaves it.
        for (type, r) in replicas where r.count > 0 {
            specs[type] = try KubeflowCommon.replicaSpec(base, r, containerName: Self.containerName, context: context, config: config, carriesChildName: type == "Worker")
        }
        return TFJob(metadata: KubeflowCommon.jobMetadata(base), spec: [TFJobKind.replicaSpecsField: specs, "runPolicy": runPolicy])
    }

    // MARK: Status

    /// Worker 0, whose Pending and Failed rules decide before the job's own status.
    public func watchedPod(ofJob name: String) -> String { "\(name)-worker-0" }

    /// Flyte's `common.GetLogs` for a TFJob: each worker's links, then each parameter server's,
    /// the chief's and the evaluator's (one of each at most, as Flyte lists them), by the
    /// operator's Pod names `<job>-<type>-<index>`.
    public func logPods(_ job: TFJob) -> [ReplicaLogPod] {
        let name = job.metadata.name ?? ""
        return Self.replicaTypes.flatMap { type -> [ReplicaLogPod] in
            let count = type == "Worker" || type == "PS" ? job.replicas(type) : min(job.replicas(type), 1)
            return (0..<count).map { ReplicaLogPod(name: "\(name)-\(type.lowercased())-\($0)") }
        }
    }
}
