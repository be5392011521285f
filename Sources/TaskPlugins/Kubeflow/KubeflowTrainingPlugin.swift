import Foundation
import KubeClient

/// A plugin whose child is a Kubeflow training operator job (PyTorchJob, TFJob, MPIJob, or
/// another kind of the operator's: XGBoostJob, PaddleJob, JAXJob). A conformer builds the job
/// and names its Pods; the rest is Flyte's `kfoperators/common`, here: the phase from the
/// job's conditions after the operator timeout and the watched Pod's Pending and Failed rules,
/// the log links, the terminal check and completion time, the cache trimming and the RBAC rule.
public protocol KubeflowTrainingPlugin: KubernetesTaskPlugin where Child == CustomObject<JobKind> {
    associatedtype JobKind: KubeflowJobKind
    var config: PluginConfig { get }
    var kubeflow: KubeflowConfig { get }
    /// The replicas' main container, named as the operator requires.
    static var containerName: String { get }
    /// The Pod whose fate is the job's first (`<job>-worker-0`, `<job>-launcher`).
    func watchedPod(ofJob name: String) -> String
    /// The Pods whose log links are listed, in order.
    func logPods(_ job: Child) -> [ReplicaLogPod]
}

extension KubeflowTrainingPlugin {
    public var relatedPod: RelatedPod<Child>? {
        RelatedPod { job in job.metadata.name.map { self.watchedPod(ofJob: $0) } }
    }

    public func phase(of job: Child, context: TaskExecutionContext) -> PhaseInfo {
        phase(of: job, relatedPod: nil, context: context)
    }

    public func phase(of job: Child, relatedPod pod: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        var info = KubeflowCommon.phase(job, pod: pod, containerName: Self.containerName, config: config, kubeflow: kubeflow, context: context)
        info.links = job.metadata.name == nil ? [] : config.logs.links(for: logPods(job), of: job.metadata, containerName: Self.containerName, context: context)
        return info
    }

    /// Flyte's: a Succeeded or Failed condition, whatever its status.
    public func isTerminal(_ job: Child) -> Bool { KubeflowCommon.isTerminal(job.conditions) }

    public func completionTime(_ job: Child) -> Date? { KubeflowCommon.completionTime(job) }

    /// Keeps what the phase and the links read: the conditions and times, and the replica counts.
    public var cacheTransform: (@Sendable (inout Child) -> Void)? { KubeflowCommon.cacheTransform(JobKind.self) }

    public var rbacRules: [PolicyRule] { [KubeflowCommon.rbacRule(JobKind.resourceType, task: JobKind.framework)] }
}
