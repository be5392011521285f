import KubeClient

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
        failures.removeValueReleasingCapacity(forKey: key)
    }

    /// How many retries `key` has had since it was last forgotten.
    public func retries(_ key: Key) -> Int { failures[key, default: 0] }

    func perKeyDelay(failures: Int) -> Duration {
        // 2^30 × 5 ms is far beyond the cap; stop doubling before the arithmetic overflows.
        guard failures < 30 else { return maxDelay }
        return min(baseDelay * (1 << failures), maxDelay)
    }
}
