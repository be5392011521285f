import ExecutorAPI
@testable import ExecutorControllers
import Foundation
import TaskPlugins
import Testing

/// Flyte's retry and system-error rules (spec §5.4–§5.5), without an API server.
@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("a phase that is not a retryable failure is recorded as it is", arguments: [PhaseInfo.queued("q"), .running(), .success(), .failure("X", "y"), .systemFailure("S", "t")])
    func recordsOtherPhases(_ info: PhaseInfo) {
        #expect(RetryPolicy.decide(info, attempt: 1, maxAttempts: 3) == .record(info))
    }

    @Test("a restart right after a restart (the attempt's child failed before any of its phases was seen) is an entry of its own; other repeats fold")
    func restartAfterRestartIsRecorded() {
        var status = TaskActionStatus()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        PhaseMapping.apply(.queued("task submitted to K8s"), to: &status, now: start)
        PhaseMapping.apply(.running(), to: &status, now: start + 1)
        PhaseMapping.apply(.queued("restarting task"), to: &status, now: start + 2, startsAttempt: true)
        // Attempt 2's Pod failed under load before the executor saw it start: attempt 3 begins.
        PhaseMapping.apply(.queued("restarting task"), to: &status, now: start + 3, startsAttempt: true)
        // A Queued that starts no attempt (a message change while waiting) folds into the last.
        PhaseMapping.apply(.queued("waiting for resources"), to: &status, now: start + 4)
        let history = (status.phaseHistory ?? []).map { "\($0.phase)/\($0.message ?? "")" }
        #expect(history == ["Queued/task submitted to K8s", "Executing/", "Queued/restarting task", "Queued/restarting task"])
    }

    @Test("a user retryable failure with attempts left starts the next attempt, keeping the error")
    func retriesWhileAttemptsLeft() {
        let info = PhaseInfo.retryableFailure("OOMKilled", "out of memory")
        #expect(RetryPolicy.decide(info, attempt: 1, maxAttempts: 3) == .retry(nextAttempt: 2, error: info.error))
        #expect(RetryPolicy.decide(info, attempt: 2, maxAttempts: 3) == .retry(nextAttempt: 3, error: info.error))
    }

    @Test("the last attempt's retryable failure becomes permanent with the plugin's error")
    func lastAttemptIsPermanent() {
        var info = PhaseInfo.retryableFailure("OOMKilled", "out of memory", cleanup: true)
        info.version = 4
        guard case .record(let out) = RetryPolicy.decide(info, attempt: 3, maxAttempts: 3) else {
            Issue.record("not recorded")
            return
        }
        #expect(out.phase == .permanentFailure)
        #expect(out.error == info.error)
        #expect(out.version == 4)
        #expect(out.cleanupOnFailure)
    }

    @Test("a retryable failure without an error ends as MaxRetriesExceeded of kind USER")
    func maxRetriesExceeded() {
        let info = PhaseInfo(phase: .retryableFailure, reason: "failed")
        guard case .record(let out) = RetryPolicy.decide(info, attempt: 2, maxAttempts: 2) else {
            Issue.record("not recorded")
            return
        }
        #expect(out.error == ExecutionError(code: "MaxRetriesExceeded", message: "task failed after 2 attempt(s)", kind: .user))
    }

    @Test("a system retryable failure relaunches the same attempt whatever the attempts left, rendered [code] message")
    func systemFailureRelaunches() {
        let info = PhaseInfo.systemRetryableFailure("ResourceDeletedExternally", "gone")
        #expect(RetryPolicy.decide(info, attempt: 3, maxAttempts: 3) == .systemError(message: "[ResourceDeletedExternally] gone"))
        #expect(RetryPolicy.decide(info, attempt: 1, maxAttempts: 1) == .systemError(message: "[ResourceDeletedExternally] gone"))
    }

    @Test("system errors requeue until the count exceeds max-system-failures, then fail with kind SYSTEM")
    func systemErrorCounting() {
        #expect(RetryPolicy.systemError(failuresBefore: 0, maxSystemFailures: 3, pluginID: "pod", message: "m") == .requeue(failures: 1))
        #expect(RetryPolicy.systemError(failuresBefore: 2, maxSystemFailures: 3, pluginID: "pod", message: "m") == .requeue(failures: 3))
        guard case .fail(let failures, let info) = RetryPolicy.systemError(failuresBefore: 3, maxSystemFailures: 3, pluginID: "pod", message: "boom") else {
            Issue.record("did not fail")
            return
        }
        #expect(failures == 4)
        #expect(info.phase == .permanentFailure)
        #expect(info.error == ExecutionError(code: "MaxSystemFailuresExceeded", message: "plugin \"pod\" failed with system error 4 times: boom", kind: .system))
        if case .fail = RetryPolicy.systemError(failuresBefore: 0, maxSystemFailures: 0, pluginID: "pod", message: "m") {} else {
            Issue.record("max-system-failures 0 must fail at the first system error")
        }
    }
}
