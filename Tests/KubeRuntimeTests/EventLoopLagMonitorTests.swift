import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Logging
import NIOCore
import NIOPosix
import Testing

@Suite("Event loop lag")
struct EventLoopLagMonitorTests {
    @Test("a loop whose thread is held past the warning is counted, logged and its lag recorded; after stop no timer runs")
    func heldLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let metrics = MetricsRegistry()
        let logs = CapturedLogs()
        let monitor = EventLoopLagMonitor(group: group, settings: .init(interval: .milliseconds(20), warning: .milliseconds(150)), metrics: metrics, logger: logs.logger())
        monitor.start()
        // Hold the loop's thread for 400 ms: a timer falls due within 20 ms of the start and
        // runs when the hold ends, so at least 380 ms late, however slow the machine.
        _ = try await group.next().submit { usleep(400_000) }.get()
        let blocked = #"event_loop_blocked_total{loop="0"}"#
        try await eventually("the held loop counted") { (metricSample(String(decoding: metrics.render(), as: UTF8.self), blocked) ?? 0) >= 1 }
        await monitor.stop()

        let text = String(decoding: metrics.render(), as: UTF8.self)
        let count = try #require(metricSample(text, #"event_loop_lag_seconds_count{loop="0"}"#))
        let underQuarter = try #require(metricSample(text, #"event_loop_lag_seconds_bucket{loop="0",le="0.25"}"#))
        #expect(count - underQuarter >= 1, "a timer at least 380 ms late belongs above the 0.25 s bucket:\n\(text)")
        let warning = try #require(logs.records.first { $0.level == .warning })
        #expect(warning.metadata["loop"] == "0")
        let lateBy = Int(warning.metadata["lateBy"].map { "\($0)" }?.split(separator: " ").first ?? "") ?? 0
        #expect(lateBy >= 380, "\(warning)")

        // Stopped: the loop runs no more timers, so nothing more is recorded.
        _ = try await group.next().submit {}.get()
        try await Task.sleep(for: .milliseconds(100))
        let after = metricSample(String(decoding: metrics.render(), as: UTF8.self), #"event_loop_lag_seconds_count{loop="0"}"#)
        #expect(after == count)
        try await group.shutdownGracefully()
    }

    @Test("a manager watches NIO's loops while it runs: every loop's lag is on /metrics")
    func managerWatchesLoops() async throws {
        try await KubeSandbox.with { sandbox, client in
            let metrics = MetricsRegistry()
            var options = ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0")
            options.eventLoopLag = .init(interval: .milliseconds(10))
            let manager = Manager(client: client, options: options, metrics: metrics)
            let run = Task { try await manager.run() }
            let loops = MultiThreadedEventLoopGroup.singleton.makeIterator().map { _ in 0 }.count
            try await eventually("every loop timed") {
                let text = String(decoding: metrics.render(), as: UTF8.self)
                return (0..<loops).allSatisfy { (metricSample(text, #"event_loop_lag_seconds_count{loop="\#($0)"}"#) ?? 0) >= 1 }
            }
            run.cancel()
            try await run.value
        }
    }
}
