import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import TaskPlugins

/// Plugin phase → conditions, phaseHistory, errorState and ActionEvent phase (spec §5.6).
enum PhaseMapping {
    /// Applies `info` to `status`. Returns false for `PhaseUndefined`, which changes nothing.
    /// `startsAttempt`: `info` is the Queued of a new attempt, recorded even right after another.
    @discardableResult
    static func apply(_ info: PhaseInfo, to status: inout TaskActionStatus, now: Date, startsAttempt: Bool = false) -> Bool {
        let now = occurredAt(info, status: status, now: now)
        switch info.phase {
        case .undefined:
            return false
        case .notReady, .queued, .waitingForResources, .waitingForCache:
            status.setCondition(.progressing, status: true, reason: .queued, message: info.reason, now: now)
            status.appendPhase(.queued, message: info.reason, now: now, repeating: startsAttempt)
        case .initializing:
            status.setCondition(.progressing, status: true, reason: .initializing, message: info.reason, now: now)
            status.appendPhase(.initializing, message: info.reason, now: now)
        case .running:
            status.setCondition(.progressing, status: true, reason: .executing, message: info.reason, now: now)
            status.appendPhase(.executing, message: info.reason, now: now)
        case .success:
            status.setCondition(.progressing, status: false, reason: .completed, message: "TaskAction has completed", now: now)
            status.setCondition(.succeeded, status: true, reason: .completed, message: "TaskAction completed successfully", now: now)
            status.appendPhase(.completed, message: "TaskAction completed successfully", now: now)
        case .permanentFailure:
            let message = info.error?.message ?? info.reason
            status.setCondition(.progressing, status: false, reason: .permanentFailure, message: message, now: now)
            status.setCondition(.failed, status: true, reason: .permanentFailure, message: message, now: now)
            status.appendPhase(.permanentFailure, message: message, now: now)
            status.errorState = errorState(info)
        case .retryableFailure:
            let message = info.error?.message ?? info.reason
            status.setCondition(.progressing, status: true, reason: .retryableFailure, message: message, now: now)
            status.appendPhase(.retryableFailure, message: message, now: now)
            status.errorState = errorState(info)
        case .aborted:
            status.setCondition(.progressing, status: false, reason: .aborted, message: "TaskAction was aborted", now: now)
            status.setCondition(.failed, status: true, reason: .aborted, message: "TaskAction was aborted", now: now)
            status.appendPhase(.aborted, message: "TaskAction was aborted", now: now)
        }
        return true
    }

    /// The child's own time for the phase when it gave one, kept between the last recorded
    /// transition and now so the history never runs backwards.
    static func occurredAt(_ info: PhaseInfo, status: TaskActionStatus, now: Date) -> Date {
        guard let reported = info.occurredAt else { return now }
        let last = status.phaseHistory?.last.flatMap { KubeTime.parse($0.occurredAt) } ?? .distantPast
        return min(now, max(reported, last))
    }

    static func errorState(_ info: PhaseInfo) -> ErrorState {
        let error = info.error ?? ExecutionError(code: "Unknown", message: "Unknown error message", kind: .unknown)
        return ErrorState(code: error.code, kind: error.kind.rawValue, message: error.message)
    }

    static func actionPhase(_ phase: PluginPhase) -> Flyteidl2_Common_ActionPhase {
        switch phase {
        case .undefined: .unspecified
        case .notReady, .queued: .queued
        case .waitingForResources, .waitingForCache: .waitingForResources
        case .initializing: .initializing
        case .running: .running
        case .success: .succeeded
        case .permanentFailure, .retryableFailure: .failed
        case .aborted: .aborted
        }
    }
}
