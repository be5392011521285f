import Foundation
import KubeClient
import Synchronization

/// The Kubeflow Spark operator, simulated: a new SparkApplication is NEW, then SUBMITTED with
/// a driver Pod `<app>-driver` (labelled as the operator labels it, owned by the
/// application), RUNNING while the driver runs and COMPLETED or FAILED when it ends; or
/// SUBMISSION_FAILED without a driver. See ``SimulatedOperators`` for the knobs.
final class SimulatedSparkOperator: Sendable, CustomObjectKind {
    static let resourceType = ResourceType(group: "sparkoperator.k8s.io", version: "v1beta2", kind: "SparkApplication", plural: "sparkapplications", namespaced: true)
    typealias Application = CustomObject<SimulatedSparkOperator>
    static let driverSelector = "spark-role=driver,sparkoperator.k8s.io/launched-by-spark-operator=true"

    let client: KubernetesClient
    private let submitted = Mutex<Set<String>>([])

    init(client: KubernetesClient) {
        self.client = client
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await WatchLoop.run(self.client, Application.self) { event in await self.applicationChanged(event) } }
            group.addTask { await WatchLoop.run(self.client, Pod.self, labelSelector: Self.driverSelector) { event in await self.driverChanged(event) } }
        }
    }

    private func applicationChanged(_ event: WatchEvent<Application>) async {
        guard case .added(let app) = event, app.metadata.deletionTimestamp == nil, app.status?.value(atPath: "applicationState.state") == nil,
            let uid = app.metadata.uid, submitted.withLock({ $0.insert(uid).inserted })
        else { return }
        await submit(app)
    }

    private func submit(_ app: Application) async {
        let name = app.metadata.name ?? ""
        let namespace = app.metadata.namespace
        let driver = app.spec?["driver"] ?? [:]
        let env = SimulatedOperators.environment(driver["template"])
        let now = JSONValue.string(KubeTime.format(Date()))
        _ = await writeStatus(name, namespace, ["applicationState": ["state": "NEW"], "driverInfo": [:]])
        if env["SANDBOX_SPARK"] == "submission-fail" {
            _ = await writeStatus(name, namespace, ["applicationState": ["state": "SUBMISSION_FAILED", "errorMessage": "failed to run spark-submit: the sandbox was told to fail the submission"],
                                                   "submissionAttempts": 1, "lastSubmissionAttemptTime": now, "driverInfo": [:]])
            return
        }
        let podName = "\(name)-driver"
        var labels = driver.value(atPath: "template.metadata.labels")?.objectValue ?? [:]
        for (k, v) in driver["labels"]?.objectValue ?? [:] { labels[k] = v }
        labels["spark-role"] = "driver"
        labels["sparkoperator.k8s.io/app-name"] = .string(name)
        labels["sparkoperator.k8s.io/launched-by-spark-operator"] = "true"
        var annotations = driver["annotations"]?.objectValue ?? [:]
        if SimulatedOperators.attemptFails(app.metadata, env: env) { annotations[SimulatedKubelet.outcomeAnnotation] = "fail" }
        var spec = driver.value(atPath: "template.spec") ?? ["containers": [["name": "spark-kubernetes-driver"]]]
        var containers = spec["containers"]?.arrayValue ?? []
        if containers.isEmpty { containers = [["name": "spark-kubernetes-driver"]] }
        if containers[0]["image"] == nil { containers[0]["image"] = driver["image"] ?? app.spec?["image"] ?? "spark" }
        if let extra = driver["env"]?.arrayValue { containers[0]["env"] = .array((containers[0]["env"]?.arrayValue ?? []) + extra) }
        spec["containers"] = .array(containers)
        spec["restartPolicy"] = "Never"
        if let account = driver["serviceAccount"] { spec["serviceAccountName"] = account }
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(podName), "namespace": .string(namespace ?? "default"), "labels": .object(labels), "annotations": .object(annotations),
                         "ownerReferences": [SimulatedOperators.owner(Self.resourceType, app.metadata)]],
            "spec": spec,
        ]
        do {
            _ = try await client.create(Pod.resourceType, pod)
        } catch {
            _ = await writeStatus(name, namespace, ["applicationState": ["state": "SUBMISSION_FAILED", "errorMessage": .string("failed to create the driver pod: \(error)")], "submissionAttempts": 1, "lastSubmissionAttemptTime": now, "driverInfo": [:]])
            return
        }
        _ = await writeStatus(name, namespace, ["applicationState": ["state": "SUBMITTED"], "driverInfo": ["podName": .string(podName)],
                                                "sparkApplicationId": .string("spark-\(SimulatedOperators.randomSuffix(12))"),
                                                "submissionAttempts": 1, "lastSubmissionAttemptTime": now, "submissionID": .string(UUID().uuidString.lowercased())])
    }

    private func driverChanged(_ event: WatchEvent<Pod>) async {
        guard let pod = event.object, event.type != .deleted, let app = pod.metadata.labels?["sparkoperator.k8s.io/app-name"] else { return }
        let state: String
        var extra: [String: JSONValue] = [:]
        switch pod.status?.phase {
        case "Running":
            state = "RUNNING"
            extra["driverInfo"] = ["podName": .string(pod.metadata.name ?? ""), "webUIIngressAddress": .string("\(app).spark.sandbox.local"), "webUIPort": 4040]
        case "Succeeded":
            state = "COMPLETED"
            extra["terminationTime"] = .string(KubeTime.format(Date()))
        case "Failed":
            state = "FAILED"
            let terminated = pod.status?.containerStatuses?.first?.state?.terminated
            extra["terminationTime"] = .string(KubeTime.format(Date()))
            extra["errorMessage"] = .string("driver container failed with ExitCode: \(terminated?.exitCode ?? 1), Reason: \(terminated?.reason ?? "Error")")
        default:
            return
        }
        guard let current = try? await client.get(Self.resourceType, name: app, namespace: pod.metadata.namespace),
            let now = current.value(atPath: "status.applicationState.state")?.stringValue, now != state, !["COMPLETED", "FAILED", "SUBMISSION_FAILED"].contains(now)
        else { return }
        var appState: JSONValue = ["state": .string(state)]
        if let message = extra.removeValue(forKey: "errorMessage") { appState["errorMessage"] = message }
        var status: JSONValue = ["applicationState": appState]
        for (k, v) in extra { status[k] = v }
        _ = await writeStatus(app, pod.metadata.namespace, status)
    }

    private func writeStatus(_ name: String, _ namespace: String?, _ status: JSONValue) async -> Bool {
        await SimulatedOperators.writeStatus(client, Self.resourceType, name, namespace, status)
    }
}
