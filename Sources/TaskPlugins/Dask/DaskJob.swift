import KubeClient

/// The `kubernetes.dask.org/v1` DaskJob kind: the Dask plugin's child, run by the Dask
/// Kubernetes operator (a job-runner Pod beside a DaskCluster of a scheduler and workers).
public enum DaskJobKind: CustomObjectKind {
    public static let resourceType = ResourceType(group: "kubernetes.dask.org", version: "v1", kind: "DaskJob", plural: "daskjobs", namespaced: true)
}

/// A DaskJob. Spec and status stay JSON, as the operator's CRD defines them.
public typealias DaskJob = CustomObject<DaskJobKind>

extension DaskJob {
    /// `status.jobStatus`: JobCreated, ClusterCreated, Running, Successful, Failed.
    public var jobStatus: String { status?["jobStatus"]?.stringValue ?? "" }

    /// `status.jobRunnerPodName`, once the operator has created the job's Pod.
    public var jobRunnerPodName: String? { status?["jobRunnerPodName"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
}
