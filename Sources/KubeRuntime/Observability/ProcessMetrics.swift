import Foundation
import Prometheus

/// The standard `process_*` metrics of Prometheus client libraries, read from `/proc/self`
/// at scrape time (Linux only; elsewhere they stay at zero).
enum ProcessMetrics {
    static func register(in registry: MetricsRegistry) {
        let resident = registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.")
        let virtual = registry.gauge("process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
        let cpu = registry.gauge("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.")
        let openFDs = registry.gauge("process_open_fds", help: "Number of open file descriptors.")
        let start = registry.gauge("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.")
        let started = Date().timeIntervalSince1970 - ProcessInfo.processInfo.systemUptime + (Self.uptimeAtStart() ?? ProcessInfo.processInfo.systemUptime)
        start.set(started)
        registry.onScrape {
            guard let sample = sample() else { return }
            resident.set(sample.residentBytes)
            virtual.set(sample.virtualBytes)
            cpu.set(sample.cpuSeconds)
            openFDs.set(sample.openFDs)
        }
    }

    struct Sample {
        var residentBytes: Double
        var virtualBytes: Double
        var cpuSeconds: Double
        var openFDs: Double
    }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    /// Fields of `/proc/self/stat` after the command name, which may contain spaces.
    static func statFields() -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    static func sample() -> Sample? {
        // After the name: state(0) ppid(1) … utime(11) stime(12) … starttime(19) vsize(20) rss(21).
        guard let f = statFields(), f.count > 21,
              let utime = Double(f[11]), let stime = Double(f[12]),
              let vsize = Double(f[20]), let rss = Double(f[21]) else { return nil }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return Sample(residentBytes: rss * pageSize, virtualBytes: vsize, cpuSeconds: (utime + stime) / ticksPerSecond, openFDs: Double(fds))
    }

    /// Seconds after boot at which this process started.
    static func uptimeAtStart() -> Double? {
        guard let f = statFields(), f.count > 19, let ticks = Double(f[19]) else { return nil }
        return ticks / ticksPerSecond
    }
}
