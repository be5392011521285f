/// Exponential backoff with jitter that forgets its history after a healthy period, as
/// client-go's `ExponentialBackoffManager` does for reflectors (0.8 s doubling to 30 s,
/// reset after 2 minutes without a failure, jitter factor 1).
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var resetAfter: Duration
    /// The delay is stretched by up to this fraction of itself at random.
    public var jitter: Double
    private var current: Duration
    private var lastFailure: Instant?
    private let random: @Sendable () -> Double

    public init(initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30), resetAfter: Duration = .seconds(120), jitter: Double = 1.0, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.initial = initial
        self.maximum = maximum
        self.resetAfter = resetAfter
        self.jitter = jitter
        self.current = initial
        self.random = random
    }

    /// The delay before the next attempt after a failure at `now`.
    public mutating func next(now: Instant) -> Duration {
        if let lastFailure, now - lastFailure >= resetAfter { current = initial }
        lastFailure = now
        let base = current
        current = min(current * 2, maximum)
        return base + base * (jitter * random())
    }

    /// Forgets past failures at once.
    public mutating func reset() {
        current = initial
        lastFailure = nil
    }
}
