import ExecutorAPI
import ExecutorControllers
import Foundation
import KubeClient

/// What people want to know of a TaskAction, read from its status: the phase in Flyte's
/// words, the attempt, when it started and ended, and its timeline.
struct TaskActionView {
    let taskAction: TaskAction

    /// One `phaseHistory` entry, with the attempt it belongs to and how long it lasted.
    struct Step {
        var attempt: Int
        /// The phase as webhooks and `get` name it (Running), and as recorded (Executing).
        var phase: String
        var recorded: String
        var at: Date
        /// Until the next step; nil for the last step of an action that has not ended.
        var lasted: Double?
        var message: String?
    }

    init(_ taskAction: TaskAction) {
        self.taskAction = taskAction
    }

    var status: TaskActionStatus { taskAction.status ?? TaskActionStatus() }
    var attempt: Int { status.attempt }
    var created: Date? { taskAction.metadata.creationTimestamp.flatMap(KubeTime.parse) }
    var isTerminal: Bool { taskAction.isTerminal }

    /// The phase now: the last history entry's, Failed for an action refused without one,
    /// Pending before the executor looked at it.
    var phase: String {
        if let last = status.phaseHistory?.last { return PhaseChange.webhookPhase(last.phase) }
        if let failed = terminalCondition, failed.type == TaskActionConditionType.failed.rawValue { return "Failed" }
        return "Pending"
    }

    var terminalCondition: Condition? {
        (status.conditions ?? []).first { ($0.type == TaskActionConditionType.succeeded.rawValue || $0.type == TaskActionConditionType.failed.rawValue) && $0.status == "True" }
    }

    var started: Date? { status.phaseHistory?.first.flatMap { KubeTime.parse($0.occurredAt) } }
    var ended: Date? { isTerminal ? (status.terminalTime ?? status.phaseHistory?.last.flatMap { KubeTime.parse($0.occurredAt) }) : nil }

    /// From the first phase to the end, or to `now` while it runs.
    func duration(now: Date) -> Double? {
        guard let started else { return nil }
        return (ended ?? now).timeIntervalSince(started)
    }

    /// The history as steps. A retry starts with a Queued entry whose message is the
    /// executor's `restarting task`; that is where each attempt after the first begins.
    func steps(now: Date) -> [Step] {
        let history = status.phaseHistory ?? []
        var attempt = 1
        var steps: [Step] = []
        for (index, entry) in history.enumerated() {
            if index > 0, entry.phase == TaskActionConditionReason.queued.rawValue, entry.message == "restarting task" { attempt += 1 }
            let at = KubeTime.parse(entry.occurredAt) ?? Date(timeIntervalSince1970: 0)
            let next = index + 1 < history.count ? KubeTime.parse(history[index + 1].occurredAt) : (isTerminal ? nil : now)
            steps.append(Step(attempt: attempt, phase: PhaseChange.webhookPhase(entry.phase), recorded: entry.phase, at: at,
                              lasted: next.map { max(0, $0.timeIntervalSince(at)) }, message: entry.message.map(oneLine)))
        }
        return steps
    }

    /// The phase a filter such as `--phase failed` compares with.
    func matches(phase filter: String) -> Bool {
        PhaseChange.normalizedPhase(phase) == PhaseChange.normalizedPhase(filter)
    }
}
