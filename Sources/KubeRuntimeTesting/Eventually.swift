/// Waits until `condition` holds, checking every 25 ms for up to `seconds` of wall time, and
/// once more at the deadline, so a condition that holds when time runs out passes.
///
/// For tests of controllers against a real or simulated API server, where the state of the
/// world arrives by watch: assert the state, not how long a phase lasts. The limit is generous
/// (60 s) because the suite runs beside builds on two cores, where a process can stall for
/// seconds; a condition that holds returns at once, so the limit costs nothing when all is well.
///
/// - Throws: ``EventuallyTimedOut`` (which a test framework reports as the failure), or what
///   `condition` throws.
public func eventually(_ what: String = "condition", seconds: Double = 60, _ condition: @Sendable () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(seconds)
    var lastCheck = clock.now
    var longestGap = Duration.zero
    while true {
        if try await condition() { return }
        let now = clock.now
        longestGap = max(longestGap, now - lastCheck)
        lastCheck = now
        if now >= deadline { break }
        try await Task.sleep(for: .milliseconds(25))
    }
    throw EventuallyTimedOut(what: what, seconds: seconds, longestGap: longestGap)
}

/// ``eventually(_:seconds:_:)`` ran out of time.
public struct EventuallyTimedOut: Error, CustomStringConvertible {
    /// What was waited for.
    public var what: String
    public var seconds: Double
    /// The longest time between two checks: seconds mean the process stalled (a busy machine),
    /// the check interval means the condition never held.
    public var longestGap: Duration

    public var description: String {
        "timed out after \(seconds) s waiting for \(what) (longest time between two checks: \(longestGap))"
    }
}
