/// A token bucket in the manner of Go's `rate.Limiter.Reserve`: a reservation always
/// succeeds and says how long to wait for its token.
public struct TokenBucket: Sendable {
    public let ratePerSecond: Double
    public let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant?

    public init(ratePerSecond: Double, burst: Int) {
        self.ratePerSecond = max(ratePerSecond, 0.001)
        self.burst = Double(max(burst, 1))
        self.tokens = self.burst
    }

    /// Takes a token at `now` and returns how long to wait before using it.
    public mutating func reserve(now: ContinuousClock.Instant) -> Duration {
        refill(now)
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .nanoseconds(Int64((-tokens / ratePerSecond) * 1e9))
    }

    /// Takes a token at `now` if one is there (`.zero`); else takes none and returns how long
    /// until one is, for a caller that comes back later rather than waiting now.
    public mutating func take(now: ContinuousClock.Instant) -> Duration {
        refill(now)
        if tokens >= 1 {
            tokens -= 1
            return .zero
        }
        return .nanoseconds(Int64(((1 - tokens) / ratePerSecond) * 1e9))
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        if let last {
            tokens = min(burst, tokens + (now - last).seconds * ratePerSecond)
        }
        last = now
    }
}
