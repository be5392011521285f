import Foundation
import KubeClient
import Prometheus
import Synchronization

/// The process's Prometheus registry with controller-runtime's metric names, plus hooks that
/// refresh gauges computed at scrape time (unfinished work, cache sizes, process figures).
public final class MetricsRegistry: Sendable {
    public let prometheus: PrometheusCollectorRegistry
    private let hooks = Mutex<[@Sendable () -> Void]>([])

    public init() {
        prometheus = PrometheusCollectorRegistry()
        ProcessMetrics.register(in: self)
    }

    /// Runs `hook` before every scrape.
    public func onScrape(_ hook: @escaping @Sendable () -> Void) {
        hooks.withLock { $0.append(hook) }
    }

    /// The text exposition format, version 0.0.4.
    public func render() -> [UInt8] {
        for hook in hooks.withLock({ $0 }) { hook() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        prometheus.emit(into: &buffer)
        return buffer
    }

    /// controller-runtime's histogram buckets for reconcile time.
    static let reconcileBuckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60].map { Duration.milliseconds(Int64($0 * 1000)) }
    /// client-go's work-queue buckets: 10 ns to 10 s, by tens.
    static let queueBuckets: [Duration] = (0..<10).map { Duration.nanoseconds(Int64(pow(10.0, Double($0 + 1)))) }
    /// client-go's REST latency buckets.
    static let restBuckets: [Duration] = [0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0].map { Duration.milliseconds(Int64($0 * 1000)) }

    // MARK: - Making metrics

    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        // The full name goes in metricName; an empty unit adds no suffix.
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public func counter(_ name: String, _ labels: [(String, String)] = [], help: String) -> Counter {
        prometheus.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    public func gauge(_ name: String, _ labels: [(String, String)] = [], help: String) -> Gauge {
        prometheus.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    public func histogram(_ name: String, _ labels: [(String, String)] = [], buckets: [Duration], help: String) -> DurationHistogram {
        prometheus.makeDurationHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: buckets)
    }

    // MARK: - Families

    public func workQueue(name: String) -> WorkQueueMetrics {
        let labels = [("name", name)]
        return WorkQueueMetrics(
            depth: gauge("workqueue_depth", labels, help: "Current depth of workqueue"),
            adds: counter("workqueue_adds_total", labels, help: "Total number of adds handled by workqueue"),
            queueDuration: histogram("workqueue_queue_duration_seconds", labels, buckets: Self.queueBuckets, help: "How long in seconds an item stays in workqueue before being requested"),
            workDuration: histogram("workqueue_work_duration_seconds", labels, buckets: Self.queueBuckets, help: "How long in seconds processing an item from workqueue takes"),
            unfinishedWork: gauge("workqueue_unfinished_work_seconds", labels, help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration"),
            longestRunning: gauge("workqueue_longest_running_processor_seconds", labels, help: "How many seconds has the longest running processor for workqueue been running"),
            retries: counter("workqueue_retries_total", labels, help: "Total number of retries handled by workqueue")
        )
    }

    public func controller(name: String) -> ControllerMetrics {
        let labels = [("controller", name)]
        func result(_ r: String) -> Counter {
            counter("controller_runtime_reconcile_total", labels + [("result", r)], help: "Total number of reconciliations per controller")
        }
        // Every result exists from the start at 0, so rate() works before the first of each.
        return ControllerMetrics(
            success: result("success"), error: result("error"), requeue: result("requeue"), requeueAfter: result("requeue_after"),
            errors: counter("controller_runtime_reconcile_errors_total", labels, help: "Total number of reconciliation errors per controller"),
            terminalErrors: counter("controller_runtime_terminal_reconcile_errors_total", labels, help: "Total number of terminal reconciliation errors per controller"),
            reconcileTime: histogram("controller_runtime_reconcile_time_seconds", labels, buckets: Self.reconcileBuckets, help: "Length of time per reconciliation per controller"),
            maxConcurrent: gauge("controller_runtime_max_concurrent_reconciles", labels, help: "Maximum number of concurrent reconciles per controller"),
            activeWorkers: gauge("controller_runtime_active_workers", labels, help: "Number of currently used workers per controller")
        )
    }

    /// A gauge of the objects an informer holds, labelled by resource and scope.
    public func cachedObjects(informer: String) -> Gauge {
        gauge("executor_informer_cached_objects", [("informer", informer)], help: "Objects held in an informer's cache")
    }

    public func leaderElection(name: String) -> Gauge {
        gauge("leader_election_master_status", [("name", name)], help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.")
    }

    /// An observer for ``KubernetesClient`` that counts requests as client-go does.
    public func restClientObserver() -> KubernetesClient.RequestObserver {
        return { [self] record in
            let code = record.code.map(String.init) ?? "<error>"
            self.counter("rest_client_requests_total", [("code", code), ("method", record.method), ("host", record.host)], help: "Number of HTTP requests, partitioned by status code, method, and host.").increment()
            self.histogram("rest_client_request_duration_seconds", [("verb", record.method), ("host", record.host)], buckets: Self.restBuckets, help: "Request latency in seconds. Broken down by verb, and host.").record(record.duration)
        }
    }
}

/// The metric handles of one work queue.
public struct WorkQueueMetrics: Sendable {
    public let depth: Gauge
    public let adds: Counter
    public let queueDuration: DurationHistogram
    public let workDuration: DurationHistogram
    public let unfinishedWork: Gauge
    public let longestRunning: Gauge
    public let retries: Counter
}

/// The metric handles of one controller.
public struct ControllerMetrics: Sendable {
    public let success: Counter
    public let error: Counter
    public let requeue: Counter
    public let requeueAfter: Counter
    public let errors: Counter
    public let terminalErrors: Counter
    public let reconcileTime: DurationHistogram
    public let maxConcurrent: Gauge
    public let activeWorkers: Gauge
}
