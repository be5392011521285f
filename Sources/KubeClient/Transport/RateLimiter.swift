/// A token bucket shared by every request of one client: `burst` requests at once, then `qps` a second.
actor RateLimiter {
    private let qps: Double
    private let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant
    private let clock = ContinuousClock()

    init(_ limit: ClientConfiguration.RateLimit) {
        qps = max(limit.qps, 0.001)
        burst = Double(max(limit.burst, 1))
        tokens = burst
        last = clock.now
    }

    /// Waits until a token is free and takes it. Tokens are reserved before sleeping, so
    /// concurrent waiters queue in order instead of racing.
    func acquire() async throws {
        let now = clock.now
        tokens = min(burst, tokens + (now - last).seconds * qps)
        last = now
        tokens -= 1
        if tokens < 0 {
            try await Task.sleep(for: .seconds(-tokens / qps))
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
