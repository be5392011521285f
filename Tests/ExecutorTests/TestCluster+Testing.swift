import KubeSandbox
import Testing

extension TestCluster {
    /// Skips a test on a real cluster: it needs what only the sandbox can do (fault injection,
    /// restarts, create counts, the simulated operators).
    static let sandboxOnly = ConditionTrait.enabled(if: !isExternal, "needs the sandbox's fault injection, bookkeeping or operators; skipped with EXECUTOR_E2E=1")
}
