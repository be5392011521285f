import Foundation
import KubeClient

extension TaskActionStatus {
    /// Upserts a condition by type with `meta.SetStatusCondition` semantics:
    /// `lastTransitionTime` changes only when the status value changes. New conditions are
    /// appended in call order.
    public mutating func setCondition(_ type: TaskActionConditionType, status: Bool, reason: TaskActionConditionReason, message: String, now: Date) {
        var list = conditions ?? []
        let value = status ? "True" : "False"
        if let index = list.firstIndex(where: { $0.type == type.rawValue }) {
            if list[index].status != value {
                list[index].status = value
                list[index].lastTransitionTime = TaskActionTime.seconds(now)
            }
            list[index].reason = reason.rawValue
            list[index].message = message
        } else {
            list.append(Condition(type: type.rawValue, status: value, reason: reason.rawValue, message: message, lastTransitionTime: TaskActionTime.seconds(now)))
        }
        conditions = list
    }

    /// Appends a `phaseHistory` entry unless the last one has the same phase. With `repeating`
    /// (the Queued that starts a new attempt) it is appended even then: an attempt whose child
    /// failed before any of its phases was seen leaves two restarts in a row, and each is an
    /// attempt of its own.
    public mutating func appendPhase(_ phase: TaskActionConditionReason, message: String?, now: Date, repeating: Bool = false) {
        var history = phaseHistory ?? []
        if !repeating, history.last?.phase == phase.rawValue { return }
        history.append(PhaseTransition(phase: phase.rawValue, occurredAt: TaskActionTime.seconds(now), message: message.flatMap { $0.isEmpty ? nil : $0 }))
        phaseHistory = history
    }

    /// True once `Succeeded=True` or `Failed=True`.
    public var isTerminal: Bool {
        (conditions ?? []).contains { ($0.type == TaskActionConditionType.succeeded.rawValue || $0.type == TaskActionConditionType.failed.rawValue) && $0.status == "True" }
    }

    /// The `lastTransitionTime` of the terminal condition.
    public var terminalTime: Date? {
        let terminal = (conditions ?? []).first { ($0.type == TaskActionConditionType.succeeded.rawValue || $0.type == TaskActionConditionType.failed.rawValue) && $0.status == "True" }
        return terminal.flatMap { KubeTime.parse($0.lastTransitionTime) }
    }
}

extension TaskAction {
    public var isTerminal: Bool { status?.isTerminal ?? false }
}

/// Time formats of the TaskAction contract.
public enum TaskActionTime {
    /// RFC 3339 with second precision (`metav1.Time`); calls within one second share one
    /// string (``SecondStamps``).
    public static func seconds(_ date: Date) -> String { SecondStamps.shared.text(date) }

    /// The GC label format, Go layout `2006-01-02.15-04` in UTC: lexicographic order is time order.
    public static func completedLabel(_ date: Date) -> String {
        let c = KubeTime.Components(date)
        let pad = KubeTime.padded
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2)).\(pad(c.hour, 2))-\(pad(c.minute, 2))"
    }
}
