import TaskPlugins

/// Flyte's retry rules (spec §5.4 steps 6–8 and §5.5) as pure functions of a plugin's phase
/// and the counters on status, so every branch is tested without an API server.
enum RetryPolicy {
    /// What a round does with the phase a plugin reported.
    enum Decision: Equatable {
        /// A SYSTEM retryable failure: relaunch the same attempt, counting a system error.
        case systemError(message: String)
        /// A USER retryable failure with attempts left: keep the error visible, start `nextAttempt`
        /// as Queued with reason `restarting task`.
        case retry(nextAttempt: Int, error: ExecutionError?)
        /// Record this phase (unchanged, or a retryable failure out of attempts made permanent).
        case record(PhaseInfo)
    }

    /// Steps 6–8: a system failure relaunches; a user retryable failure retries while
    /// `attempt < maxAttempts`, else becomes a permanent failure keeping the plugin's error
    /// (or `MaxRetriesExceeded` when it gave none); anything else is recorded as it is.
    static func decide(_ info: PhaseInfo, attempt: Int, maxAttempts: Int) -> Decision {
        guard info.phase == .retryableFailure else { return .record(info) }
        if info.error?.kind == .system {
            return .systemError(message: info.error.map { "[\($0.code)] \($0.message)" } ?? info.reason)
        }
        if attempt < maxAttempts {
            return .retry(nextAttempt: attempt + 1, error: info.error)
        }
        let error = info.error ?? ExecutionError(code: "MaxRetriesExceeded", message: "task failed after \(attempt) attempt(s)", kind: .user)
        var permanent = info
        permanent.phase = .permanentFailure
        permanent.error = error
        permanent.recheckAfter = nil
        return .record(permanent)
    }

    /// What a system error does after `failuresBefore` consecutive ones.
    enum SystemErrorOutcome: Equatable {
        /// Write the count and look again after the requeue delay.
        case requeue(failures: Int)
        /// Past `max-system-failures`: fail for good with `MaxSystemFailuresExceeded`.
        case fail(failures: Int, info: PhaseInfo)
    }

    /// Spec §5.5: the counter goes up; past `maxSystemFailures` (the 4th consecutive error with
    /// the default 3) the action fails permanently with kind SYSTEM.
    static func systemError(failuresBefore: Int, maxSystemFailures: Int, pluginID: String, message: String) -> SystemErrorOutcome {
        let failures = failuresBefore + 1
        guard failures > maxSystemFailures else { return .requeue(failures: failures) }
        return .fail(failures: failures, info: .systemFailure("MaxSystemFailuresExceeded", "plugin \"\(pluginID)\" failed with system error \(failures) times: \(message)"))
    }
}
