import Foundation
import KubeRuntime
import Logging
import Prometheus

/// Times a plugin's synchronous calls and reports each that held its thread too long.
///
/// `build` and `phase(of:)` run on a thread other tasks share: one of Swift's cooperative pool,
/// or with tasks on the event loops, a loop that carries API traffic. A call that blocks (a
/// synchronous read, a sleep, a semaphore) or computes for long holds every task behind it.
/// The executor cannot stop that, but it names it: `executor_plugin_slow_calls_total{plugin,
/// call}` counts every call longer than ``limit``, and a warning names the plugin, the call and
/// the TaskAction, at most once per ``warningInterval`` (10 s) for each call, with how many
/// were not logged since. A fast call costs two clock reads.
struct PluginCallTimer: Sendable {
    /// The plugin calls timed.
    enum Call: String, Sendable, CaseIterable {
        case build
        case phase
    }

    /// Well above what a plugin's call takes (building a child or judging it: tens of
    /// microseconds), well below what blocking on I/O or a sleep takes.
    static let defaultLimit: Duration = .milliseconds(100)

    let limit: Duration
    let warningInterval: Duration
    private let counters: [Call: Counter]
    private let logger: Logger
    /// For each call: when it was last logged, and the slow calls not logged since.
    private let logged: LockedBox<[Call: (at: ContinuousClock.Instant, since: Int)]>

    /// - Parameter metrics: nil counts nothing (the warning is still logged).
    init(plugin: String, limit: Duration = Self.defaultLimit, warningInterval: Duration = .seconds(10), metrics: MetricsRegistry?, logger: Logger) {
        self.limit = limit
        self.warningInterval = warningInterval
        self.logger = logger
        var counters: [Call: Counter] = [:]
        if let metrics {
            for call in Call.allCases {
                counters[call] = metrics.counter("executor_plugin_slow_calls_total", [("plugin", plugin), ("call", call.rawValue)], help: "Synchronous plugin calls (build, phase) that held their thread longer than 100 ms.")
            }
        }
        self.counters = counters
        logged = LockedBox([:])
    }

    /// Runs `body`, the plugin's `call` for `taskAction`, and reports it if it took too long.
    func time<T>(_ call: Call, taskAction: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        defer {
            let took = ContinuousClock.now - started
            if took > limit { report(call, took: took, taskAction: taskAction()) }
        }
        return try body()
    }

    private func report(_ call: Call, took: Duration, taskAction: String) {
        counters[call]?.increment()
        let now = ContinuousClock.now
        let unlogged: Int? = logged.withLock { logged in
            if let last = logged[call], now - last.at < warningInterval {
                logged[call]?.since += 1
                return nil
            }
            defer { logged[call] = (now, 0) }
            return logged[call]?.since ?? 0
        }
        guard let unlogged else { return }
        logger.warning("a plugin call held its thread: every task waiting for that thread waited too; plugins must not block (docs/plugins.md)", metadata: [
            "call": "\(call.rawValue)",
            "took": "\(Int((took / .milliseconds(1)).rounded())) ms",
            "taskAction": "\(taskAction)",
            "notLogged": "\(unlogged)",
        ])
    }
}
