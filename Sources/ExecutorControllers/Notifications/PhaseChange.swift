import ExecutorAPI
import Foundation
import KubeClient

/// One phase change of a TaskAction or an App, as webhooks announce it: a CloudEvents 1.0
/// event in structured JSON mode.
public struct PhaseChange: Sendable, Hashable {
    public enum Resource: String, Sendable, Hashable {
        case taskActions = "taskactions"
        case apps
    }

    public var resource: Resource
    public var namespace: String
    public var name: String
    /// Unique per transition and the same however often it is sent: receivers deduplicate on it.
    public var id: String
    /// The webhook vocabulary's phase (``taskActionPhases``, ``appPhases``).
    public var phase: String
    public var occurredAt: Date
    /// Flyte's project, domain and task type, for the webhooks' filters.
    public var project: String?
    public var domain: String?
    public var taskType: String?
    /// The event's `data`.
    public var data: JSONValue

    /// TaskAction phases as webhooks name them: Flyte's ActionPhase, plus Paused (a condition
    /// waiting for its signal) and RetryableFailure.
    public static let taskActionPhases = ["Queued", "Initializing", "Running", "Succeeded", "Failed", "RetryableFailure", "Aborted", "TimedOut", "Paused"]
    /// App phases: `flyteidl2.app.Status.DeploymentStatus` without its prefix.
    public static let appPhases = AppDeploymentStatus.allCases.map(\.shortName)

    /// A phase name as filters compare it: upper case, without `_` and `-`, so `TimedOut`,
    /// `TIMED_OUT` and `timed-out` are one.
    public static func normalizedPhase(_ phase: String) -> String {
        phase.uppercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "")
    }

    /// The webhook phase of a `phaseHistory` entry (a condition reason).
    public static func webhookPhase(_ reason: String) -> String {
        switch TaskActionConditionReason(rawValue: reason) {
        case .queued: "Queued"
        case .initializing: "Initializing"
        case .executing: "Running"
        case .completed, .signaled: "Succeeded"
        case .retryableFailure: "RetryableFailure"
        case .permanentFailure, .pluginNotFound, .pluginNotReady, .invalidSpec: "Failed"
        case .aborted: "Aborted"
        case .timedOut: "TimedOut"
        case .paused: "Paused"
        case nil: reason
        }
    }

    /// CloudEvents `type`.
    public var type: String {
        switch resource {
        case .taskActions: "org.flyte.taskaction.phase.changed"
        case .apps: "org.flyte.app.status.changed"
        }
    }

    /// CloudEvents `source`: the object's API path, under the cluster's name when one is set.
    public func source(cluster: String) -> String {
        let path = resource == .taskActions
            ? "/apis/\(TaskAction.resourceType.apiVersion)/namespaces/\(namespace)/taskactions/\(name)"
            : "/apis/\(App.resourceType.apiVersion)/namespaces/\(namespace)/apps/\(name)"
        return cluster.isEmpty ? path : "/clusters/\(cluster)\(path)"
    }

    /// The body every webhook receives: compact JSON with sorted keys, so one transition's
    /// bytes are the same on every attempt.
    public func cloudEvent(cluster: String) -> [UInt8] {
        var event: [String: JSONValue] = [
            "specversion": "1.0",
            "id": .string(id),
            "source": .string(source(cluster: cluster)),
            "type": .string(type),
            "subject": .string("\(namespace)/\(name)"),
            "time": .string(KubeTime.format(occurredAt)),
            "datacontenttype": "application/json",
            "data": data,
        ]
        if !cluster.isEmpty { event["cluster"] = .string(cluster) }
        return JSONValue.object(event).serialized(sortedKeys: true)
    }
}

extension PhaseChange {
    /// The changes between `old` and `new` status of `taskAction`: one per `phaseHistory` entry
    /// `new` adds. `child` names the attempt's child object when the plugin has one.
    static func taskAction(_ taskAction: TaskAction, old: TaskActionStatus, new: TaskActionStatus, child: ObjectReference?) -> [PhaseChange] {
        let before = old.phaseHistory ?? []
        let after = new.phaseHistory ?? []
        guard after.count > before.count else { return [] }
        return (before.count..<after.count).map { index in
            let entry = after[index]
            let previous = index > 0 ? after[index - 1] : nil
            return make(taskAction, status: new, index: index, phaseReason: entry.phase, occurredAt: KubeTime.parse(entry.occurredAt) ?? Date(),
                        message: entry.message, previous: previous, child: child)
        }
    }

    /// A change that leaves no `phaseHistory` entry: a spec refused at validation (Failed) or
    /// a deletion before the end (Aborted).
    static func taskAction(_ taskAction: TaskAction, status: TaskActionStatus, reason: TaskActionConditionReason, message: String, at now: Date, child: ObjectReference?) -> PhaseChange {
        make(taskAction, status: status, index: status.phaseHistory?.count ?? 0, phaseReason: reason.rawValue, occurredAt: now, message: message,
             previous: status.phaseHistory?.last, child: child)
    }

    private static func make(_ taskAction: TaskAction, status: TaskActionStatus, index: Int, phaseReason: String, occurredAt: Date, message: String?,
                             previous: PhaseTransition?, child: ObjectReference?) -> PhaseChange {
        let spec = taskAction.spec
        let namespace = taskAction.metadata.namespace ?? ""
        let name = taskAction.metadata.name ?? ""
        let uid = taskAction.metadata.uid ?? "\(namespace)/\(name)"
        let phase = webhookPhase(phaseReason)
        var data: [String: JSONValue] = [
            "namespace": .string(namespace),
            "name": .string(name),
            "uid": .string(uid),
            "run": .string(spec.runName),
            "project": .string(spec.project),
            "domain": .string(spec.domain),
            "action": .string(spec.actionName),
            "attempt": .int(Int64(status.attempt)),
            "phase": .string(phase),
            "reason": .string(phaseReason),
            "occurredAt": .string(KubeTime.format(occurredAt)),
        ]
        if let taskType = spec.taskType { data["taskType"] = .string(taskType) }
        if let message, !message.isEmpty { data["message"] = .string(message) }
        if let previous {
            data["previousPhase"] = .string(webhookPhase(previous.phase))
            if let since = KubeTime.parse(previous.occurredAt) {
                data["previousPhaseDurationSeconds"] = .double(max(0, occurredAt.timeIntervalSince(since)))
            }
        }
        if let first = status.phaseHistory?.first.flatMap({ KubeTime.parse($0.occurredAt) }) {
            data["elapsedSeconds"] = .double(max(0, occurredAt.timeIntervalSince(first)))
        }
        if let error = status.errorState, ["Failed", "RetryableFailure", "TimedOut", "Queued"].contains(phase) {
            // On Queued only after a failed attempt: the error that made this one start.
            if phase != "Queued" || status.attempt > 1 {
                var state: [String: JSONValue] = [:]
                if let code = error.code { state["code"] = .string(code) }
                if let kind = error.kind { state["kind"] = .string(kind) }
                if let message = error.message { state["message"] = .string(message) }
                data["errorState"] = .object(state)
            }
        }
        if let child {
            data["child"] = ["apiVersion": .string(child.apiVersion ?? ""), "kind": .string(child.kind ?? ""), "namespace": .string(child.namespace ?? ""), "name": .string(child.name ?? "")]
        }
        return PhaseChange(resource: .taskActions, namespace: namespace, name: name, id: "\(uid)/\(index)/\(phaseReason)", phase: phase, occurredAt: occurredAt,
                           project: spec.project, domain: spec.domain, taskType: spec.taskType, data: .object(data))
    }

    /// The change an App's status write makes, when it adds a `phaseHistory` entry.
    static func app(_ app: App, old: AppStatus, new: AppStatus, revision: String?) -> PhaseChange? {
        guard let entry = new.phaseHistory?.last, (new.phaseHistory?.count ?? 0) > 0, new.phaseHistory != old.phaseHistory else { return nil }
        let namespace = app.metadata.namespace ?? ""
        let name = app.metadata.name ?? ""
        let uid = app.metadata.uid ?? "\(namespace)/\(name)"
        let occurredAt = KubeTime.parse(entry.occurredAt) ?? Date()
        var data: [String: JSONValue] = [
            "namespace": .string(namespace),
            "name": .string(name),
            "uid": .string(uid),
            "project": .string(app.spec.id.project),
            "domain": .string(app.spec.id.domain),
            "app": .string(app.spec.id.name),
            "phase": .string(entry.phase),
            "occurredAt": .string(KubeTime.format(occurredAt)),
        ]
        if let substate = entry.substate { data["substate"] = .string(substate) }
        if let message = entry.message, !message.isEmpty { data["message"] = .string(message) }
        if let url = new.url { data["url"] = .string(url) }
        if let service = new.serviceName { data["serviceName"] = .string(service) }
        if let deployment = new.deploymentId { data["deploymentId"] = .string(deployment) }
        if let replicas = new.currentReplicas { data["currentReplicas"] = .int(Int64(replicas)) }
        if let previous = old.phaseHistory?.last {
            data["previousPhase"] = .string(previous.phase)
            if let substate = previous.substate { data["previousSubstate"] = .string(substate) }
            if let since = KubeTime.parse(previous.occurredAt) {
                data["previousPhaseDurationSeconds"] = .double(max(0, occurredAt.timeIntervalSince(since)))
            }
        }
        return PhaseChange(resource: .apps, namespace: namespace, name: name, id: "\(uid)/\(revision ?? entry.occurredAt)/\(entry.phase)/\(entry.substate ?? "")",
                           phase: entry.phase, occurredAt: occurredAt, project: app.spec.id.project, domain: app.spec.id.domain, taskType: nil, data: .object(data))
    }
}
