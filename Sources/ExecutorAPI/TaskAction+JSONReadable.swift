import Foundation
import KubeClient

// TaskActions read in one forward pass (``JSONReader``), as Pods are: the watch and list path
// of the executor's TaskAction informers. Codable stays for everything else; a test holds the
// two decodings equal.

extension TaskAction: JSONReadable {
    public init(json: inout JSONReader) throws {
        var apiVersion: String?, kind: String?, metadata = ObjectMeta(), spec: TaskActionSpec?, status: TaskActionStatus?
        try json.readObject { key, value in
            switch key {
            case "apiVersion": apiVersion = try value.read()
            case "kind": kind = try value.read()
            case "metadata": metadata = try value.read(ObjectMeta?.self) ?? ObjectMeta()
            case "spec": spec = try value.read()
            case "status": status = try value.read()
            default: try value.skipValue()
            }
        }
        // Decoded for a cache, equal annotations share one map: the actions of a run inherit its
        // annotations, so a fan-out's thousands in flight carry one set. Done here, not in
        // `ObjectMeta`: a Pod's annotations are unique to it and its status view drops them.
        // Labels are not shared: a TaskAction's labels name the action itself (`flyte.org/action`).
        if json.sharedStrings != nil, let annotations = metadata.annotations {
            metadata.annotations = SharedStringMaps.shared(annotations)
        }
        self.init(metadata: metadata, spec: spec ?? TaskActionSpec(runName: "", project: "", domain: "", actionName: ""), status: status)
        self.apiVersion = apiVersion
        self.kind = kind
    }
}

extension TaskActionSpec: JSONReadable {
    public init(json: inout JSONReader) throws {
        self.init(runName: "", project: "", domain: "", actionName: "")
        // The payload members are gathered first and set together: each set makes a new box.
        var conditionSpec: String?, inputUri: String?, runOutputBase: String?, cacheKey: String?, taskTemplate: String?
        var envVars: [String: String]?
        try json.readObject { key, value in
            switch key {
            case "runName": runName = try value.read(String?.self) ?? ""
            case "project": project = try value.read(String?.self) ?? ""
            case "domain": domain = try value.read(String?.self) ?? ""
            case "actionName": actionName = try value.read(String?.self) ?? ""
            case "parentActionName": parentActionName = try value.read()
            case "actionType": actionType = try value.read()
            case "conditionSpec": conditionSpec = try value.read()
            case "inputUri": inputUri = try value.read()
            case "runOutputBase": runOutputBase = try value.read()
            case "cacheKey": cacheKey = try value.read()
            case "taskType": taskType = try value.read()
            case "shortName": shortName = try value.read()
            // Kilobytes, and the same for every action of a fan-out: one copy in a cache.
            case "taskTemplate": taskTemplate = try value.read(sharingThrough: .long)
            case "envVars": envVars = try value.read()
            case "interruptible": interruptible = try value.read()
            case "group": group = try value.read()
            default: try value.skipValue()
            }
        }
        setPayload(conditionSpec: conditionSpec, inputUri: inputUri, runOutputBase: runOutputBase, cacheKey: cacheKey, taskTemplate: taskTemplate, envVars: envVars)
    }
}

extension TaskActionStatus: JSONReadable {
    public init(json: inout JSONReader) throws {
        self.init()
        // The failure and signal members are gathered first and set together: each set makes a new box.
        var errorState: ErrorState?, signalValue: String?, signalledBy: String?, signalledAt: String?
        try json.readObject { key, value in
            switch key {
            case "stateJson": stateJson = try value.read()
            case "pluginState": pluginState = try value.read()
            case "pluginStateVersion": pluginStateVersion = try value.read()
            case "pluginPhase": pluginPhase = try value.read()
            case "pluginPhaseVersion": pluginPhaseVersion = try value.read()
            case "attempts": attempts = try value.read()
            case "systemFailures": systemFailures = try value.read()
            case "cacheStatus": cacheStatus = try value.read()
            case "conditions": conditions = try value.read()
            case "phaseHistory": phaseHistory = try value.read()
            case "errorState": errorState = try value.read()
            case "signalValue": signalValue = try value.read()
            case "signalledBy": signalledBy = try value.read()
            case "signalledAt": signalledAt = try value.read()
            default: try value.skipValue()
            }
        }
        setRare(errorState: errorState, signalValue: signalValue, signalledBy: signalledBy, signalledAt: signalledAt)
    }
}

extension Condition: JSONReadable {
    public init(json: inout JSONReader) throws {
        var type: String?, status: String?, reason: String?, message: String?, lastTransitionTime: String?, observedGeneration: Int64?
        try json.readObject { key, value in
            switch key {
            case "type": type = try value.read()
            case "status": status = try value.read()
            case "reason": reason = try value.read()
            case "message": message = try value.read()
            case "lastTransitionTime": lastTransitionTime = try value.read()
            case "observedGeneration": observedGeneration = try value.read()
            default: try value.skipValue()
            }
        }
        self.init(type: try json.required(type, "type"), status: try json.required(status, "status"), reason: try json.required(reason, "reason"),
                  message: try json.required(message, "message"), lastTransitionTime: try json.required(lastTransitionTime, "lastTransitionTime"), observedGeneration: observedGeneration)
    }
}

extension PhaseTransition: JSONReadable {
    public init(json: inout JSONReader) throws {
        var phase: String?, occurredAt: String?, message: String?
        try json.readObject { key, value in
            switch key {
            case "phase": phase = try value.read()
            case "occurredAt": occurredAt = try value.read()
            case "message": message = try value.read()
            default: try value.skipValue()
            }
        }
        self.init(phase: try json.required(phase, "phase"), occurredAt: try json.required(occurredAt, "occurredAt"), message: message)
    }
}

extension ErrorState: JSONReadable {
    public init(json: inout JSONReader) throws {
        self.init()
        try json.readObject { key, value in
            switch key {
            case "code": code = try value.read()
            case "kind": kind = try value.read()
            case "message": message = try value.read()
            default: try value.skipValue()
            }
        }
    }
}
