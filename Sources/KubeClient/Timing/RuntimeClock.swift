import Synchronization

/// A point in monotonic time. Every runtime component measures time in this one type so a
/// ``ManualClock`` can stand in for the real one in tests.
public typealias Instant = ContinuousClock.Instant

/// The time source of the runtime: the real monotonic clock in production, a
/// ``ManualClock`` in tests so nothing time-dependent has to sleep.
public protocol RuntimeClock: Sendable {
    var now: Instant { get }
    /// Suspends until `deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Instant) async throws
}

extension RuntimeClock {
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now.advanced(by: duration))
    }
}

/// The process's monotonic clock.
public struct SystemClock: RuntimeClock {
    public init() {}
    public var now: Instant { ContinuousClock.now }
    public func sleep(until deadline: Instant) async throws {
        try await ContinuousClock().sleep(until: deadline, tolerance: nil)
    }
}
