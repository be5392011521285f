import Foundation
import KubeClient
import KubeSandbox

/// One drill's figures, printed as one line.
struct DrillResult {
    var name: String
    var actions: Int
    var audit: Audit
    var convergeSeconds: Double
    /// nil when the executor runs in another process.
    var requestsPerAction: Double?
    var extra: [(String, String)] = []
    var failures: [String] = []

    var passed: Bool { audit.passed && failures.isEmpty }

    var line: String {
        var fields = [("drill", name), ("actions", "\(actions)"), ("lost", "\(audit.lost.count)"), ("duplicates", "\(audit.duplicates)"),
                      ("problems", "\(audit.problems.count)"), ("converge_s", String(format: "%.1f", convergeSeconds))]
        if let requestsPerAction { fields.append(("requests_per_action", String(format: "%.1f", requestsPerAction))) }
        fields += extra
        fields.append(("result", passed ? "pass" : "FAIL"))
        return fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }
}

/// The drills: each drives the executor against the sandbox while something goes wrong, then
/// audits the world. `short` is the version CI runs.
enum Drill: String, CaseIterable {
    case apiRestart = "api-restart"
    case watchDrops = "watch-drops"
    case slowAPI = "slow-api"
    case executorKilled = "executor-killed"
    case leaderFailover = "leader-failover"

    func run(short: Bool) async throws -> DrillResult {
        switch self {
        case .executorKilled: try await Self.executorKilled(short: short)
        case .leaderFailover: try await Self.leaderFailover(short: short)
        case .apiRestart: try await Self.apiRestart(short: short)
        case .watchDrops: try await Self.watchDrops(short: short)
        case .slowAPI: try await Self.slowAPI(short: short)
        }
    }

    /// The API server stops for 5 s (2 s short) and comes back with its store, three times,
    /// while 1,000 (200) TaskActions are in flight.
    static func apiRestart(short: Bool) async throws -> DrillResult {
        let count = short ? 200 : 1000
        let downtime: Duration = short ? .seconds(2) : .seconds(5)
        return try await DrillWorld.with { world in
            let started = ContinuousClock.now
            let creating = Task { try await world.create(count, prefix: "restart") }
            for _ in 0..<3 {
                try await Task.sleep(for: .seconds(2))
                await world.sandbox.stop()
                try await Task.sleep(for: downtime)
                try await world.sandbox.restart()
            }
            let names = try await creating.value
            let terminal = await world.waitTerminal(names, limit: short ? .seconds(180) : .seconds(600))
            let converged = (ContinuousClock.now - started).seconds
            let audit = try await Audit.run(world, names: names)
            var result = DrillResult(name: "api-restart", actions: count, audit: audit, convergeSeconds: converged, requestsPerAction: Double(world.requests.value) / Double(count))
            result.extra = [("restarts", "3"), ("downtime_s", "\(downtime.seconds)")]
            if terminal < count { result.failures.append("\(count - terminal) not terminal") }
            return result
        }
    }

    /// Every watch is dropped every 5 s for 5 minutes (60 s short) while 1,000 (300)
    /// TaskActions are created across the window, and the history is compacted once a minute
    /// (every 30 s, short), so a resumed watch meets 410 Gone and must list again.
    static func watchDrops(short: Bool) async throws -> DrillResult {
        let count = short ? 300 : 1000
        let window: Duration = short ? .seconds(60) : .seconds(300)
        return try await DrillWorld.with { world in
            let started = ContinuousClock.now
            let creating = Task { try await world.create(count, prefix: "drops", over: window) }
            var drops = 0, compactions = 0
            let compactEvery: Double = short ? 30 : 60
            while ContinuousClock.now - started < window {
                try await Task.sleep(for: .seconds(5))
                let elapsed = (ContinuousClock.now - started).seconds
                if elapsed >= Double(compactions + 1) * compactEvery {
                    await world.sandbox.compactHistory()
                    compactions += 1
                }
                await world.sandbox.closeAllWatches()
                drops += 1
            }
            let names = try await creating.value
            let terminal = await world.waitTerminal(names, limit: .seconds(180))
            let converged = (ContinuousClock.now - started - window).seconds
            let audit = try await Audit.run(world, names: names)
            var result = DrillResult(name: "watch-drops", actions: count, audit: audit, convergeSeconds: max(0, converged), requestsPerAction: Double(world.requests.value) / Double(count))
            result.extra = [("drops", "\(drops)"), ("compactions", "\(compactions)")]
            if terminal < count { result.failures.append("\(count - terminal) not terminal") }
            if compactions == 0 { result.failures.append("no compaction happened") }
            return result
        }
    }

    /// 200 ms on every request and 5 % of them answered 500 or 429 at random, for the whole run
    /// of 1,000 (100) TaskActions; first the same run without faults, for the request figure.
    static func slowAPI(short: Bool) async throws -> DrillResult {
        let count = short ? 100 : 1000
        let baseline = try await DrillWorld.with { world -> Double in
            let names = try await world.create(count, prefix: "calm")
            _ = await world.waitTerminal(names, limit: .seconds(300))
            return Double(world.requests.value) / Double(count)
        }
        return try await DrillWorld.with { world in
            await world.sandbox.faults.setLatency(.milliseconds(200))
            await world.sandbox.faults.failRandomly(fraction: 0.05, codes: [500, 429])
            let started = ContinuousClock.now
            let names = try await world.create(count, prefix: "slow")
            let terminal = await world.waitTerminal(names, limit: short ? .seconds(300) : .seconds(1200))
            let converged = (ContinuousClock.now - started).seconds
            let injected = await world.sandbox.faults.servedCount(code: 500) + world.sandbox.faults.servedCount(code: 429)
            await world.sandbox.faults.reset()
            let audit = try await Audit.run(world, names: names)
            let perAction = Double(world.requests.value) / Double(count)
            var result = DrillResult(name: "slow-api", actions: count, audit: audit, convergeSeconds: converged, requestsPerAction: perAction)
            result.extra = [("baseline_requests_per_action", String(format: "%.1f", baseline)), ("ratio", String(format: "%.2f", perAction / max(baseline, 0.001))), ("injected_errors", "\(injected)")]
            if terminal < count { result.failures.append("\(count - terminal) not terminal") }
            if perAction > 2 * baseline { result.failures.append("requests per action \(perAction) above twice the fault-free \(baseline)") }
            if injected == 0 { result.failures.append("no fault was injected") }
            return result
        }
    }
}

extension Drill {
    /// The executor process is killed with SIGKILL three times during a run of 1,000 (200)
    /// TaskActions and started again each time: no Pod made twice, no phase recorded twice.
    static func executorKilled(short: Bool) async throws -> DrillResult {
        let count = short ? 200 : 1000
        return try await DrillWorld.with(executor: false) { world in
            let executor = try ExecutorProcess(sandbox: world.sandbox)
            try executor.start()
            defer { executor.stop() }
            let started = ContinuousClock.now
            let names = try await world.create(count, prefix: "killed")
            for _ in 0..<3 {
                try await Task.sleep(for: .seconds(short ? 2 : 4))
                executor.kill()
                try executor.start()
            }
            let terminal = await world.waitTerminal(names, limit: short ? .seconds(180) : .seconds(600), giveUp: { executor.unexpectedExit != nil })
            let converged = (ContinuousClock.now - started).seconds
            let audit = try await Audit.run(world, names: names)
            var result = DrillResult(name: "executor-killed", actions: count, audit: audit, convergeSeconds: converged, requestsPerAction: nil)
            result.extra = [("kills", "3")]
            if let exit = executor.unexpectedExit { result.failures.append(exit) }
            if terminal < count { result.failures.append("\(count - terminal) not terminal") }
            return result
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
