import Foundation
import KubeClient
import Logging
import Synchronization

/// Stand-ins for the operators whose custom resources the executor creates: the Kubeflow
/// Spark operator (SparkApplications), KubeRay (RayJobs), Knative Serving (Services), the
/// Kubeflow training operator (PyTorchJobs, TFJobs, MPIJobs), the Dask operator (DaskJobs) and
/// the JobSet controller (JobSets).
/// Like the real ones they act only through the API: they watch their kind, create the
/// driver, head or revision Pods (which the ``SimulatedKubelet`` then runs), and write the
/// status the real operator writes. Knative's own knobs are in ``SimulatedKnative``.
///
/// What happens is chosen by environment variables of the primary container in the child's
/// pod template (which a task template sets), as for the kubelet:
///
/// | env | operator | values |
/// |---|---|---|
/// | `SANDBOX_OUTCOME` | both | the driver's or head's own fate, as the kubelet reads it (`image-pull-backoff`, `fail`, …) |
/// | `SANDBOX_SPARK` | Spark | `submission-fail`: the application is never submitted |
/// | `SANDBOX_RAY_JOB` | Ray | `succeed` (default) or `fail`: how the job's entrypoint ends |
/// | `SANDBOX_DURATION` | Ray | seconds the job runs once the head is up (0.2) |
/// | `SANDBOX_FAIL_ATTEMPTS` | both | attempts (the child's `attempt` label) up to this number fail |
public final class SimulatedOperators: Sendable {
    /// The operators there are.
    public enum Kind: String, Sendable, CaseIterable {
        case spark, ray, knative, pytorch, tensorflow, mpi, dask, jobset

        /// The CRD files in ``crdDirectory`` the operator's kinds are defined by, the kind the
        /// executor creates first.
        public var crdFiles: [String] {
            switch self {
            case .spark: ["sparkoperator.k8s.io_sparkapplications.yaml"]
            case .ray: ["ray.io_rayjobs.yaml"]
            case .knative: ["serving.knative.dev_services.yaml", "serving.knative.dev_configurations.yaml", "serving.knative.dev_revisions.yaml", "serving.knative.dev_routes.yaml"]
            case .pytorch: ["kubeflow.org_pytorchjobs.yaml"]
            case .tensorflow: ["kubeflow.org_tfjobs.yaml"]
            case .mpi: ["kubeflow.org_mpijobs.yaml"]
            case .dask: ["kubernetes.dask.org_daskjobs.yaml"]
            case .jobset: ["jobset.x-k8s.io_jobsets.yaml"]
            }
        }
    }

    /// Where the real CRDs are (copied from `shared/fixtures`): read from the source tree this
    /// sandbox was built from, so `executor sandbox --operators` and the tests need no copy.
    public static let crdDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("CRDs").path

    /// Parsed CRDs, kept for the process: they are large (1.3 MB of YAML for RayJob) and every
    /// sandbox with operators installs them.
    private static let parsed = Mutex<[String: JSONValue]>([:])

    /// The CRD of `kind`'s main resource, as the operator's release ships it.
    public static func crd(_ kind: Kind) throws -> JSONValue {
        try crds(kind)[0]
    }

    /// Every CRD of `kind`, as the operator's release ships them.
    public static func crds(_ kind: Kind) throws -> [JSONValue] {
        try kind.crdFiles.map { file in
            if let hit = parsed.withLock({ $0[file] }) { return hit }
            let path = crdDirectory + "/" + file
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), let crd = try JSONValue.documents(yaml: text).first else {
                throw KubeClientError.invalidConfiguration("cannot read the \(kind.rawValue) CRD at \(path)")
            }
            parsed.withLock { $0[file] = crd }
            return crd
        }
    }

    /// Installs what the operators' releases install: the CRDs of `kinds`, and for Spark the
    /// `spark` ServiceAccount in `default` that drivers run as (the operator's Helm chart
    /// creates one for the namespaces it serves). What exists already is left as it is.
    public static func installCRDs(_ kinds: [Kind], client: KubernetesClient) async throws {
        let crds = ResourceType.customResourceDefinitions
        for kind in kinds {
            for crd in try Self.crds(kind) {
                do {
                    _ = try await client.create(crds, crd)
                } catch let error as KubeAPIError where error.code == 409 {}
            }
            if kind == .spark {
                let accounts = ResourceType(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true)
                do {
                    _ = try await client.create(accounts, ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "spark", "namespace": "default"]])
                } catch let error as KubeAPIError where error.code == 409 {}
            }
        }
    }

    let client: KubernetesClient
    private let tasks: Mutex<[Task<Void, Never>]>

    private init(client: KubernetesClient) {
        self.client = client
        self.tasks = Mutex([])
    }

    /// Starts the operators of `kinds` against the API server `configuration` points at; each
    /// waits for its CRD, so they may start before it is installed.
    public static func start(_ kinds: [Kind], configuration: ClientConfiguration, logger: Logger = Logger(label: "operators")) throws -> SimulatedOperators {
        let operators = SimulatedOperators(client: try KubernetesClient(configuration: configuration))
        let client = operators.client
        var started: [Task<Void, Never>] = []
        for kind in kinds {
            let run: @Sendable () async -> Void = switch kind {
            case .spark: SimulatedSparkOperator(client: client).run
            case .ray: SimulatedKubeRay(client: client).run
            case .knative: SimulatedKnative(client: client).run
            case .pytorch: SimulatedTrainingOperator<SimulatedPyTorch>(client: client).run
            case .tensorflow: SimulatedTrainingOperator<SimulatedTensorFlow>(client: client).run
            case .mpi: SimulatedTrainingOperator<SimulatedMPI>(client: client).run
            case .dask: SimulatedDaskOperator(client: client).run
            case .jobset: SimulatedJobSetController(client: client).run
            }
            started.append(Task { await run() })
        }
        operators.tasks.withLock { $0 = started }
        return operators
    }

    public func stop() async {
        let running = tasks.withLock { t in
            defer { t = [] }
            return t
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
        try? await client.shutdown()
    }

    // MARK: Shared by both operators

    /// The environment of the primary (first) container of a pod template.
    static func environment(_ template: JSONValue?) -> [String: String] {
        var env: [String: String] = [:]
        for entry in template?.value(atPath: "spec.containers")?.arrayValue?.first?["env"]?.arrayValue ?? [] {
            if let name = entry["name"]?.stringValue { env[name] = entry["value"]?.stringValue ?? "" }
        }
        return env
    }

    /// Whether this attempt is one `SANDBOX_FAIL_ATTEMPTS` says fails.
    static func attemptFails(_ metadata: ObjectMeta, env: [String: String]) -> Bool {
        guard let failing = env["SANDBOX_FAIL_ATTEMPTS"].flatMap(Int.init), let attempt = metadata.labels?["attempt"].flatMap(Int.init) else { return false }
        return attempt <= failing
    }

    /// A controller owner reference to `object`.
    static func owner(_ type: ResourceType, _ metadata: ObjectMeta) -> JSONValue {
        ["apiVersion": .string(type.apiVersion), "kind": .string(type.kind), "name": .string(metadata.name ?? ""), "uid": .string(metadata.uid ?? ""), "controller": true, "blockOwnerDeletion": true]
    }

    /// Merges `status` into the object's `/status`, as the operator reports; false when refused.
    static func writeStatus(_ client: KubernetesClient, _ type: ResourceType, _ name: String, _ namespace: String?, _ status: JSONValue) async -> Bool {
        (try? await client.patch(type, name: name, namespace: namespace, .merge(["status": status]), subresource: "status")) != nil
    }

    static func randomSuffix(_ count: Int) -> String {
        String((0..<count).map { _ in "bcdfghjklmnpqrstvwxz2456789".randomElement() ?? "x" })
    }
}
