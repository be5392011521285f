/// How long a key waits before its next retry: the larger of a per-key exponential backoff
/// and an overall token bucket, as controller-runtime's default rate limiter
/// (`DefaultTypedControllerRateLimiter`: 5 ms doubling to 1000 s, and 10 retries per second
/// with a burst of 100).
public struct RetryRateLimiter<Key: Hashable & Sendable>: Sendable {
    public var baseDelay: Duration
    public var maxDelay: Duration
    public var bucket: TokenBucket
    private var failures: [Key: Int] = [:]

    public init(baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000), bucket: TokenBucket = TokenBucket(ratePerSecond: 10, burst: 100)) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.bucket = bucket
    }

    /// Counts one more failure of `key` and returns how long it must wait.
    public mutating func when(_ key: Key, now: Instant) -> Duration {
        let count = failures[key, default: 0]
        failures[key] = count + 1
        return max(perKeyDelay(failures: count), bucket.reserve(now: now))
    }

    /// Forgets the failures of `key`, so its next retry starts at the base delay again.
    public mutating func forget(_ key: Key) {
        failures.removeValue(forKey: key)
    }

    /// How many retries `key` has had since it was last forgotten.
    public func retries(_ key: Key) -> Int { failures[key, default: 0] }

    func perKeyDelay(failures: Int) -> Duration {
        // 2^30 × 5 ms is far beyond the cap; stop doubling before the arithmetic overflows.
        guard failures < 30 else { return maxDelay }
        return min(baseDelay * (1 << failures), maxDelay)
    }
}

/// A token bucket in the manner of Go's `rate.Limiter.Reserve`: a reservation always
/// succeeds and says how long to wait for its token.
public struct TokenBucket: Sendable {
    public let ratePerSecond: Double
    public let burst: Double
    private var tokens: Double
    private var last: Instant?

    public init(ratePerSecond: Double, burst: Int) {
        self.ratePerSecond = ratePerSecond
        self.burst = Double(burst)
        self.tokens = Double(burst)
    }

    public mutating func reserve(now: Instant) -> Duration {
        if let last {
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(burst, tokens + seconds * ratePerSecond)
        }
        last = now
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .nanoseconds(Int64((-tokens / ratePerSecond) * 1e9))
    }
}
