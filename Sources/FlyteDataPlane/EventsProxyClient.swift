import FlyteIDL
import Foundation
import KubeRuntime
import Logging
import Prometheus
import SwiftProtobuf

/// Sends ActionEvents to Flyte's `EventsProxyService.Record` over the Connect protocol,
/// batched as Flyte's executor batches them: a request carries up to `batch-size` events,
/// and an event waits at most `batch-window-milliseconds` for others to join it (and not at
/// all when no request is in flight, where Flyte's waits the whole window). Each
/// caller waits until the request carrying its event succeeded or failed, so a status is
/// only written after Flyte has the event (at least once: a retried round sends it again,
/// and the service deduplicates).
public actor EventsProxyClient {
    /// `POST <base>/flyteidl2.workflow.EventsProxyService/Record`.
    public static let path = "/flyteidl2.workflow.EventsProxyService/Record"

    let connect: ConnectUnaryCall
    let config: EventsConfig
    let metrics: EventsProxyMetrics
    let logger: Logger

    private struct Waiting {
        var event: Flyteidl2_Workflow_ActionEvent
        var continuation: CheckedContinuation<Void, any Error>
    }

    private var queue: [Waiting] = []
    private var inFlight = 0
    private var timer: Task<Void, Never>?
    private var closed = false

    public init(config: EventsConfig, http: any HTTPFetching, metrics: MetricsRegistry, logger: Logger) throws {
        try config.validate()
        guard let base = config.url, !base.isEmpty else { throw EventsProxyError.invalidConfig("events.url: not set") }
        connect = ConnectUnaryCall(base: base, timeoutSeconds: config.timeoutSeconds, tokenFile: config.tokenFile, http: http)
        self.config = config
        self.metrics = EventsProxyMetrics(metrics)
        self.logger = logger
    }

    /// Events waiting for a request (not those in flight).
    public var waiting: Int { queue.count }

    /// Queues `event` and returns once the request carrying it succeeded; throws
    /// ``EventsProxyError`` when it failed or the queue is full.
    public func record(_ event: Flyteidl2_Workflow_ActionEvent) async throws {
        guard !closed else { throw EventsProxyError.shutDown }
        guard queue.count < config.queueSize else {
            metrics.failures.increment()
            throw EventsProxyError.queueFull(queue.count)
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.append(Waiting(event: event, continuation: continuation))
            dispatch(windowExpired: false)
        }
    }

    /// Fails what still waits and stops taking events. Requests in flight finish on their own.
    public func shutdown() {
        closed = true
        timer?.cancel()
        timer = nil
        let waiting = queue
        queue = []
        for item in waiting { item.continuation.resume(throwing: EventsProxyError.shutDown) }
    }

    /// Starts requests for full batches, for whatever waits once the window expired, and
    /// for anything at all when no request is in flight (an event alone has nothing to wait
    /// for: at low load each goes at once, and under load events gather while requests are
    /// out), as long as workers are free; otherwise arms the window timer.
    private func dispatch(windowExpired: Bool) {
        while inFlight < config.workers, queue.count >= config.batchSize || ((windowExpired || inFlight == 0) && !queue.isEmpty) {
            let batch = Array(queue.prefix(config.batchSize))
            queue.removeFirst(batch.count)
            inFlight += 1
            Task { [self] in
                let result = await send(batch.map(\.event))
                finished(batch, result)
            }
        }
        if !queue.isEmpty, timer == nil {
            let window = Duration.milliseconds(config.batchWindowMilliseconds)
            timer = Task { [self] in
                try? await Task.sleep(for: window)
                guard !Task.isCancelled else { return }
                windowFired()
            }
        }
    }

    private func windowFired() {
        timer = nil
        dispatch(windowExpired: true)
    }

    private func finished(_ batch: [Waiting], _ result: Result<Void, EventsProxyError>) {
        inFlight -= 1
        for item in batch {
            switch result {
            case .success: item.continuation.resume()
            case .failure(let error): item.continuation.resume(throwing: error)
            }
        }
        // Events that waited for a free worker have had their window.
        dispatch(windowExpired: timer == nil)
    }

    private func send(_ events: [Flyteidl2_Workflow_ActionEvent]) async -> Result<Void, EventsProxyError> {
        let started = ContinuousClock.now
        defer { metrics.batchDuration.record(ContinuousClock.now - started) }
        metrics.batches.increment()
        var request = Flyteidl2_Workflow_RecordRequest()
        request.events = events
        let result = await post(request)
        switch result {
        case .success:
            metrics.sent.increment(by: Int64(events.count))
        case .failure(let error):
            metrics.failures.increment(by: Int64(events.count))
            logger.debug("ActionEvent batch failed", metadata: ["events": "\(events.count)", "error": "\(error)"])
        }
        return result
    }

    private func post(_ request: Flyteidl2_Workflow_RecordRequest) async -> Result<Void, EventsProxyError> {
        switch await connect.call(Self.path, request) {
        case .success: return .success(())
        case .failure(.transport(let text)): return .failure(.transport(text))
        case .failure(.rpc(let status, let code, let message)): return .failure(.rpc(httpStatus: status, code: code, message: message))
        }
    }
}

/// The events client's metrics.
struct EventsProxyMetrics: Sendable {
    let sent: Counter
    let batches: Counter
    let failures: Counter
    let batchDuration: DurationHistogram

    init(_ registry: MetricsRegistry) {
        sent = registry.counter("executor_action_events_sent_total", help: "ActionEvents the events service accepted")
        batches = registry.counter("executor_action_event_batches_total", help: "Record requests sent to the events service")
        failures = registry.counter("executor_action_event_failures_total", help: "ActionEvents not recorded: failed requests and a full queue")
        batchDuration = registry.histogram("executor_action_event_batch_duration_seconds", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30].map { .milliseconds(Int64($0 * 1000)) }, help: "Time of one Record request to the events service")
    }
}
