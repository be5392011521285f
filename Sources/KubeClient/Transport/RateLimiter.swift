/// A token bucket shared by every request of one client: `burst` requests at once, then `qps` a second.
actor RateLimiter {
    private var bucket: TokenBucket
    private let clock = ContinuousClock()

    init(_ limit: ClientConfiguration.RateLimit) {
        bucket = TokenBucket(ratePerSecond: limit.qps, burst: limit.burst)
    }

    /// Waits until a token is free and takes it. Tokens are reserved before sleeping, so
    /// concurrent waiters queue in order instead of racing.
    func acquire() async throws {
        let delay = bucket.reserve(now: clock.now)
        if delay > .zero {
            try await Task.sleep(for: delay)
        }
    }
}

extension Duration {
    /// The duration in seconds as a floating point number.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
