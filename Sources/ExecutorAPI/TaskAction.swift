import Foundation
import KubeClient

/// Flyte's `TaskAction` (`flyte.org/v1`): one action of a run, executed by a plugin.
/// Field for field the resource of Flyte's Go executor (`executor/api/v1/taskaction_types.go`);
/// the CRD is generated from ``TaskActionSchema``.
public struct TaskAction: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "flyte.org", version: "v1", kind: "TaskAction", plural: "taskactions", namespaced: true)

    public var apiVersion: String? = "flyte.org/v1"
    public var kind: String? = "TaskAction"
    public var metadata: ObjectMeta
    public var spec: TaskActionSpec
    public var status: TaskActionStatus?

    public init(metadata: ObjectMeta, spec: TaskActionSpec, status: TaskActionStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `namespace/name`.
    public var key: String { "\(metadata.namespace ?? "")/\(metadata.name ?? "")" }
}

/// `spec` of a TaskAction. Bytes fields hold standard base64, as Go's `[]byte` marshals.
public struct TaskActionSpec: Codable, Sendable, Hashable {
    public var runName: String
    public var project: String
    public var domain: String
    public var actionName: String
    public var parentActionName: String?
    /// `task` or `condition`; empty means `task`.
    public var actionType: String?
    /// Base64 of a binary `flyteidl2.workflow.ConditionAction`.
    public var conditionSpec: String? { get { payload[\.conditionSpec] } set { payload[\.conditionSpec] = newValue } }
    public var inputUri: String? { get { payload[\.inputUri] } set { payload[\.inputUri] = newValue } }
    public var runOutputBase: String? { get { payload[\.runOutputBase] } set { payload[\.runOutputBase] = newValue } }
    public var cacheKey: String? { get { payload[\.cacheKey] } set { payload[\.cacheKey] = newValue } }
    public var taskType: String?
    public var shortName: String?
    /// Base64 of a binary `flyteidl2.core.TaskTemplate`.
    public var taskTemplate: String? { get { payload[\.taskTemplate] } set { payload[\.taskTemplate] = newValue } }
    public var envVars: [String: String]? { get { payload[\.envVars] } set { payload[\.envVars] = newValue } }
    public var interruptible: Bool?
    public var group: String?

    /// What the plugin runs from, out of line: 88 of this struct's 240 bytes inline, and a
    /// finished TaskAction's cached view drops all of it (``TaskAction/trimToFinishedView()``),
    /// so the thousands cached finished hold a nil pointer.
    private var payload = OutOfLine<Payload>()

    private struct Payload: OutOfLineMembers {
        var conditionSpec: String?
        var inputUri: String?
        var runOutputBase: String?
        var cacheKey: String?
        var taskTemplate: String?
        var envVars: [String: String]?
    }

    public init(runName: String, project: String, domain: String, actionName: String, taskType: String? = nil, taskTemplate: Data? = nil, inputUri: String? = nil, runOutputBase: String? = nil) {
        self.runName = runName
        self.project = project
        self.domain = domain
        self.actionName = actionName
        self.taskType = taskType
        payload = OutOfLine(Payload(inputUri: inputUri, runOutputBase: runOutputBase, taskTemplate: taskTemplate?.base64EncodedString()))
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // The API server enforces the required fields; a missing one reads as empty so
        // validation can name it instead of the decoder failing.
        runName = try c.decodeIfPresent(String.self, forKey: .runName) ?? ""
        project = try c.decodeIfPresent(String.self, forKey: .project) ?? ""
        domain = try c.decodeIfPresent(String.self, forKey: .domain) ?? ""
        actionName = try c.decodeIfPresent(String.self, forKey: .actionName) ?? ""
        parentActionName = try c.decodeIfPresent(String.self, forKey: .parentActionName)
        actionType = try c.decodeIfPresent(String.self, forKey: .actionType)
        taskType = try c.decodeIfPresent(String.self, forKey: .taskType)
        shortName = try c.decodeIfPresent(String.self, forKey: .shortName)
        payload = OutOfLine(Payload(
            conditionSpec: try c.decodeIfPresent(String.self, forKey: .conditionSpec),
            inputUri: try c.decodeIfPresent(String.self, forKey: .inputUri),
            runOutputBase: try c.decodeIfPresent(String.self, forKey: .runOutputBase),
            cacheKey: try c.decodeIfPresent(String.self, forKey: .cacheKey),
            taskTemplate: try c.decodeIfPresent(String.self, forKey: .taskTemplate),
            envVars: try c.decodeIfPresent([String: String].self, forKey: .envVars)))
        interruptible = try c.decodeIfPresent(Bool.self, forKey: .interruptible)
        group = try c.decodeIfPresent(String.self, forKey: .group)
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case runName, project, domain, actionName, parentActionName, actionType, conditionSpec, inputUri, runOutputBase
        case cacheKey, taskType, shortName, taskTemplate, envVars, interruptible, group
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runName, forKey: .runName)
        try c.encode(project, forKey: .project)
        try c.encode(domain, forKey: .domain)
        try c.encode(actionName, forKey: .actionName)
        try c.encodeIfPresent(parentActionName, forKey: .parentActionName)
        try c.encodeIfPresent(actionType, forKey: .actionType)
        try c.encodeIfPresent(conditionSpec, forKey: .conditionSpec)
        try c.encodeIfPresent(inputUri, forKey: .inputUri)
        try c.encodeIfPresent(runOutputBase, forKey: .runOutputBase)
        try c.encodeIfPresent(cacheKey, forKey: .cacheKey)
        try c.encodeIfPresent(taskType, forKey: .taskType)
        try c.encodeIfPresent(shortName, forKey: .shortName)
        try c.encodeIfPresent(taskTemplate, forKey: .taskTemplate)
        try c.encodeIfPresent(envVars, forKey: .envVars)
        try c.encodeIfPresent(interruptible, forKey: .interruptible)
        try c.encodeIfPresent(group, forKey: .group)
    }

    /// Sets the payload members together, in one box (setting them one by one makes one each).
    mutating func setPayload(conditionSpec: String?, inputUri: String?, runOutputBase: String?, cacheKey: String?, taskTemplate: String?, envVars: [String: String]?) {
        payload = OutOfLine(Payload(conditionSpec: conditionSpec, inputUri: inputUri, runOutputBase: runOutputBase, cacheKey: cacheKey, taskTemplate: taskTemplate, envVars: envVars))
    }

    /// Unsets ``conditionSpec``, ``inputUri``, ``runOutputBase``, ``cacheKey``,
    /// ``taskTemplate`` and ``envVars`` at once.
    public mutating func dropPayload() {
        payload = OutOfLine()
    }

    /// The decoded bytes of ``taskTemplate``; nil when absent or not base64.
    public var taskTemplateBytes: Data? { taskTemplate.flatMap { Data(base64Encoded: $0) } }
    public var conditionSpecBytes: Data? { conditionSpec.flatMap { Data(base64Encoded: $0) } }
}

/// `status` of a TaskAction.
public struct TaskActionStatus: Codable, Sendable, Hashable {
    public var stateJson: String?
    /// Base64 of the plugin's opaque state.
    public var pluginState: String?
    public var pluginStateVersion: Int?
    public var pluginPhase: String?
    public var pluginPhaseVersion: Int32?
    /// 1-based; absent or 0 reads as 1.
    public var attempts: Int32?
    public var systemFailures: Int32?
    public var cacheStatus: Int32?
    public var conditions: [Condition]?
    public var phaseHistory: [PhaseTransition]?
    public var errorState: ErrorState? { get { rare[\.errorState] } set { rare[\.errorState] = newValue } }
    public var signalValue: String? { get { rare[\.signalValue] } set { rare[\.signalValue] = newValue } }
    public var signalledBy: String? { get { rare[\.signalledBy] } set { rare[\.signalledBy] = newValue } }
    public var signalledAt: String? { get { rare[\.signalledAt] } set { rare[\.signalledAt] = newValue } }

    /// The members only a failure or a signal sets, out of line: inline they were 96 of a
    /// status's 208 bytes, and a status is held inline by every cached TaskAction and every
    /// status held for coalescing.
    private var rare = OutOfLine<Rare>()

    private struct Rare: OutOfLineMembers {
        var errorState: ErrorState?
        var signalValue: String?
        var signalledBy: String?
        var signalledAt: String?
    }

    public init() {}

    /// Sets the failure and signal members together, in one box.
    mutating func setRare(errorState: ErrorState?, signalValue: String?, signalledBy: String?, signalledAt: String?) {
        rare = OutOfLine(Rare(errorState: errorState, signalValue: signalValue, signalledBy: signalledBy, signalledAt: signalledAt))
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case stateJson, pluginState, pluginStateVersion, pluginPhase, pluginPhaseVersion, attempts, systemFailures, cacheStatus
        case conditions, phaseHistory, errorState, signalValue, signalledBy, signalledAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stateJson = try c.decodeIfPresent(String.self, forKey: .stateJson)
        pluginState = try c.decodeIfPresent(String.self, forKey: .pluginState)
        pluginStateVersion = try c.decodeIfPresent(Int.self, forKey: .pluginStateVersion)
        pluginPhase = try c.decodeIfPresent(String.self, forKey: .pluginPhase)
        pluginPhaseVersion = try c.decodeIfPresent(Int32.self, forKey: .pluginPhaseVersion)
        attempts = try c.decodeIfPresent(Int32.self, forKey: .attempts)
        systemFailures = try c.decodeIfPresent(Int32.self, forKey: .systemFailures)
        cacheStatus = try c.decodeIfPresent(Int32.self, forKey: .cacheStatus)
        conditions = try c.decodeIfPresent([Condition].self, forKey: .conditions)
        phaseHistory = try c.decodeIfPresent([PhaseTransition].self, forKey: .phaseHistory)
        setRare(
            errorState: try c.decodeIfPresent(ErrorState.self, forKey: .errorState),
            signalValue: try c.decodeIfPresent(String.self, forKey: .signalValue),
            signalledBy: try c.decodeIfPresent(String.self, forKey: .signalledBy),
            signalledAt: try c.decodeIfPresent(String.self, forKey: .signalledAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(stateJson, forKey: .stateJson)
        try c.encodeIfPresent(pluginState, forKey: .pluginState)
        try c.encodeIfPresent(pluginStateVersion, forKey: .pluginStateVersion)
        try c.encodeIfPresent(pluginPhase, forKey: .pluginPhase)
        try c.encodeIfPresent(pluginPhaseVersion, forKey: .pluginPhaseVersion)
        try c.encodeIfPresent(attempts, forKey: .attempts)
        try c.encodeIfPresent(systemFailures, forKey: .systemFailures)
        try c.encodeIfPresent(cacheStatus, forKey: .cacheStatus)
        try c.encodeIfPresent(conditions, forKey: .conditions)
        try c.encodeIfPresent(phaseHistory, forKey: .phaseHistory)
        try c.encodeIfPresent(errorState, forKey: .errorState)
        try c.encodeIfPresent(signalValue, forKey: .signalValue)
        try c.encodeIfPresent(signalledBy, forKey: .signalledBy)
        try c.encodeIfPresent(signalledAt, forKey: .signalledAt)
    }

    /// The current attempt, at least 1.
    public var attempt: Int { max(1, Int(attempts ?? 1)) }

    public func condition(_ type: TaskActionConditionType) -> Condition? {
        conditions?.first { $0.type == type.rawValue }
    }
}

/// A standard `metav1.Condition`.
public struct Condition: Codable, Sendable, Hashable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var reason: String
    public var message: String
    public var lastTransitionTime: String
    public var observedGeneration: Int64?

    public init(type: String, status: String, reason: String, message: String, lastTransitionTime: String, observedGeneration: Int64? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }
}

/// One entry of the append-only `phaseHistory`.
public struct PhaseTransition: Codable, Sendable, Hashable {
    public var phase: String
    /// RFC 3339, second precision.
    public var occurredAt: String
    public var message: String?

    public init(phase: String, occurredAt: String, message: String? = nil) {
        self.phase = phase
        self.occurredAt = occurredAt
        self.message = message
    }
}

/// The structured error of the last failed or aborted attempt.
public struct ErrorState: Codable, Sendable, Hashable {
    public var code: String?
    /// `USER`, `SYSTEM` or empty.
    public var kind: String?
    public var message: String?

    public init(code: String? = nil, kind: String? = nil, message: String? = nil) {
        self.code = code
        self.kind = kind
        self.message = message
    }
}

/// Condition types of a TaskAction.
public enum TaskActionConditionType: String, Sendable, CaseIterable {
    case progressing = "Progressing"
    case succeeded = "Succeeded"
    case failed = "Failed"
}

/// Condition reasons of a TaskAction; also the phase names of `phaseHistory`.
public enum TaskActionConditionReason: String, Sendable, CaseIterable {
    case queued = "Queued"
    case initializing = "Initializing"
    case executing = "Executing"
    case completed = "Completed"
    case retryableFailure = "RetryableFailure"
    case permanentFailure = "PermanentFailure"
    case aborted = "Aborted"
    case pluginNotFound = "PluginNotFound"
    /// Not Flyte's: the plugin exists but cannot run, because its child kind is not served
    /// (its CRD is not installed) or RBAC forbids the executor to watch it.
    case pluginNotReady = "PluginNotReady"
    case invalidSpec = "InvalidSpec"
    case paused = "Paused"
    case signaled = "Signaled"
    case timedOut = "TimedOut"
}

/// Labels, annotations and finalizers of the TaskAction contract.
public enum TaskActionLabels {
    public static let finalizer = "flyte.org/plugin-finalizer"
    public static let terminationStatus = "flyte.org/termination-status"
    public static let terminated = "terminated"
    public static let completedTime = "flyte.org/completed-time"
    public static let managed = "flyte.org/managed"
    /// On Pods an operator creates for a child (Spark's driver, Ray's head): the child's name,
    /// so a change of that Pod wakes the TaskAction the child belongs to.
    public static let childName = "flyte.org/child-name"
}
