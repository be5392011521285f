import KubeClient

/// A Kubeflow training operator job kind (`kubeflow.org/v1`): which spec field holds its
/// replica specs, and the framework's name as Flyte writes it in messages.
public protocol KubeflowJobKind: CustomObjectKind {
    /// `pytorchReplicaSpecs`, `tfReplicaSpecs` or `mpiReplicaSpecs`.
    static var replicaSpecsField: String { get }
    /// `pytorch`, `tensorflow` or `mpi`: the task type, and the word Flyte's messages use.
    static var framework: String { get }
}

/// The `PyTorchJob` kind, run by the training operator's PyTorch controller.
public enum PyTorchJobKind: KubeflowJobKind {
    public static let resourceType = ResourceType(group: "kubeflow.org", version: "v1", kind: "PyTorchJob", plural: "pytorchjobs", namespaced: true)
    public static let replicaSpecsField = "pytorchReplicaSpecs"
    public static let framework = "pytorch"
}

/// The `TFJob` kind, run by the training operator's TensorFlow controller.
public enum TFJobKind: KubeflowJobKind {
    public static let resourceType = ResourceType(group: "kubeflow.org", version: "v1", kind: "TFJob", plural: "tfjobs", namespaced: true)
    public static let replicaSpecsField = "tfReplicaSpecs"
    public static let framework = "tensorflow"
}

/// The `kubeflow.org/v1` `MPIJob` kind, run by the training operator's MPI controller (the
/// standalone MPI operator's `v2beta1` is another API).
public enum MPIJobKind: KubeflowJobKind {
    public static let resourceType = ResourceType(group: "kubeflow.org", version: "v1", kind: "MPIJob", plural: "mpijobs", namespaced: true)
    public static let replicaSpecsField = "mpiReplicaSpecs"
    public static let framework = "mpi"
}

/// A PyTorchJob: the PyTorch plugin's child. Spec and status stay JSON.
public typealias PyTorchJob = CustomObject<PyTorchJobKind>
/// A TFJob: the TensorFlow plugin's child. Spec and status stay JSON.
public typealias TFJob = CustomObject<TFJobKind>
/// An MPIJob: the MPI plugin's child. Spec and status stay JSON.
public typealias MPIJob = CustomObject<MPIJobKind>

extension CustomObject where Kind: KubeflowJobKind {
    /// The replica specs by replica type (`Master`, `Worker`, `PS`, `Launcher`, …).
    public var replicaSpecs: [String: JSONValue] { spec?[Kind.replicaSpecsField]?.objectValue ?? [:] }

    /// `spec.<replicaSpecs>.<type>.replicas`, 0 when the type is absent.
    public func replicas(_ type: String) -> Int {
        Int(replicaSpecs[type]?["replicas"]?.intValue ?? 0)
    }
}
