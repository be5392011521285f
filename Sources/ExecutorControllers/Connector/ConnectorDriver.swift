import ExecutorAPI
import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import Logging
import SwiftProtobuf
import TaskPlugins

/// Flyte's connector plugin (`connector-service`, a web-API plugin): a task runs as a job of
/// an external connector service over gRPC, not as a child object. The first round calls
/// CreateTask and keeps the connector's `resource_meta` in the plugin state (written at once,
/// so a restart or a new leader asks after the same job instead of starting another); later
/// rounds call GetTask every `webApi.caching.resyncInterval` and map its phase as Flyte's
/// `Status`; an abort calls DeleteTask. Which deployment runs a task comes from
/// ``ConnectorRegistry``, refreshed by ListConnectors every `pollInterval`.
///
/// Errors: a CreateTask the connector refuses fails the attempt as retryable (Flyte's
/// `TaskFailedWithError`); a connector that cannot be reached or does not answer in time, and
/// any GetTask error, is a system error (retried after `requeue-seconds`, counted against
/// `max-system-failures`), so a connector's restart costs no user retry.
final class ConnectorDriver: PluginDriver {
    static let pluginID = "connector-service"
    /// Flyte's error code for a connector task that failed.
    static let failedCode = "TaskFailedWithError"

    let id = ConnectorDriver.pluginID
    let taskTypes: [String]
    let properties = PluginProperties()
    var childResource: ResourceType? { nil }
    var availability: PluginAvailability { availabilityBox.value }

    let config: ConnectorServiceConfig
    /// One client per endpoint, shared by the deployments that name it.
    let clients: [String: ConnectorClient]
    let store: any BlobStore
    let logger: Logger
    let metrics: MetricsRegistry?
    private let registry: LockedBox<ConnectorRegistry>
    /// `webApi.readRateLimiter`: GetTask calls of all tasks together.
    private let reads: LockedBox<TokenBucket>
    private let availabilityBox = LockedBox(PluginAvailability.starting)

    /// - Parameter store: where inputs are read and a connector's outputs written; nil for
    ///   local files only.
    init(config: ConnectorServiceConfig, store: (any BlobStore)?, metrics: MetricsRegistry?, logger: Logger) throws {
        self.config = config
        taskTypes = config.taskTypes
        self.store = store ?? BlobStores(s3: nil)
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "plugin"] = "\(ConnectorDriver.pluginID)"
        self.logger = logger
        var clients: [String: ConnectorClient] = [:]
        for deployment in [config.defaultConnector] + config.connectors.keys.sorted().compactMap({ config.connectors[$0] }) where !deployment.endpoint.isEmpty {
            guard clients[deployment.endpoint] == nil else { continue }
            clients[deployment.endpoint] = try ConnectorClient(endpoint: deployment.endpoint, insecure: deployment.insecure, serviceConfig: deployment.defaultServiceConfig)
        }
        self.clients = clients
        registry = LockedBox(ConnectorRegistry(config: config, listed: [:]))
        reads = LockedBox(TokenBucket(ratePerSecond: config.readQPS, burst: config.readBurst))
    }

    func start(manager: Manager, controller: Controller, namespaces: [String?], discovery: Backoff, ownerFinished: @escaping @Sendable (String, String) -> Bool, onReady: @escaping @Sendable () -> Void) {
        manager.addReadinessCheck("plugin \(id): the connectors have not been asked what they run") { [availabilityBox] in availabilityBox.value != .starting }
        manager.add(name: "plugin \(id)", leaderOnly: false) { [self] in
            await withTaskGroup(of: Void.self) { group in
                for client in clients.values {
                    group.addTask { [logger] in
                        do {
                            try await client.run()
                        } catch {
                            logger.error("connector client stopped", metadata: ["endpoint": "\(client.endpoint)", "error": "\(error)"])
                        }
                    }
                }
                group.addTask { [self] in
                    await refresh()
                    availabilityBox.withLock { $0 = .ready }
                    onReady()
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(Int64(config.pollIntervalSeconds * 1000)))
                        if Task.isCancelled { break }
                        await refresh()
                    }
                    // Calls in flight end; no new ones start.
                    for client in clients.values { client.shutdown() }
                }
            }
        }
    }

    /// Asks every deployment what it runs and rebuilds the registry. A deployment that does
    /// not answer keeps none of its listed categories until it does (Flyte's), but the
    /// configured routes (`connectorForTaskTypes`, `supportedTaskTypes`) stay.
    func refresh() async {
        var deployments = config.connectors
        if !config.defaultConnector.endpoint.isEmpty { deployments[ConnectorRegistry.defaultID] = config.defaultConnector }
        let listed = await withTaskGroup(of: (String, Flyteidl2_Connector_ListConnectorsResponse?).self) { group in
            for (id, deployment) in deployments {
                guard let client = clients[deployment.endpoint] else { continue }
                group.addTask { [self] in
                    do throws(ConnectorCallError) {
                        let answer = try await client.listConnectors(timeout: deployment.timeout("ListConnectors") ?? .seconds(10))
                        count("ListConnectors", nil)
                        return (id, answer)
                    } catch {
                        count("ListConnectors", error)
                        // Connectors that only run tasks need not answer this (Flyte's warning).
                        if error.isUnimplemented {
                            logger.debug("connector does not list what it runs", metadata: ["connector": "\(id)", "endpoint": "\(deployment.endpoint)"])
                        } else {
                            logger.warning("could not list a connector's task types", metadata: ["connector": "\(id)", "error": "\(error)"])
                        }
                        return (id, nil)
                    }
                }
            }
            var listed: [String: Flyteidl2_Connector_ListConnectorsResponse] = [:]
            for await (id, answer) in group { if let answer { listed[id] = answer } }
            return listed
        }
        let next = ConnectorRegistry(config: config, listed: listed)
        let changed = registry.withLock { current in
            defer { current = next }
            return current != next
        }
        if changed {
            let types = Set(next.entries.keys.map { $0.taskType }).sorted()
            logger.info("connectors run these task types", metadata: ["taskTypes": "\(types.joined(separator: ", "))"])
        }
    }

    func handle(_ context: TaskExecutionContext, state: PluginState) async throws -> (PhaseInfo, PluginState) {
        let template = context.template
        guard let entry = registry.value.find(taskType: template.type, version: template.taskTypeVersion, project: template.id.project, domain: template.id.domain, defaultConnector: config.defaultConnector),
              let client = clients[entry.deployment.endpoint] else {
            return (.retryableFailure(Self.failedCode, "no connector found for task type [\(template.type)] and version [\(template.taskTypeVersion)]"), state)
        }
        let connection: Flyteidl2_Core_Connection
        switch Self.connection(of: template) {
        case .failure(let error): return (.failure(error.code, error.message), state)
        case .success(let read): connection = read
        }
        let category = Flyteidl2_Connector_TaskCategory.with {
            $0.name = template.type
            $0.version = template.taskTypeVersion
        }
        guard let meta = state.resourceMeta.flatMap({ Data(base64Encoded: $0) }) else {
            return try await create(context, client: client, entry: entry, connection: connection, state: state)
        }

        // Over the read limit: nothing is asked, the phase stays as last reported, and the
        // round comes back when a call may be made (Flyte's limiter delays its cache's syncs).
        let wait = reads.withLock { $0.take(now: .now) }
        if wait > .zero {
            metrics?.counter("executor_connector_reads_throttled_total", help: "GetTask calls put off by webApi.readRateLimiter.").increment()
            var info = PhaseInfo(phase: PluginPhase(rawValue: state.phase) ?? .queued, version: state.phaseVersion, reason: state.reason)
            info.recheckAfter = wait
            return (info, state)
        }
        let resource: Flyteidl2_Connector_Resource
        let request = Flyteidl2_Connector_GetTaskRequest.with {
            $0.resourceMeta = meta
            $0.taskCategory = category
            $0.outputPrefix = context.paths.outputPrefix
            $0.connection = connection
        }
        do throws(ConnectorCallError) {
            resource = try await client.getTask(request, timeout: entry.deployment.timeout("GetTask")).resource
            count("GetTask", nil)
        } catch {
            count("GetTask", error)
            throw error
        }
        var info = try await status(resource, context: context, endpoint: entry.deployment.endpoint)
        if !info.phase.isTerminal, info.phase != .retryableFailure {
            info.recheckAfter = .milliseconds(Int64(config.resyncIntervalSeconds * 1000))
        }
        var state = state
        state.phase = info.phase.rawValue
        state.phaseVersion = info.version
        state.reason = info.reason
        return (info, state)
    }

    /// CreateTask, keeping the job's handle; the next round asks for its state at once.
    private func create(_ context: TaskExecutionContext, client: ConnectorClient, entry: ConnectorRegistry.Entry, connection: Flyteidl2_Core_Connection, state: PluginState) async throws -> (PhaseInfo, PluginState) {
        var template = context.template
        if template.container.args.count > 0 {
            // As Flyte renders a container's args before it hands the template over.
            do {
                template.container.args = try context.renderer.render(template.container.args)
            } catch {
                return (.failure("BadTaskSpecification", "failed to render args with error: \(error)"), state)
            }
        }
        // A task that declares no inputs has none to read (sensors, most queries); a missing
        // inputs object is a task without inputs; a store that cannot say is a system error
        // (thrown).
        let declaresInputs = !template.interface.inputs.variables.isEmpty
        let inputs = declaresInputs ? try await store.inputs(of: context, maxBytes: 64 * 1024 * 1024) : nil
        let request = Flyteidl2_Connector_CreateTaskRequest.with {
            if let inputs {
                $0.inputs.literals = inputs.literals.sorted { $0.key < $1.key }.map { name, value in
                    Flyteidl2_Task_NamedLiteral.with {
                        $0.name = name
                        $0.value = value
                    }
                }
            }
            $0.template = template
            $0.outputPrefix = context.paths.outputPrefix
            $0.taskExecutionMetadata = Self.metadata(context)
            $0.connection = connection
        }
        let answer: Flyteidl2_Connector_CreateTaskResponse
        do throws(ConnectorCallError) {
            answer = try await client.createTask(request, timeout: entry.deployment.timeout("CreateTask"))
            count("CreateTask", nil)
        } catch {
            count("CreateTask", error)
            if error.isTransient { throw error }
            return (.retryableFailure(Self.failedCode, "failed to create task from connector with \(error)"), state)
        }
        var info = PhaseInfo.queued("launched")
        info.recheckAfter = .zero
        var state = state
        state.started = true
        state.resourceMeta = answer.resourceMeta.base64EncodedString()
        state.phase = info.phase.rawValue
        state.reason = info.reason
        return (info, state)
    }

    /// Flyte's `Status`: the connector's phase as the attempt's, with its links and message.
    func status(_ resource: Flyteidl2_Connector_Resource, context: TaskExecutionContext, endpoint: String) async throws -> PhaseInfo {
        var info: PhaseInfo
        switch resource.phase {
        case .queued: info = .queued(resource.message)
        case .waitingForResources: info = PhaseInfo(phase: .waitingForResources, reason: resource.message)
        case .initializing: info = .initializing(resource.message)
        case .running: info = .running(resource.message)
        case .succeeded:
            try await writeOutputs(resource, context: context)
            info = .success(resource.message)
        case .aborted: info = .failure(Self.failedCode, "failed to run the job with aborted phase.")
        case .failed: info = .failure(Self.failedCode, "failed to run the job: \(resource.message)")
        case .retryableFailed: info = .retryableFailure(Self.failedCode, "failed to run the job: \(resource.message)")
        case .undefined, .UNRECOGNIZED:
            throw ExecutionError(code: "SystemError", message: "unknown execution phase [\(resource.phase)].", kind: .system)
        }
        info.links = resource.logLinks.map(LogLink.init)
        var logContext = Flyteidl2_Core_LogContext()
        logContext.connector.endpoint = endpoint
        info.logContext = logContext
        return info
    }

    /// The outputs a connector returned, as `<output prefix>/outputs.pb`, when the task
    /// declares outputs; without them the connector wrote the file itself (Flyte's reading).
    private func writeOutputs(_ resource: Flyteidl2_Connector_Resource, context: TaskExecutionContext) async throws {
        let declared = context.template.interface.outputs.variables
        guard !declared.isEmpty, resource.hasOutputs else { return }
        var map = Flyteidl2_Core_LiteralMap()
        for named in resource.outputs.literals { map.literals[named.name] = named.value }
        try await store.write(context.paths.outputsPath, bytes: try map.serializedBytes())
    }

    func abort(_ context: TaskExecutionContext) async throws {
        // A finished action's job has ended: its deletion (the GC's) stops nothing, as Flyte
        // calls DeleteTask only to abort.
        if context.taskAction.isTerminal { return }
        let state = PluginState(base64: context.taskAction.status?.pluginState)
        guard let meta = state.resourceMeta.flatMap({ Data(base64Encoded: $0) }) else { return }
        let template = context.template
        guard let entry = registry.value.find(taskType: template.type, version: template.taskTypeVersion, project: template.id.project, domain: template.id.domain, defaultConnector: config.defaultConnector),
              let client = clients[entry.deployment.endpoint] else { return }
        let request = Flyteidl2_Connector_DeleteTaskRequest.with {
            $0.resourceMeta = meta
            $0.taskCategory.name = template.type
            $0.taskCategory.version = template.taskTypeVersion
            if case .success(let connection) = Self.connection(of: template) { $0.connection = connection }
        }
        do throws(ConnectorCallError) {
            _ = try await client.deleteTask(request, timeout: entry.deployment.timeout("DeleteTask"))
            count("DeleteTask", nil)
        } catch {
            count("DeleteTask", error)
            // Gone already: nothing to stop.
            if error.isNotFound { return }
            throw error
        }
    }

    func release(_ context: TaskExecutionContext) async {}
    func shrinkFinishedChild(namespace: String, name: String) {}

    /// `executor_connector_calls_total{method, code}`: `ok`, or the failed call's gRPC code.
    private func count(_ method: String, _ error: ConnectorCallError?) {
        metrics?.counter("executor_connector_calls_total", [("method", method), ("code", error?.codeName ?? "ok")], help: "Calls to connector services, by method and gRPC status code.").increment()
    }

    /// The task's `Connection`, from the template's custom (unknown keys ignored, as Flyte's
    /// `UnmarshalStruct`); a template without custom has none. Secret references in it are
    /// refused: Flyte's v2 executor has no secret manager to resolve them with either, and
    /// sending the references as values would hand the connector wrong credentials.
    static func connection(of template: Flyteidl2_Core_TaskTemplate) -> Result<Flyteidl2_Core_Connection, ExecutionError> {
        guard template.hasCustom else { return .success(Flyteidl2_Core_Connection()) }
        let connection: Flyteidl2_Core_Connection
        do {
            connection = try CustomPayload.decode(Flyteidl2_Core_Connection.self, from: template, name: "connection")
        } catch let error as ExecutionError {
            return .failure(error)
        } catch {
            return .failure(ExecutionError(code: "BadTaskSpecification", message: "\(error)", kind: .user))
        }
        if !connection.secrets.isEmpty {
            return .failure(ExecutionError(code: "BadTaskSpecification", message: "the task's connection names secrets (\(connection.secrets.keys.sorted().joined(separator: ", "))), which this executor cannot resolve: give the connector its credentials in its own deployment", kind: .user))
        }
        return .success(connection)
    }

    /// Flyte's `buildTaskExecutionMetadata`, with the attempt's limits besides.
    static func metadata(_ context: TaskExecutionContext) -> Flyteidl2_Connector_TaskExecutionMetadata {
        let spec = context.taskAction.spec
        return .with {
            $0.taskExecutionID.taskID = context.template.id
            $0.taskExecutionID.nodeExecutionID.nodeID = spec.actionName
            $0.taskExecutionID.nodeExecutionID.executionID.project = spec.project
            $0.taskExecutionID.nodeExecutionID.executionID.domain = spec.domain
            $0.taskExecutionID.nodeExecutionID.executionID.name = spec.runName
            $0.taskExecutionID.retryAttempt = UInt32(max(0, context.attempt - 1))
            $0.namespace = context.namespace
            $0.labels = context.labels
            $0.annotations = context.annotations
            $0.k8SServiceAccount = context.serviceAccount ?? ""
            for variable in context.environment { $0.environmentVariables[variable.name] = variable.value ?? "" }
            $0.maxAttempts = Int32(clamping: context.maxAttempts)
            $0.interruptible = context.interruptible
            if context.template.securityContext.hasRunAs { $0.identity = context.template.securityContext.runAs }
        }
    }
}
