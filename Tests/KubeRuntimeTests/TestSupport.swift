import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import Testing

/// Polls `condition` until it holds or `seconds` pass; for integration tests whose progress
/// comes from another process-like component (the sandbox), never for timing assertions. The
/// limit only bounds a failure: 60 s, for a suite run eight wide beside a build on two cores.
func eventually(_ what: String = "condition", seconds: Double = 60, _ condition: @Sendable () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(seconds)
    var lastCheck = clock.now
    var longestGap = Duration.zero
    while true {
        // Checked once more after the deadline: a condition that holds when time runs out passes.
        if try await condition() { return }
        let now = clock.now
        longestGap = max(longestGap, now - lastCheck)
        lastCheck = now
        if now >= deadline { break }
        try await Task.sleep(for: .milliseconds(20))
    }
    // The longest time between two checks tells a stalled process (seconds) from a slow condition.
    Issue.record("timed out after \(seconds) s waiting for \(what) (longest time between two checks: \(longestGap))")
    throw TimedOut(what: what)
}

struct TimedOut: Error { var what: String }

/// Lets other tasks run until `condition` holds; for unit tests on a ManualClock, where
/// progress needs only scheduling, not time.
func settle(_ condition: @Sendable () -> Bool, spins: Int = 20_000) async {
    for _ in 0..<spins where !condition() {
        await Task.yield()
    }
}

/// Records what a reconciler saw, for assertions.
final class ReconcileLog: Sendable {
    private let box = LockedBox<[String]>([])
    private let concurrent = LockedBox<(now: [String: Int], max: Int)>(([:], 0))

    func append(_ key: String) { box.withLock { $0.append(key) } }
    var entries: [String] { box.value }
    func count(_ key: String) -> Int { entries.filter { $0 == key }.count }

    func begin(_ key: String) {
        concurrent.withLock { c in
            c.now[key, default: 0] += 1
            c.max = max(c.max, c.now[key]!)
        }
    }
    func end(_ key: String) { concurrent.withLock { $0.now[key, default: 1] -= 1 } }
    var maxConcurrentPerKey: Int { concurrent.value.max }
}

func configMap(_ name: String, namespace: String = "default", labels: [String: String]? = nil, data: [String: String]? = nil) -> ConfigMap {
    ConfigMap(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels), data: data)
}
