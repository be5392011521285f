@testable import ExecutorControllers
import ExecutorAPI
import ExecutorCLI
import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import Logging
import SwiftProtobuf
import TaskPlugins
import Testing

/// Flyte's connector plugin: tasks run as jobs of a connector service reached over gRPC
/// (``SimulatedConnector`` on loopback), not as child objects.
@Suite("connector plugin")
struct ConnectorPluginTests {
    static let taskType = "test_sql"

    /// A connector task: input `x`, output `o0` (integers), the connection configs in custom
    /// beside a key of the task's own (which the Connection read ignores).
    static func template(type: String = taskType, version: Int32 = 0, configs: [String: String] = [:], retries: UInt32 = 0, project: String = "flytesnacks") throws -> Flyteidl2_Core_TaskTemplate {
        var t = Flyteidl2_Core_TaskTemplate()
        t.id.project = project
        t.id.domain = "development"
        t.id.name = "queries.daily"
        t.id.version = "v1"
        t.type = type
        t.taskTypeVersion = version
        t.metadata.retries.retries = retries
        let configJSON = String(decoding: try JSONSerialization.data(withJSONObject: configs, options: [.sortedKeys]), as: UTF8.self)
        t.custom = try Google_Protobuf_Struct(jsonString: #"{"query": "select 1", "configs": \#(configJSON)}"#)
        t.interface.inputs.variables = Fixtures.variables([("x", .integer)])
        t.interface.outputs.variables = Fixtures.variables([("o0", .integer)])
        return t
    }

    static func integer(_ value: Int64) -> Flyteidl2_Core_Literal {
        var literal = Flyteidl2_Core_Literal()
        literal.scalar.primitive.integer = value
        return literal
    }

    /// A TaskAction reading `<directory>/<name>/inputs.pb` (x = `x`) and writing under
    /// `file://<directory>/data/r1`.
    static func action(_ name: String, template: Flyteidl2_Core_TaskTemplate, directory: URL, x: Int64 = 7) throws -> TaskAction {
        var action = Fixtures.taskAction(name, taskType: template.type, template: try template.serializedBytes())
        action.spec.inputUri = "file://\(directory.path)/\(name)/inputs.pb"
        action.spec.runOutputBase = "file://\(directory.path)/data/r1"
        var inputs = Flyteidl2_Core_LiteralMap()
        inputs.literals = ["x": integer(x)]
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(name), withIntermediateDirectories: true)
        try Data(try inputs.serializedBytes() as [UInt8]).write(to: directory.appendingPathComponent("\(name)/inputs.pb"))
        return action
    }

    static func config(_ endpoint: String, resync: Double = 0.1) -> ExecutorConfig {
        var config = ExecutorConfig()
        config.connectorService.defaultConnector.endpoint = endpoint
        config.connectorService.supportedTaskTypes = [taskType]
        config.connectorService.resyncIntervalSeconds = resync
        config.connectorService.pollIntervalSeconds = 0.5
        config.requeueSeconds = 1
        return config
    }

    static func outputsPath(_ action: TaskAction, namespace: String, attempt: Int = 1) -> String {
        TaskPaths.actionOutputPath(namespace: namespace, name: action.metadata.name ?? "", runOutputBase: action.spec.runOutputBase ?? "", actionName: action.spec.actionName, attempt: attempt) + "/outputs.pb"
    }

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("connector-\(UUID().uuidString)")
    }

    @Test("a connector task is created with its template, inputs, output prefix and execution metadata, polled to success, and its outputs written")
    func success() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SimulatedConnector.with { connector in
            try await ExecutorHarness.with(config: Self.config(connector.endpoint)) { h in
                let template = try Self.template(configs: ["phases": "QUEUED,RUNNING,SUCCEEDED", "message": "scanning"])
                let action = try Self.action("sql-ok", template: template, directory: directory)
                let outputs = String(Self.outputsPath(action, namespace: h.namespace).dropFirst("file://".count))
                defer { try? FileManager.default.removeItem(atPath: outputs) }
                try await h.create(action)
                let done = try await h.terminal("sql-ok")
                #expect(done.status?.phaseHistory?.last?.phase == "Completed")
                #expect(done.status?.attempts == 1)

                // One job, created with what Flyte's plugin sends.
                let creates = connector.creates
                try #require(creates.count == 1)
                let create = creates[0]
                #expect(create.template.type == Self.taskType && create.template.id.name == "queries.daily")
                #expect(create.inputs.literals.map(\.name) == ["x"] && create.inputs.literals.first?.value == Self.integer(7))
                #expect(create.outputPrefix + "/outputs.pb" == Self.outputsPath(action, namespace: h.namespace))
                #expect(create.connection.configs["phases"] == "QUEUED,RUNNING,SUCCEEDED")
                let metadata = create.taskExecutionMetadata
                #expect(metadata.namespace == h.namespace)
                #expect(metadata.taskExecutionID.nodeExecutionID.nodeID == "sql-ok")
                #expect(metadata.taskExecutionID.nodeExecutionID.executionID.name == "r1")
                #expect(metadata.taskExecutionID.nodeExecutionID.executionID.project == "flytesnacks")
                #expect(metadata.taskExecutionID.taskID.name == "queries.daily")
                #expect(metadata.taskExecutionID.retryAttempt == 0)
                #expect(metadata.environmentVariables["TEAM"] == "ml" && metadata.environmentVariables["ACTION_NAME"] == "sql-ok")
                #expect(metadata.labels["action"] == "sql-ok")
                #expect(metadata.maxAttempts == 1)

                // Polled through every phase the connector reported, then outputs.pb written.
                #expect(connector.jobs.value["job-0001"]?.gets == 3)
                let written = try Flyteidl2_Core_LiteralMap(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: outputs)))
                #expect(written.literals == ["o0": Self.integer(7)])
                // No Pod, and Flyte's UI gets the connector's links and endpoint.
                #expect(try await h.pods().isEmpty)
                let events = h.sink.events.value.filter { $0.id.name == "sql-ok" }
                #expect(events.last?.phase == .succeeded)
                #expect(events.last?.logInfo.map(\.uri) == ["https://connector.example/jobs/job-0001"])
                #expect(events.last?.logContext.connector.endpoint == connector.endpoint)
                // The handle was kept in the plugin state.
                #expect(PluginState(base64: done.status?.pluginState).resourceMeta.flatMap { Data(base64Encoded: $0) } == Data(#"{"job_id": "job-0001"}"#.utf8))
                // Deleting the finished action (as the GC does) stops nothing at the connector.
                try await h.client.delete(TaskAction.self, name: "sql-ok", namespace: h.namespace)
                try await eventually("sql-ok gone") { (try? await h.get("sql-ok")) == nil }
                #expect(!connector.calls.value.contains("DeleteTask"))
            }
        }
    }

    @Test("FAILED fails the action with Flyte's message; RETRYABLE_FAILED starts a new attempt, which creates a new job")
    func failures() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SimulatedConnector.with { connector in
            try await ExecutorHarness.with(config: Self.config(connector.endpoint)) { h in
                try await h.create(try Self.action("sql-bad", template: try Self.template(configs: ["phases": "RUNNING,FAILED", "message": "table not found"]), directory: directory))
                let bad = try await h.terminal("sql-bad")
                #expect(bad.status?.errorState?.code == "TaskFailedWithError")
                #expect(bad.status?.errorState?.message == "failed to run the job: table not found")
                #expect(bad.status?.attempts == 1)

                try await h.create(try Self.action("sql-flaky", template: try Self.template(configs: ["phases": "RETRYABLE_FAILED", "message": "quota"], retries: 1), directory: directory))
                let flaky = try await h.terminal("sql-flaky")
                #expect(flaky.status?.attempts == 2)
                #expect(flaky.status?.errorState?.message == "failed to run the job: quota")
                let attempts = connector.creates.filter { $0.taskExecutionMetadata.taskExecutionID.nodeExecutionID.nodeID == "sql-flaky" }.map(\.taskExecutionMetadata.taskExecutionID.retryAttempt)
                #expect(attempts == [0, 1])
            }
        }
    }

    @Test("deleting a running TaskAction deletes its job at the connector")
    func abort() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SimulatedConnector.with { connector in
            try await ExecutorHarness.with(config: Self.config(connector.endpoint)) { h in
                try await h.create(try Self.action("sql-long", template: try Self.template(configs: ["phases": "RUNNING"]), directory: directory))
                try await h.reaches("sql-long", "Executing")
                try await h.client.delete(TaskAction.self, name: "sql-long", namespace: h.namespace)
                try await eventually("the TaskAction gone") { (try? await h.get("sql-long")) == nil }
                #expect(connector.jobs.value["job-0001"]?.deleted == true)
                #expect(connector.calls.value.filter { $0 == "DeleteTask" }.count == 1)
            }
        }
    }

    @Test("a connector that cannot answer is a system error: retried without a user retry, and the job is not created twice; a restarted executor asks after the same job")
    func unavailable() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SimulatedConnector.with { connector in
            var config = Self.config(connector.endpoint)
            config.maxSystemFailures = 5
            try await ExecutorHarness.with(config: config, start: false) { h in
                connector.failNext.withLock { $0["CreateTask"] = [.unavailable]; $0["GetTask"] = [.unavailable, .deadlineExceeded] }
                var run = h.startExecutor(config: config)
                try await h.create(try Self.action("sql-retry", template: try Self.template(configs: ["phases": "RUNNING"]), directory: directory))
                try await h.reaches("sql-retry", "Executing")
                let running = try await h.get("sql-retry")
                #expect(running.status?.attempts == 1)
                #expect(connector.jobs.value.count == 1)
                #expect(connector.calls.value.filter { $0 == "CreateTask" }.count == 2)

                // Another executor takes over: it finds the job in the plugin state.
                run.cancel()
                _ = try? await run.value
                let getsBefore = connector.jobs.value["job-0001"]?.gets ?? 0
                connector.jobs.withLock { $0["job-0001"]?.create.connection.configs["phases"] = "RUNNING,SUCCEEDED" }
                run = h.startExecutor(config: config)
                let done = try await h.terminal("sql-retry")
                run.cancel()
                _ = try? await run.value
                #expect(done.status?.phaseHistory?.last?.phase == "Completed")
                #expect((connector.jobs.value["job-0001"]?.gets ?? 0) > getsBefore)
                #expect(connector.jobs.value.count == 1)
                #expect(done.status?.attempts == 1)
            }
        }
    }

    @Test("the job's handle reaches the API server at once, whatever the coalescing window: an executor stopped right after CreateTask leaves the next one no second job to start")
    func handleWrittenAtOnce() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SimulatedConnector.with { connector in
            var config = Self.config(connector.endpoint)
            // Every non-terminal status would be held half a minute.
            config.statusCoalesceMilliseconds = 30_000
            config.statusCoalesceMaxMilliseconds = 30_000
            try await ExecutorHarness.with(config: config, start: false) { h in
                var run = h.startExecutor(config: config)
                try await h.create(try Self.action("sql-handle", template: try Self.template(configs: ["phases": "QUEUED", "message": "waiting for a slot"]), directory: directory))
                try await eventually("the job handle in the stored status", seconds: 15) {
                    PluginState(base64: (try? await h.get("sql-handle"))?.status?.pluginState).resourceMeta != nil
                }
                run.cancel()
                _ = try? await run.value
                connector.jobs.withLock { $0["job-0001"]?.create.connection.configs["phases"] = "SUCCEEDED" }
                run = h.startExecutor(config: config)
                let done = try await h.terminal("sql-handle")
                run.cancel()
                _ = try? await run.value
                #expect(done.status?.phaseHistory?.last?.phase == "Completed")
                #expect(connector.jobs.value.keys.sorted() == ["job-0001"])
            }
        }
    }

    @Test("GetTask calls of all tasks together stay within webApi.readRateLimiter, and every task is still polled")
    func readLimit() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SimulatedConnector.with { connector in
            // Unlimited, four tasks polled every 50 ms would make about 80 calls a second.
            var config = Self.config(connector.endpoint, resync: 0.05)
            config.connectorService.readQPS = 2
            config.connectorService.readBurst = 2
            try await ExecutorHarness.with(config: config) { h in
                let names = (1...4).map { "sql-limited-\($0)" }
                for name in names {
                    try await h.create(try Self.action(name, template: try Self.template(configs: ["phases": "RUNNING"]), directory: directory))
                }
                for name in names { try await h.reaches(name, "Executing") }
                let before = connector.calls.value.filter { $0 == "GetTask" }.count
                let started = ContinuousClock.now
                try await Task.sleep(for: .seconds(3))
                let after = connector.calls.value.filter { $0 == "GetTask" }.count
                let elapsed = (ContinuousClock.now - started) / .seconds(1)
                // At most the burst plus 2 a second over the window (and one in flight).
                #expect(after - before <= 2 + Int((2 * elapsed).rounded(.up)) + 1, "\(after - before) calls in \(elapsed) s")
                #expect(after - before >= 1)
                for name in names { #expect(try await h.get(name).status?.phaseHistory?.last?.phase == "Executing") }
            }
        }
    }

    @Test("a task type a listed connector claims goes to it; others to the default connector; a task without inputs reads none")
    func routing() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SimulatedConnector.with { fallback in
            try await SimulatedConnector.with(categories: [("warehouse_query", 1)]) { warehouse in
                var config = Self.config(fallback.endpoint)
                var deployment = ConnectorDeployment()
                deployment.endpoint = warehouse.endpoint
                deployment.insecure = true
                config.connectorService.connectors = ["warehouse": deployment]
                config.connectorService.supportedTaskTypes = [Self.taskType, "warehouse_query"]
                try await ExecutorHarness.with(config: config) { h in
                    try await h.create(try Self.action("wh-v1", template: try Self.template(type: "warehouse_query", version: 1), directory: directory))
                    try await h.create(try Self.action("wh-v0", template: try Self.template(type: "warehouse_query", version: 0), directory: directory))
                    try await h.create(try Self.action("sql-plain", template: try Self.template(), directory: directory))
                    // A task that declares no inputs: nothing is read (its inputs are in a
                    // bucket no store is configured for, which would be a system error).
                    var sensor = try Self.template()
                    sensor.interface.inputs.variables = []
                    sensor.interface.outputs.variables = []
                    var noInputs = try Self.action("sql-sensor", template: sensor, directory: directory)
                    noInputs.spec.inputUri = "s3://bucket/metadata/r1/sql-sensor/inputs.pb"
                    try await h.create(noInputs)
                    for name in ["wh-v1", "wh-v0", "sql-plain", "sql-sensor"] {
                        #expect(try await h.terminal(name).status?.phaseHistory?.last?.phase == "Completed", "\(name)")
                    }
                    #expect(fallback.creates.first { $0.taskExecutionMetadata.taskExecutionID.nodeExecutionID.nodeID == "sql-sensor" }?.hasInputs == false)
                    #expect(warehouse.creates.map(\.taskExecutionMetadata.taskExecutionID.nodeExecutionID.nodeID) == ["wh-v1"])
                    #expect(fallback.creates.map(\.taskExecutionMetadata.taskExecutionID.nodeExecutionID.nodeID).sorted() == ["sql-plain", "sql-sensor", "wh-v0"])
                    // The fallback does not list what it runs (Unimplemented), which is no error.
                    #expect(fallback.calls.value.contains("ListConnectors"))
                }
            }
        }
    }

    @Test("a task type no connector runs fails the attempt as Flyte's does, without a call")
    func noConnector() async throws {
        var config = ConnectorServiceConfig()
        var only = ConnectorDeployment()
        only.endpoint = "127.0.0.1:9"
        config.connectors = ["only": only]
        config.supportedTaskTypes = ["orphan"]
        let driver = try ConnectorDriver(config: config, store: nil, metrics: nil, logger: Logger(label: "test"))
        let context = try Fixtures.pluginContext("orphan-1", try Self.template(type: "orphan"))
        let (info, state) = try await driver.handle(context, state: PluginState())
        #expect(info.phase == .retryableFailure)
        #expect(info.error == ExecutionError(code: "TaskFailedWithError", message: "no connector found for task type [orphan] and version [0]", kind: .user))
        #expect(state.resourceMeta == nil)
    }

    @Test("a call to a connector that is not there fails at once as UNAVAILABLE, a transient error, rather than waiting for one")
    func unreachable() async throws {
        // A port just bound and released: nothing listens there.
        let port = try await SimulatedConnector.with { URL(string: "grpc://\($0.endpoint)")?.port ?? 0 }
        let client = try ConnectorClient(endpoint: "127.0.0.1:\(port)", insecure: true)
        let running = Task { try await client.run() }
        defer {
            client.shutdown()
            running.cancel()
        }
        let started = ContinuousClock.now
        let outcome = await withTaskGroup(of: Result<Void, ConnectorCallError>?.self) { group in
            group.addTask {
                do throws(ConnectorCallError) {
                    _ = try await client.getTask(Flyteidl2_Connector_GetTaskRequest(), timeout: nil)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            // Far longer than a refused connection takes, far shorter than the 300 s ceiling.
            group.addTask {
                try? await Task.sleep(for: .seconds(60))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard case .failure(let error)? = outcome else {
            Issue.record("the call did not fail within 60 s: \(String(describing: outcome))")
            return
        }
        #expect(error.isTransient && error.codeName == "unavailable", "\(error)")
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test("routing: the connector plugin takes its types unless a Kubernetes plugin registers one; default-for-task-types sends a registered type to it")
    func plugins() async throws {
        var config = ExecutorConfig()
        config.connectorService.defaultConnector.endpoint = "127.0.0.1:9"
        config.connectorService.supportedTaskTypes = ["bigquery_query_job_task", "ray"]
        let client = try KubernetesClient(configuration: ClientConfiguration(server: URL(string: "http://127.0.0.1:9")!))
        defer { Task { try? await client.shutdown() } }
        func table(_ defaults: [String: String]) -> PluginTable {
            var registry = PluginRegistration.registry(PluginRegistration.builtIn, config: config, logger: Logger(label: "test"))
            registry.defaultForTaskTypes = defaults
            return PluginTable(registry: registry, client: client, connectors: config.connectorService, logger: Logger(label: "test"))
        }
        let plain = table([:])
        #expect(try plain.driver(for: "bigquery_query_job_task").id == "connector-service")
        #expect(try plain.driver(for: "ray").id == "ray")
        #expect(try plain.driver(for: "spark").id == "spark")
        #expect(plain.all.filter { $0.id == "connector-service" }.count == 1)
        let databricks = table(["spark": "connector-service"])
        #expect(try databricks.driver(for: "spark").id == "connector-service")
        #expect(try databricks.driver(for: "python").id == "pod")
    }

    @Test("config: Flyte's keys and defaults, Go durations, and clear errors for a bad endpoint or a route to an unknown connector")
    func config() throws {
        let parsed = try ExecutorConfig.parse(yaml: """
        connector-service:
          defaultConnector:
            endpoint: dns:///flyteconnector.flyte.svc.cluster.local:8000
          connectors:
            databricks:
              endpoint: databricks.flyte.svc:8000
              timeouts: {CreateTask: 30s}
              defaultTimeout: 2s
              project: analytics
          connectorForTaskTypes: {spark: databricks}
          supportedTaskTypes: [bigquery_query_job_task]
          pollInterval: 1m
          webApi:
            caching: {resyncInterval: 5s, workers: 10}
            readRateLimiter: {qps: 5, burst: 20}
        """, path: "c.yaml").connectorService
        #expect(parsed.defaultConnector.insecure && parsed.defaultConnector.defaultTimeout == 10)
        #expect(parsed.defaultConnector.defaultServiceConfig.contains("round_robin"))
        let databricks = try #require(parsed.connectors["databricks"])
        #expect(!databricks.insecure && databricks.project == "analytics")
        #expect(databricks.timeout("CreateTask") == .seconds(30) && databricks.timeout("GetTask") == .seconds(2))
        #expect(parsed.pollIntervalSeconds == 60 && parsed.resyncIntervalSeconds == 5)
        #expect(parsed.readQPS == 5 && parsed.readBurst == 20)
        #expect(ConnectorServiceConfig().readQPS == 10 && ConnectorServiceConfig().readBurst == 100)
        #expect(parsed.taskTypes == ["bigquery_query_job_task", "spark"])
        #expect(parsed.isConfigured && !ConnectorServiceConfig().isConfigured)

        for (yaml, fragment) in [
            ("connector-service: {defaultConnector: {endpoint: 'http://x:80'}}", "is not host:port"),
            ("connector-service: {defaultConnector: {endpoint: 'x:99999'}}", "is not host:port"),
            ("connector-service: {defaultConnector: {endpoint: 'x:80', defaultServiceConfig: '{nope'}}", "is not a gRPC service config"),
            ("connector-service: {connectorForTaskTypes: {spark: missing}}", "names connector \"missing\""),
            ("connector-service: {pollInterval: soon}", "is not a positive Go duration"),
            ("connector-service: {webApi: {readRateLimiter: {qps: 0}}}", "qps must be positive"),
            ("connector-service: {defaultConnector: {endpoint: 'x:80', tls: true}}", "tls"),
        ] {
            #expect {
                _ = try ExecutorConfig.parse(yaml: yaml, path: "c.yaml")
            } throws: { error in
                "\(error)".contains(fragment)
            }
        }
        #expect(throws: Never.self) { try ConnectorClient.check(endpoint: "[::1]:8000", serviceConfig: nil) }
        #expect(throws: Never.self) { try ConnectorClient.check(endpoint: "unix:/run/connector.sock", serviceConfig: nil) }
        #expect(throws: Never.self) { try ConnectorClient.check(endpoint: "localhost", serviceConfig: nil) }
    }

    @Test("registry: project and domain fallbacks, connectorForTaskTypes over what a connector lists, supportedTaskTypes to the default connector")
    func registry() {
        var config = ConnectorServiceConfig()
        config.defaultConnector.endpoint = "default:80"
        var a = ConnectorDeployment()
        a.endpoint = "a:80"
        var b = ConnectorDeployment()
        b.endpoint = "b:80"
        b.project = "p1"
        b.domain = "d1"
        config.connectors = ["a": a, "b": b]
        config.connectorForTaskTypes = ["spark": "a"]
        config.supportedTaskTypes = ["sql", "spark"]
        func listing(_ categories: [(String, Int32)]) -> Flyteidl2_Connector_ListConnectorsResponse {
            .with { $0.connectors = [.with { $0.supportedTaskCategories = categories.map { c in .with { $0.name = c.0; $0.version = c.1 } } }] }
        }
        let registry = ConnectorRegistry(config: config, listed: ["b": listing([("sql", 0), ("spark", 0)]), ConnectorRegistry.defaultID: listing([("bq", 2)])])
        func id(_ type: String, _ version: Int32 = 0, _ project: String = "p1", _ domain: String = "d1") -> String? {
            registry.find(taskType: type, version: version, project: project, domain: domain, defaultConnector: config.defaultConnector)?.id
        }
        #expect(id("sql") == "b")                       // listed by b for p1/d1
        #expect(id("sql", 0, "p2") == "defaultConnector") // supportedTaskTypes, every project
        #expect(id("spark") == "b")                     // b's own project-scoped listing wins the lookup
        #expect(id("spark", 0, "p2") == "a")            // connectorForTaskTypes, every project
        #expect(id("bq", 2, "p2", "d2") == "defaultConnector")
        #expect(id("unknown", 0, "p2") == "defaultConnector") // the default connector takes the rest
        var none = config
        none.defaultConnector.endpoint = ""
        #expect(ConnectorRegistry(config: none, listed: [:]).find(taskType: "unknown", version: 0, project: "p", domain: "d", defaultConnector: none.defaultConnector) == nil)
    }
}
