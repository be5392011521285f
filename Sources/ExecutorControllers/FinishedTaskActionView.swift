import ExecutorAPI
import KubeClient

extension TaskAction {
    /// The transform of the executor's TaskAction informers: a finished TaskAction is kept as
    /// ``trimToFinishedView()`` leaves it, any other as it came.
    public static let cacheTransform: @Sendable (inout TaskAction) -> Void = { $0.trimToFinishedView() }

    /// Shrinks a finished TaskAction (terminal, not being deleted) to what the executor still
    /// reads of it: its metadata but annotations (finalizers, labels and resourceVersion for
    /// the GC-label write and the predicates), the spec's identity and task type, and of the
    /// status the attempt counters, the plugin phase and the conditions without their messages
    /// (terminal or not, and since when: the TTL sweep). The task template, inputs, plugin
    /// state, phase history and error go: most of a TaskAction's size (a Python task's
    /// template alone is kilobytes, and a failure's message can hold a traceback), kept for
    /// an hour by default (`gc.max-ttl-seconds`) for nothing the executor does.
    ///
    /// Nothing is lost by it. A TaskAction stays finished, and every round on a finished one
    /// ends after at most a label write. Its deletion, when the executor builds its task
    /// context again to abort the child (a plugin's abort may read the template), arrives as a
    /// new version with `deletionTimestamp` set, which is kept whole; so is any version that
    /// is not terminal.
    /// Never write a trimmed TaskAction back: the executor's writes are patches of the fields
    /// they set.
    public mutating func trimToFinishedView() {
        guard isTerminal, metadata.deletionTimestamp == nil else { return }
        metadata.annotations = nil
        spec.dropPayload()  // the template, inputs, output base, cache key, env and condition
        guard var status else { return }
        status.stateJson = nil
        status.pluginState = nil
        status.phaseHistory = nil
        status.errorState = nil
        status.signalValue = nil
        status.signalledBy = nil
        status.signalledAt = nil
        status.conditions = status.conditions.map { conditions in
            // Without their messages, the conditions of actions that ended alike within one
            // second are equal: at 5,000 finished, one array of two conditions each was 1 MiB.
            Self.finishedConditions(conditions.map { condition in
                var condition = condition
                condition.message = ""
                return condition
            })
        }
        self.status = status
    }

    /// The table finished TaskActions share their trimmed conditions through.
    static let finishedConditions = SharedValues<[Condition]>(slots: 256)
}
