import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import KubeSandbox
import PluginConformance
import Testing
@testable import TaskPlugins

/// The built-in plugins pass the conformance kit, and the kit names the rule a deliberately
/// broken plugin breaks.
@Suite("Plugin conformance kit")
struct ConformanceTests {
    static let finished = "2026-11-29T10:05:00Z"

    static func pod(_ phase: String, _ container: JSONValue) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: "p", annotations: [PodPlugin.primaryContainerAnnotation: "main"]), spec: PodSpec(containers: [Container(name: "main", image: "x")]))
        pod.status = try? JSONValueDecoder().decode(PodStatus.self, from: ["phase": .string(phase), "containerStatuses": [["name": "main", "ready": false, "state": container]]])
        return pod
    }

    static var podFixtures: ConformanceFixtures<Pod> {
        let template = try! Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.template())
        return ConformanceFixtures(
            template: template, taskType: "python",
            states: [
                "Pending": pod("Pending", ["waiting": ["reason": "ContainerCreating"]]),
                "Running": pod("Running", ["running": ["startedAt": "2026-11-29T10:00:00Z"]]),
                "Succeeded": pod("Succeeded", ["terminated": ["exitCode": 0, "reason": "Completed", "finishedAt": .string(finished)]]),
                "Failed": pod("Failed", ["terminated": ["exitCode": 1, "reason": "Error", "finishedAt": .string(finished)]]),
            ],
            sequence: [
                ["phase": "Running", "containerStatuses": [["name": "conformance-e2e-0", "ready": true, "restartCount": 0, "image": "x", "imageID": "", "state": ["running": ["startedAt": "2026-11-29T10:00:00Z"]]]]],
                ["phase": "Succeeded", "containerStatuses": [["name": "conformance-e2e-0", "ready": false, "restartCount": 0, "image": "x", "imageID": "", "state": ["terminated": ["exitCode": 0, "reason": "Completed", "finishedAt": .string(finished)]]]]],
            ])
    }

    static var sparkFixtures: ConformanceFixtures<SparkApplication> {
        let template = try! Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.sparkTemplate())
        func app(_ state: String, _ extra: JSONValue = [:]) -> SparkApplication {
            var status: JSONValue = ["applicationState": ["state": .string(state)], "driverInfo": ["podName": "d"]]
            for (k, v) in extra.objectValue ?? [:] { status[k] = v }
            return SparkApplication(metadata: ObjectMeta(name: "a"), status: status)
        }
        return ConformanceFixtures(
            template: template, taskType: "spark",
            states: ["NEW": app("NEW"), "SUBMITTED": app("SUBMITTED"), "RUNNING": app("RUNNING"), "COMPLETED": app("COMPLETED", ["terminationTime": .string(finished)]),
                     "FAILED": app("FAILED", ["terminationTime": .string(finished)]), "SUBMISSION_FAILED": app("SUBMISSION_FAILED", ["lastSubmissionAttemptTime": .string(finished)])],
            sequence: [["applicationState": ["state": "SUBMITTED"], "driverInfo": [:]], ["applicationState": ["state": "RUNNING"], "driverInfo": [:]],
                       ["applicationState": ["state": "COMPLETED"], "driverInfo": [:], "terminationTime": .string(finished)]],
            crds: [try! SimulatedOperators.crd(.spark)])
    }

    static var rayFixtures: ConformanceFixtures<RayJob> {
        let template = try! Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.rayTemplate())
        func job(_ status: String, _ extra: JSONValue = [:]) -> RayJob {
            var s: JSONValue = ["jobDeploymentStatus": .string(status), "rayClusterName": "c"]
            for (k, v) in extra.objectValue ?? [:] { s[k] = v }
            return RayJob(metadata: ObjectMeta(name: "j"), status: s)
        }
        return ConformanceFixtures(
            template: template, taskType: "ray",
            states: ["Initializing": job("Initializing"), "Running": job("Running"), "Complete": job("Complete", ["endTime": .string(finished)]),
                     "Failed": job("Failed", ["endTime": .string(finished), "reason": "AppFailed"]), "Suspended": job("Suspended"), "Retrying": job("Retrying"),
                     "ValidationFailed": job("ValidationFailed", ["startTime": .string(finished)])],
            sequence: [["jobDeploymentStatus": "Initializing", "rayClusterName": "c"], ["jobDeploymentStatus": "Running"], ["jobDeploymentStatus": "Complete", "endTime": .string(finished)]],
            crds: [try! SimulatedOperators.crd(.ray)])
    }

    /// A Kubeflow plugin's fixtures: its job's conditions as the training operator writes them.
    static func kubeflowFixtures<Kind: KubeflowJobKind>(_: Kind.Type, custom: String, replicas: JSONValue, operator: SimulatedOperators.Kind) -> ConformanceFixtures<CustomObject<Kind>> {
        let template = try! Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.pluginTemplate(type: Kind.framework, env: [:], retries: 0, custom: custom))
        func condition(_ type: String, _ second: Int) -> JSONValue {
            ["type": .string(type), "status": "True", "reason": .string("\(Kind.resourceType.kind)\(type)"), "message": "m", "lastTransitionTime": .string("2026-11-29T10:0\(second):00Z")]
        }
        func job(_ conditions: [JSONValue], _ extra: JSONValue = [:]) -> CustomObject<Kind> {
            var s: JSONValue = ["conditions": .array(conditions), "startTime": "2026-11-29T10:00:00Z"]
            for (k, v) in extra.objectValue ?? [:] { s[k] = v }
            return CustomObject<Kind>(metadata: ObjectMeta(name: "j"), spec: [Kind.replicaSpecsField: replicas], status: s)
        }
        return ConformanceFixtures(
            template: template, taskType: Kind.framework,
            states: ["Created": job([condition("Created", 0)]), "Running": job([condition("Created", 0), condition("Running", 1)]),
                     "Succeeded": job([condition("Created", 0), condition("Succeeded", 5)], ["completionTime": .string(finished)]),
                     "Failed": job([condition("Created", 0), condition("Failed", 5)], ["completionTime": .string(finished)])],
            sequence: [["conditions": [condition("Created", 0)], "startTime": "2026-11-29T10:00:00Z"],
                       ["conditions": [condition("Created", 0), condition("Running", 1)]],
                       ["conditions": [condition("Created", 0), condition("Succeeded", 5)], "completionTime": .string(finished)]],
            crds: [try! SimulatedOperators.crd(`operator`)])
    }

    static var daskFixtures: ConformanceFixtures<DaskJob> {
        let template = try! Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.pluginTemplate(type: "dask", env: [:], retries: 0, custom: #"{"workers": {"numberOfWorkers": 2}}"#))
        func job(_ state: String, _ extra: JSONValue = [:]) -> DaskJob {
            var s: JSONValue = ["jobStatus": .string(state), "clusterName": "j", "jobRunnerPodName": "j-runner"]
            for (k, v) in extra.objectValue ?? [:] { s[k] = v }
            return DaskJob(metadata: ObjectMeta(name: "j"), status: s)
        }
        return ConformanceFixtures(
            template: template, taskType: "dask",
            states: ["JobCreated": job("JobCreated"), "ClusterCreated": job("ClusterCreated"), "Running": job("Running", ["startTime": "2026-11-29T10:00:00Z"]),
                     "Successful": job("Successful", ["endTime": .string(finished)]), "Failed": job("Failed", ["endTime": .string(finished)])],
            sequence: [["jobStatus": "JobCreated"], ["jobStatus": "ClusterCreated", "clusterName": "conformance-e2e-0", "jobRunnerPodName": "conformance-e2e-0-runner"],
                       ["jobStatus": "Running", "startTime": "2026-11-29T10:00:00Z"], ["jobStatus": "Successful", "endTime": .string(finished)]],
            crds: [try! SimulatedOperators.crd(.dask)])
    }

    static var clusteredFixtures: ConformanceFixtures<JobSet> {
        let template = try! Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.pluginTemplate(type: "clustered-task", env: [:], retries: 0, custom: #"{"replicas": 2, "nprocPerNode": 1}"#))
        func condition(_ type: String, _ reason: String) -> JSONValue {
            ["type": .string(type), "status": "True", "reason": .string(reason), "message": "m", "lastTransitionTime": .string(finished)]
        }
        func set(_ conditions: [JSONValue], active: Int64) -> JobSet {
            JobSet(metadata: ObjectMeta(name: "j"), spec: ["replicatedJobs": [["name": "workers", "template": ["spec": ["parallelism": 2]]]]],
                   status: ["restarts": 0, "conditions": .array(conditions), "replicatedJobsStatus": [["name": "workers", "active": .int(active), "ready": 0, "succeeded": 0, "failed": 0]]])
        }
        return ConformanceFixtures(
            template: template, taskType: "clustered-task",
            states: ["Created": set([], active: 0), "Running": set([], active: 1), "Completed": set([condition("Completed", "AllJobsCompleted")], active: 0),
                     "Failed": set([condition("Failed", "FailedJobs")], active: 0), "Restarting": set([condition("RestartingJobSet", "DefaultFailurePolicy")], active: 1)],
            sequence: [["restarts": 0, "replicatedJobsStatus": [["name": "workers", "active": 1, "ready": 1, "succeeded": 0, "failed": 0]]],
                       ["replicatedJobsStatus": [["name": "workers", "active": 0, "ready": 0, "succeeded": 1, "failed": 0]], "conditions": [condition("Completed", "AllJobsCompleted")]]],
            crds: [try! SimulatedOperators.crd(.jobset)])
    }

    @Test("the Pod, Spark, Ray, PyTorch, TensorFlow, MPI, Dask and clustered-task plugins pass every rule of the kit")
    func builtInsConform() async throws {
        let spark = SparkPlugin()
        spark.assumeTemplateSupport(true)
        let pod = try await PluginConformance.check(PodPlugin(), Self.podFixtures)
        #expect(pod.isEmpty, "\(pod)")
        let sparkViolations = try await PluginConformance.check(spark, Self.sparkFixtures)
        #expect(sparkViolations.isEmpty, "\(sparkViolations)")
        let ray = try await PluginConformance.check(RayPlugin(), Self.rayFixtures)
        #expect(ray.isEmpty, "\(ray)")
        let pytorch = try await PluginConformance.check(PyTorchPlugin(), Self.kubeflowFixtures(PyTorchJobKind.self, custom: #"{"workers": 2}"#, replicas: ["Master": ["replicas": 1], "Worker": ["replicas": 2]], operator: .pytorch))
        #expect(pytorch.isEmpty, "\(pytorch)")
        let tensorflow = try await PluginConformance.check(TensorFlowPlugin(), Self.kubeflowFixtures(TFJobKind.self, custom: #"{"workers": 2, "psReplicas": 1}"#, replicas: ["PS": ["replicas": 1], "Worker": ["replicas": 2]], operator: .tensorflow))
        #expect(tensorflow.isEmpty, "\(tensorflow)")
        let mpi = try await PluginConformance.check(MPIPlugin(), Self.kubeflowFixtures(MPIJobKind.self, custom: #"{"numWorkers": 2}"#, replicas: ["Launcher": ["replicas": 1], "Worker": ["replicas": 2]], operator: .mpi))
        #expect(mpi.isEmpty, "\(mpi)")
        let dask = try await PluginConformance.check(DaskPlugin(), Self.daskFixtures)
        #expect(dask.isEmpty, "\(dask)")
        let clustered = try await PluginConformance.check(ClusteredTaskPlugin(), Self.clusteredFixtures)
        #expect(clustered.isEmpty, "\(clustered)")
    }

    @Test("the kit fails a plugin broken against each rule, naming that rule", arguments: BrokenPodPlugin.Flaw.allCases)
    func brokenPlugins(_ flaw: BrokenPodPlugin.Flaw) async throws {
        let plugin = BrokenPodPlugin(flaw: flaw)
        let violations = flaw.needsSandbox
            ? try await PluginConformance.checkAgainstSandbox(plugin, Self.podFixtures, timeout: .seconds(8))
            : PluginConformance.checkOffline(plugin, Self.podFixtures)
        #expect(violations.contains { $0.rule == flaw.rule }, "\(flaw): \(violations)")
    }
}

/// The Pod plugin with one flaw.
struct BrokenPodPlugin: KubernetesTaskPlugin {
    enum Flaw: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case randomLabel, setsName, overlongNames, invalidLabel, undefinedPhase, earlySuccess, noCompletionTime, lossyCache, lossyFinishedView, skipsEveryChange, refusedAbort, neverSucceeds

        var rule: ConformanceRule {
            switch self {
            case .randomLabel: .deterministicBuild
            case .setsName: .noIdentityInBuild
            case .overlongNames: .nameLength
            case .invalidLabel: .executorMetadata
            case .undefinedPhase: .totalPhase
            case .earlySuccess: .noEarlySuccess
            case .noCompletionTime: .terminalAgreement
            case .lossyCache: .cacheTransform
            case .lossyFinishedView: .finishedView
            case .skipsEveryChange: .needlessChange
            case .refusedAbort: .abortAccepted
            case .neverSucceeds: .endToEnd
            }
        }

        var needsSandbox: Bool { self == .refusedAbort || self == .neverSucceeds }
        var testDescription: String { "\(rawValue) breaks \(rule.rawValue)" }
    }

    let flaw: Flaw
    let base = PodPlugin()
    var id: String { "broken" }
    var taskTypes: [String] { ["python"] }
    var properties: PluginProperties { flaw == .overlongNames ? PluginProperties(generatedNameMaxLength: 200) : PluginProperties() }

    func build(_ context: TaskExecutionContext) throws -> Pod {
        var pod = try base.build(context)
        switch flaw {
        case .randomLabel: pod.metadata.labels = (pod.metadata.labels ?? [:]).merging(["nonce": UUID().uuidString.prefix(8).lowercased()]) { $1 }
        case .setsName: pod.metadata.name = "my-own-name"
        case .invalidLabel: pod.metadata.labels = (pod.metadata.labels ?? [:]).merging(["bad": "has spaces"]) { $1 }
        default: break
        }
        return pod
    }

    func phase(of pod: Pod, context: TaskExecutionContext) -> PhaseInfo {
        let info = base.phase(of: pod, context: context)
        switch flaw {
        case .undefinedPhase where pod.status == nil: return .undefined
        case .earlySuccess where pod.status?.phase == "Running": return .success()
        case .neverSucceeds where info.phase == .success: return .running()
        default: return info
        }
    }

    func isTerminal(_ pod: Pod) -> Bool { base.isTerminal(pod) }
    func changeNeedsRound(from old: Pod, to new: Pod) -> Bool { flaw == .skipsEveryChange ? false : base.changeNeedsRound(from: old, to: new) }
    func completionTime(_ pod: Pod) -> Date? { flaw == .noCompletionTime ? nil : base.completionTime(pod) }

    var cacheTransform: (@Sendable (inout Pod) -> Void)? {
        if flaw == .lossyCache { return { @Sendable pod in pod.status = nil } }
        return base.cacheTransform
    }

    var finishedCacheTransform: (@Sendable (inout Pod) -> Void)? {
        if flaw == .lossyFinishedView { return { @Sendable pod in pod = Pod(metadata: ObjectMeta(name: pod.metadata.name)) } }
        return base.finishedCacheTransform
    }

    func abortBehavior(for child: Pod, context: TaskExecutionContext) -> AbortBehavior {
        // A Pod's containers cannot be changed: the API server refuses this patch.
        flaw == .refusedAbort ? .patch(["spec": ["containers": [["name": "other", "image": "y"]]]]) : .delete
    }
}
