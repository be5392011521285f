import KubeClient

/// The one source of truth for the TaskAction CRD: the OpenAPI schema, printer columns and
/// names, written as Flyte's controller-gen output has them, so the generated CRD is
/// schema-compatible with `flyte.org_taskactions.yaml`. A test keeps the schema's property
/// names equal to the Swift model's coding keys.
public enum TaskActionSchema {
    // MARK: Schema helpers

    static func string(_ description: String? = nil, minLength: Int? = nil, maxLength: Int? = nil, format: String? = nil, pattern: String? = nil, enumValues: [String]? = nil) -> JSONValue {
        var s: [String: JSONValue] = ["type": "string"]
        if let description { s["description"] = .string(description) }
        if let minLength { s["minLength"] = .int(Int64(minLength)) }
        if let maxLength { s["maxLength"] = .int(Int64(maxLength)) }
        if let format { s["format"] = .string(format) }
        if let pattern { s["pattern"] = .string(pattern) }
        if let enumValues { s["enum"] = .array(enumValues.map { .string($0) }) }
        return .object(s)
    }

    static func integer(_ description: String? = nil, format: String? = nil, minimum: Int? = nil) -> JSONValue {
        var s: [String: JSONValue] = ["type": "integer"]
        if let description { s["description"] = .string(description) }
        if let format { s["format"] = .string(format) }
        if let minimum { s["minimum"] = .int(Int64(minimum)) }
        return .object(s)
    }

    static func object(_ description: String? = nil, properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var s: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if let description { s["description"] = .string(description) }
        if !required.isEmpty { s["required"] = .array(required.sorted().map { .string($0) }) }
        return .object(s)
    }

    // MARK: The schema

    public static var spec: JSONValue {
        object("TaskActionSpec defines the desired state of TaskAction", properties: [
            "runName": string("RunName is the name of the run this action belongs to", minLength: 1, maxLength: 30),
            "project": string("Project this action belongs to", minLength: 1, maxLength: 63),
            "domain": string("Domain this action belongs to", minLength: 1, maxLength: 63),
            "actionName": string("ActionName is the unique name of this action within the run", minLength: 1, maxLength: 30),
            "parentActionName": string("ParentActionName is the optional name of the parent action", minLength: 1, maxLength: 30),
            "actionType": string("ActionType is the kind of action: task or condition; empty means task for backward compatibility with existing CRs.", enumValues: ["task", "condition"]),
            "conditionSpec": string("ConditionSpec is the serialized flyteidl2.workflow.ConditionAction, present only when actionType == \"condition\".", format: "byte"),
            "inputUri": string("InputURI is the path to the input data for this action"),
            "runOutputBase": string("RunOutputBase is the base path where this action should write its output"),
            "cacheKey": string("CacheKey enables cache lookup/writeback for this task action when set.", maxLength: 256),
            "taskType": string("TaskType identifies which plugin handles this task (e.g. \"container\", \"spark\", \"ray\")", maxLength: 63),
            "shortName": string("ShortName is the human-readable display name for this task", maxLength: 63),
            "taskTemplate": string("TaskTemplate is the proto-serialized core.TaskTemplate stored inline in etcd", format: "byte"),
            "envVars": .object([
                "type": "object",
                "additionalProperties": ["type": "string"],
                "description": "EnvVars are run-scoped environment variables projected from RunSpec for executor runtime use.",
            ]),
            "interruptible": ["type": "boolean", "description": "Interruptible is the run-scoped interruptible override projected from RunSpec."],
            "group": string("Group is the group this action belongs to, if applicable.", maxLength: 256),
        ], required: ["runName", "project", "domain", "actionName"])
    }

    static var condition: JSONValue {
        object("Condition contains details for one aspect of the current state of this API Resource.", properties: [
            "lastTransitionTime": string("lastTransitionTime is the last time the condition transitioned from one status to another.", format: "date-time"),
            "message": string("message is a human readable message indicating details about the transition.", maxLength: 32768),
            "observedGeneration": integer("observedGeneration represents the .metadata.generation that the condition was set based upon.", format: "int64", minimum: 0),
            "reason": string("reason contains a programmatic identifier indicating the reason for the condition's last transition.", minLength: 1, maxLength: 1024, pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"),
            "status": string("status of the condition, one of True, False, Unknown.", enumValues: ["True", "False", "Unknown"]),
            "type": string("type of condition in CamelCase or in foo.example.com/CamelCase.", maxLength: 316, pattern: #"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"#),
        ], required: ["lastTransitionTime", "message", "reason", "status", "type"])
    }

    public static var status: JSONValue {
        object("TaskActionStatus defines the observed state of TaskAction.", properties: [
            "stateJson": string("StateJSON is the JSON serialized NodeStatus that was last sent to the State Service"),
            "pluginState": string("PluginState is the Gob-encoded plugin state from the last reconciliation round.", format: "byte"),
            "pluginStateVersion": ["type": "integer", "description": "PluginStateVersion tracks the version of the plugin state schema for compatibility."],
            "pluginPhase": string("PluginPhase is a human-readable representation of the plugin's current phase."),
            "pluginPhaseVersion": integer("PluginPhaseVersion is the version of the current plugin phase.", format: "int32"),
            "attempts": integer("Attempts is the latest attempt number for this action, starting from 1.", format: "int32"),
            "systemFailures": integer("SystemFailures counts consecutive system-level failures of the plugin. When it exceeds the configured maximum, the TaskAction is converted to a permanent failure.", format: "int32"),
            "cacheStatus": integer("CacheStatus is the latest cache status for this action.", format: "int32"),
            "conditions": .object([
                "type": "array",
                "description": "conditions represent the current state of the TaskAction resource.",
                "items": condition,
                "x-kubernetes-list-map-keys": ["type"],
                "x-kubernetes-list-type": "map",
            ]),
            "phaseHistory": .object([
                "type": "array",
                "description": "PhaseHistory is an append-only log of phase transitions.",
                "items": object(properties: [
                    "phase": string("Phase is the phase that was entered (e.g. \"Queued\", \"Initializing\", \"Executing\", \"Succeeded\", \"Failed\")."),
                    "occurredAt": string("OccurredAt is when this phase transition happened.", format: "date-time"),
                    "message": string("Message is an optional human-readable message about the transition."),
                ], required: ["occurredAt", "phase"]),
            ]),
            "errorState": object("ErrorState holds structured error information from the last failed or aborted attempt.", properties: [
                "code": string("Code is the plugin error code (e.g. \"OOMKilled\", \"ContainerCreating\", \"PrimaryContainerNotFound\")."),
                "kind": string("Kind classifies the error origin: \"USER\", \"SYSTEM\", or \"\" (unspecified)."),
                "message": string("Message is the human-readable error message."),
            ]),
            "signalValue": string("SignalValue is the serialized flyteidl2.core.Literal set by the Signal RPC.", format: "byte"),
            "signalledBy": string("SignalledBy is the principal who signalled this condition."),
            "signalledAt": string("SignalledAt is when the signal was received.", format: "date-time"),
        ])
    }

    public static var printerColumns: JSONValue {
        [
            ["jsonPath": ".spec.runName", "name": "Run", "type": "string"],
            ["jsonPath": ".spec.actionName", "name": "Action", "type": "string"],
            ["jsonPath": ".spec.taskType", "name": "TaskType", "type": "string"],
            ["jsonPath": ".status.conditions[?(@.type=='Progressing')].reason", "name": "Status", "type": "string"],
            ["jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"],
            ["jsonPath": ".status.conditions[?(@.type=='Progressing')].status", "name": "Progressing", "priority": 1, "type": "string"],
            ["jsonPath": ".status.conditions[?(@.type=='Succeeded')].status", "name": "Succeeded", "priority": 1, "type": "string"],
            ["jsonPath": ".status.conditions[?(@.type=='Failed')].status", "name": "Failed", "priority": 1, "type": "string"],
        ]
    }

    /// The whole CustomResourceDefinition.
    public static var crd: JSONValue {
        [
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": ["name": "taskactions.flyte.org", "annotations": ["executor.flyte.org/generated-by": "executor manifests"]],
            "spec": [
                "group": "flyte.org",
                "names": ["kind": "TaskAction", "listKind": "TaskActionList", "plural": "taskactions", "singular": "taskaction"],
                "scope": "Namespaced",
                "versions": [[
                    "name": "v1",
                    "served": true,
                    "storage": true,
                    "additionalPrinterColumns": printerColumns,
                    "schema": ["openAPIV3Schema": object("TaskAction is the Schema for the taskactions API", properties: [
                        "apiVersion": string("APIVersion defines the versioned schema of this representation of an object."),
                        "kind": string("Kind is a string value representing the REST resource this object represents."),
                        "metadata": ["type": "object"],
                        "spec": spec,
                        "status": status,
                    ], required: ["spec"])],
                    "subresources": ["status": [:]],
                ]],
            ],
        ]
    }

    /// The CRD as YAML, as `executor manifests` writes it.
    public static func yaml() throws -> String {
        "---\n" + (try crd.yaml())
    }
}
