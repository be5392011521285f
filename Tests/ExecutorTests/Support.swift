import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Logging
import SwiftProtobuf
import TaskPlugins
import Testing

enum Fixtures {
    /// Flyte's own CRD: the sandbox tests' copy of `shared/fixtures/flyte.org_taskactions.yaml`.
    static func flyteCRD() throws -> JSONValue {
        let text = try String(contentsOfFile: repositoryRoot + "/Tests/KubeSandboxTests/Fixtures/flyte.org_taskactions.yaml", encoding: .utf8)
        return try #require(try JSONValue.documents(yaml: text).first)
    }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static let crdType = ResourceType.customResourceDefinitions

    /// The fact sheet's test vector 7.1: a container task with retries 2.
    static let containerTemplateBase64 = "Cg8IARIBcBoBZCIBdCoCdjESCWNvbnRhaW5lchoEKgIoAjI4CgxidXN5Ym94OjEuMzYSAnNoEgItYxoKZWNobyBoZWxsbyIUCggIARIEMTAwbQoICAMSBDY0TWk="

    /// A container template that tells the simulated kubelet what to do.
    /// - Parameter manual: the kubelet moves the Pod on only when the test says (``ExecutorHarness/advance(_:)``).
    static func template(outcome: String = "succeed", duration: Double = 0.3, startup: Double = 0.3, retries: UInt32 = 0, exitCode: Int = 1, manual: Bool = false, args: [String] = ["pyflyte-execute", "--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}"]) -> Data {
        var t = Flyteidl2_Core_TaskTemplate()
        t.id.resourceType = .task
        t.id.project = "flytesnacks"
        t.id.domain = "development"
        t.id.name = "wf.say_hello"
        t.id.version = "v1"
        t.type = "python"
        t.metadata.retries.retries = retries
        var c = Flyteidl2_Core_Container()
        c.image = "cr.flyte.org/flyteorg/flytekit:py3.11"
        c.args = args
        var cpu = Flyteidl2_Core_Resources.ResourceEntry()
        cpu.name = .cpu
        cpu.value = "500m"
        var memory = Flyteidl2_Core_Resources.ResourceEntry()
        memory.name = .memory
        memory.value = "256Mi"
        c.resources.requests = [cpu, memory]
        c.env = [kv("SANDBOX_OUTCOME", outcome), kv("SANDBOX_DURATION", String(duration)), kv("SANDBOX_STARTUP", String(startup)), kv("SANDBOX_EXIT_CODE", String(exitCode))]
        if manual { c.env.append(kv("SANDBOX_STEP", "manual")) }
        t.container = c
        return try! t.serializedBytes()
    }

    /// A `spark` task: the container of ``template(outcome:duration:startup:retries:exitCode:manual:args:)``
    /// with `env` added, and a SparkJob running `local:///opt/app.py`.
    static func sparkTemplate(env: [String: String] = [:], retries: UInt32 = 0, custom: String = #"{"mainApplicationFile":"local:///opt/app.py","sparkConf":{"spark.executor.instances":"1"}}"#) -> Data {
        pluginTemplate(type: "spark", env: env, retries: retries, custom: custom)
    }

    /// A `ray` task with one worker group.
    static func rayTemplate(env: [String: String] = [:], retries: UInt32 = 0) -> Data {
        pluginTemplate(type: "ray", env: env, retries: retries, custom: #"{"rayCluster":{"workerGroupSpec":[{"groupName":"workers","replicas":1,"minReplicas":1,"maxReplicas":2}]}}"#)
    }

    /// An interface's variables, each of a simple type, in order.
    static func variables(_ list: [(String, Flyteidl2_Core_SimpleType)]) -> [Flyteidl2_Core_VariableEntry] {
        list.map { name, type in
            var entry = Flyteidl2_Core_VariableEntry()
            entry.key = name
            entry.value.type.simple = type
            return entry
        }
    }

    /// The context of TaskAction `name`'s first attempt (uid `uid-<name>`) running `template`
    /// as its task type, at `now`: what a plugin's unit tests build and read with.
    static func pluginContext(_ name: String, _ template: Flyteidl2_Core_TaskTemplate, config: PluginConfig = PluginConfig(), now: Date = Date(timeIntervalSince1970: 1_800_000_100)) throws -> TaskExecutionContext {
        var action = taskAction(name, taskType: template.type, template: try template.serializedBytes())
        action.metadata.uid = "uid-\(name)"
        return TaskExecutionContext(taskAction: action, template: template, properties: PluginProperties(), config: config, now: now)
    }

    static func pluginTemplate(type: String, env: [String: String], retries: UInt32, custom: String) -> Data {
        var t = try! Flyteidl2_Core_TaskTemplate(serializedBytes: template(duration: 0.1, startup: 0.05, retries: retries))
        t.type = type
        t.container.env = t.container.env.filter { env[$0.key] == nil } + env.sorted { $0.key < $1.key }.map { kv($0.key, $0.value) }
        t.custom = try! Google_Protobuf_Struct(jsonString: custom)
        return try! t.serializedBytes()
    }

    static func kv(_ k: String, _ v: String) -> Flyteidl2_Core_KeyValuePair {
        var p = Flyteidl2_Core_KeyValuePair()
        p.key = k
        p.value = v
        return p
    }

    static func taskAction(_ name: String, namespace: String = "default", taskType: String = "python", template: Data? = Fixtures.template()) -> TaskAction {
        var spec = TaskActionSpec(runName: "r1", project: "flytesnacks", domain: "development", actionName: name, taskType: taskType, taskTemplate: template, inputUri: "s3://bucket/metadata/r1/\(name)/inputs.pb", runOutputBase: "s3://bucket/data/r1")
        spec.envVars = ["TEAM": "ml"]
        return TaskAction(metadata: ObjectMeta(name: name, namespace: namespace, labels: ["flyte.org/run": "r1"]), spec: spec)
    }
}

/// Collects ActionEvents for assertions.
final class RecordingSink: ActionEventSink {
    let events = LockedBox<[Flyteidl2_Workflow_ActionEvent]>([])
    func record(_ event: Flyteidl2_Workflow_ActionEvent) async throws {
        events.withLock { $0.append(event) }
    }
}

/// A cluster (KubeSandbox by default, or the one `EXECUTOR_E2E=1` names: ``TestCluster``) with
/// the simulated kubelet and the generated CRD, and an executor running against it in the
/// harness's namespace.
struct ExecutorHarness {
    /// The in-process sandbox; nil with `EXECUTOR_E2E=1`, where tests that use it are skipped
    /// (``TestCluster/sandboxOnly``).
    let sandbox: KubeSandbox!
    let client: KubernetesClient
    let sink: RecordingSink
    /// Where the test's objects live: `default` in the sandbox, a namespace of its own on a cluster.
    var namespace = "default"

    static func installCRD(_ client: KubernetesClient) async throws {
        _ = try await client.create(Fixtures.crdType, TaskActionSchema.crd)
    }

    /// - Parameter start: false leaves starting an executor to `body`.
    /// - Parameter apps: installs the App CRD too.
    /// - Parameter sink, errorDocuments: the data plane; by default a ``RecordingSink`` and no check.
    /// - Parameter auditWrites: the sandbox keeps every write it answers (`sandbox.auditRecords`).
    static func with(config: ExecutorConfig = ExecutorConfig(), kubelet: Bool = true, operators: [SimulatedOperators.Kind] = [], installOperatorCRDs: Bool = true, apps: Bool = false, plugins: [PluginRegistration] = PluginRegistration.builtIn, sink: (any ActionEventSink)? = nil, errorDocuments: ErrorDocumentCheck? = nil, taskCache: TaskCache? = nil, metrics: MetricsRegistry = MetricsRegistry(), start: Bool = true, auditWrites: Bool = false, _ body: (ExecutorHarness) async throws -> Void) async throws {
        var options = KubeSandbox.Options()
        options.kubelet = kubelet
        options.auditWrites = auditWrites
        options.operators = operators
        options.installOperatorCRDs = installOperatorCRDs
        try await TestCluster.with(options) { cluster in
            try await cluster.ensureCRD(TaskActionSchema.crd)
            if apps { try await cluster.ensureCRD(AppSchema.crd) }
            let harness = ExecutorHarness(sandbox: cluster.sandbox, client: cluster.client, sink: RecordingSink(), namespace: cluster.namespace)
            let run = start ? harness.startExecutor(config: config, plugins: plugins, sink: sink, errorDocuments: errorDocuments, taskCache: taskCache, metrics: metrics) : Task<Void, any Error> {}
            do {
                try await body(harness)
            } catch {
                run.cancel()
                _ = try? await run.value
                throw error
            }
            run.cancel()
            _ = try? await run.value
        }
    }

    /// The executor's settings for this cluster: on a real one its Pods name the simulated
    /// kubelet's scheduler.
    func clusterConfig(_ config: ExecutorConfig) -> ExecutorConfig {
        var config = config
        if TestCluster.isExternal, config.plugins.schedulerName == nil { config.plugins.schedulerName = TestCluster.schedulerName }
        return config
    }

    /// The namespaces the executor watches: all in the sandbox; on a shared cluster, the test's own.
    var watched: [String] { TestCluster.isExternal ? [namespace] : [] }

    /// Starts an executor; cancel the task to stop it.
    /// Webhooks in `config.notifications` are started as `executor run` starts them.
    func startExecutor(config: ExecutorConfig = ExecutorConfig(), plugins: [PluginRegistration] = PluginRegistration.builtIn, sink: (any ActionEventSink)? = nil, errorDocuments: ErrorDocumentCheck? = nil, taskCache: TaskCache? = nil, metrics: MetricsRegistry = MetricsRegistry()) -> Task<Void, any Error> {
        do {
            return try launchExecutor(config: config, plugins: plugins, sink: sink, errorDocuments: errorDocuments, taskCache: taskCache, metrics: metrics).run
        } catch {
            return Task { throw error }
        }
    }

    /// ``startExecutor(config:plugins:sink:errorDocuments:metrics:)`` for a test that looks
    /// inside the running executor.
    func launchExecutor(config: ExecutorConfig = ExecutorConfig(), plugins: [PluginRegistration] = PluginRegistration.builtIn, sink: (any ActionEventSink)? = nil, errorDocuments: ErrorDocumentCheck? = nil, taskCache: TaskCache? = nil, metrics: MetricsRegistry = MetricsRegistry()) throws -> (executor: Executor, run: Task<Void, any Error>) {
        let config = clusterConfig(config)
        let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", gracefulShutdownTimeout: .seconds(5)), metrics: metrics)
        let notifier = try WebhookNotifier.make(config: config.notifications, cluster: config.cluster, manager: manager, logger: Logger(label: "webhooks"))
        let executor = Executor(manager: manager, config: config, namespaces: watched, plugins: plugins, sink: sink ?? self.sink, errorDocuments: errorDocuments, taskCache: taskCache, notifier: notifier)
        return (executor, Task { try await manager.run() })
    }

    func get(_ name: String) async throws -> TaskAction {
        try await client.get(TaskAction.self, name: name, namespace: namespace)
    }

    /// Creates `taskAction` in the harness's namespace.
    func create(_ taskAction: TaskAction) async throws {
        var taskAction = taskAction
        taskAction.metadata.namespace = namespace
        _ = try await client.create(taskAction)
    }

    /// Waits until the TaskAction is terminal and returns it.
    func terminal(_ name: String, seconds: Double = 60) async throws -> TaskAction {
        try await eventually("\(name) terminal", seconds: seconds) { (try? await get(name))?.isTerminal ?? false }
        return try await get(name)
    }

    /// Moves a `manual` Pod one step on: ContainerCreating → Running → its outcome.
    func advance(_ pod: String) async throws {
        try await SimulatedKubelet.advance(pod, namespace: namespace, client: client)
    }

    /// Waits until the TaskAction's last recorded phase is `phase`.
    func reaches(_ name: String, _ phase: String) async throws {
        try await eventually("\(name) \(phase)") { (try? await get(name))?.status?.phaseHistory?.last?.phase == phase }
    }

    func pods() async throws -> [Pod] {
        try await client.list(Pod.self, namespace: namespace).items
    }

    func pod(_ name: String) async throws -> Pod {
        try await client.get(Pod.self, name: name, namespace: namespace)
    }

    func events() async throws -> [Event] {
        try await client.list(Event.self, namespace: namespace).items
    }
}

/// Names of every Pod created while it runs, from a watch.
final class PodLog: Sendable {
    let created = LockedBox<[(name: String, uid: String)]>([])
    let task: Task<Void, Never>

    init(_ client: KubernetesClient, namespace: String = "default") async throws {
        let list = try await client.list(Pod.self, namespace: namespace)
        let created = self.created
        let stream = try await client.watch(Pod.self, namespace: namespace, options: WatchOptions(resourceVersion: list.metadata.resourceVersion))
        task = Task {
            do {
                for try await event in stream {
                    if case .added(let pod) = event { created.withLock { $0.append((pod.metadata.name ?? "", pod.metadata.uid ?? "")) } }
                }
            } catch {}
        }
    }

    var names: [String] { created.value.map(\.name) }
    func stop() { task.cancel() }
}
