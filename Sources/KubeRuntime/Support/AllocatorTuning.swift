import CMalloc
import Foundation

/// How the process's allocator gives freed memory back to the system.
///
/// glibc's malloc raises its mmap threshold to the size of each large block it had mapped when
/// that block is freed, and its trim threshold to twice that: after an informer decodes a few list pages of several MiB, the threshold
/// is tens of MiB and the memory those pages freed stays resident. With 10,000 finished
/// TaskActions and their Pods, an executor in the start-up bench peaked at 102 MiB RSS for a
/// heap of 25-38 MiB in use. Fixed thresholds stop the adjustment: blocks of 128 KiB and more
/// are mapped and unmapped on their own, and the top of each arena is trimmed past 128 KiB
/// (mallopt(3)). docs/benchmarks.md has the figures.
public enum AllocatorTuning {
    /// glibc's initial mmap and trim thresholds, kept fixed.
    public static let threshold = 128 * 1024

    /// What ``returnFreedMemoryPromptly(environment:)`` did.
    public enum Outcome: Equatable, Sendable, CustomStringConvertible {
        /// The mmap and trim thresholds are fixed at ``threshold``.
        case fixedThresholds
        /// `MALLOC_TRIM_THRESHOLD_` (or another of glibc's malloc variables that stop the
        /// adjustment) is set: the operator's setting stands.
        case leftToEnvironment(String)
        /// Not glibc, or mallopt refused.
        case unavailable

        /// For the start-up log line.
        public var description: String {
            switch self {
            case .fixedThresholds: "glibc thresholds fixed at \(AllocatorTuning.threshold / 1024) KiB"
            case .leftToEnvironment(let variable): "\(variable) from the environment"
            case .unavailable: "the system's"
            }
        }
    }

    /// The environment variables with which glibc's own tuning takes over (mallopt(3)).
    static let overridingVariables = ["MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"]

    /// Fixes glibc's mmap and trim thresholds unless the environment sets one of its own malloc
    /// variables. Call once at start, before the work begins.
    @discardableResult
    public static func returnFreedMemoryPromptly(environment: [String: String] = ProcessInfo.processInfo.environment) -> Outcome {
        if let variable = overridingVariables.first(where: { environment[$0] != nil }) { return .leftToEnvironment(variable) }
        return cmalloc_fix_thresholds(threshold) == 1 ? .fixedThresholds : .unavailable
    }
}
