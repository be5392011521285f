import DequeModule
import FlyteDataPlane
import Foundation
import KubeRuntime
import Logging
import Prometheus

/// Delivers one webhook's events: a bounded queue split into `concurrency` lanes by object,
/// each lane sending one event at a time (so one TaskAction's events arrive in order), with
/// retries on 5xx, 408, 429 and transport errors (exponential backoff with jitter, at least
/// what `Retry-After` asks), none on other answers, and caps on attempts and age. Offering an
/// event never waits: a full queue drops it, counted and logged.
final class WebhookDelivery: Sendable {
    let config: WebhookConfig
    let cluster: String
    let http: any HTTPFetching
    let logger: Logger
    let metrics: WebhookMetrics
    private let state: LockedBox<State>

    /// An event waiting or being sent.
    struct Pending: Sendable {
        var id: String
        var body: [UInt8]
        var enqueued: ContinuousClock.Instant
    }

    /// Why an event was not delivered.
    enum DropReason: String, CaseIterable, Sendable {
        case queueFull = "queue_full"
        case rejected
        case maxAttempts = "max_attempts"
        case maxAge = "max_age"
        case shutdown
    }

    struct State {
        var lanes: [Deque<Pending>]
        /// A lane's worker waiting for its next event.
        var waiting: [CheckedContinuation<Pending?, Never>?]
        /// Events offered and not yet finished (queued or in flight).
        var count = 0
        /// Set by ``close(deadline:)``: no new events; workers end once their lane is empty.
        var closing = false
        var deadline: ContinuousClock.Instant?
        /// Drops since the last log line, and whether a log line is scheduled.
        var unlogged: [DropReason: Int] = [:]
        var lastDropLog: ContinuousClock.Instant?
        var dropLogScheduled = false
    }

    /// At most one log line per this long about dropped events.
    static let dropLogInterval: Duration = .seconds(60)

    init(config: WebhookConfig, cluster: String, http: any HTTPFetching, metrics: MetricsRegistry, logger: Logger) {
        self.config = config
        self.cluster = cluster
        self.http = http
        var logger = logger
        logger[metadataKey: "webhook"] = "\(config.name)"
        self.logger = logger
        self.metrics = WebhookMetrics(registry: metrics, webhook: config.name)
        let lanes = max(1, config.concurrency)
        state = LockedBox(State(lanes: Array(repeating: Deque(), count: lanes), waiting: Array(repeating: nil, count: lanes)))
    }

    /// Events queued or in flight.
    var pending: Int { state.value.count }

    /// Queues `change` unless the queue is full or closing (then it is dropped and counted).
    func offer(_ change: PhaseChange) {
        let item = Pending(id: change.id, body: change.cloudEvent(cluster: cluster), enqueued: .now)
        let lane = Self.lane(of: "\(change.resource.rawValue)/\(change.namespace)/\(change.name)", lanes: max(1, config.concurrency))
        let outcome = state.withLock { s -> (CheckedContinuation<Pending?, Never>?, DropReason?) in
            if s.closing { return (nil, .shutdown) }
            if s.count >= config.queueSize { return (nil, .queueFull) }
            s.count += 1
            if let waiter = s.waiting[lane] {
                s.waiting[lane] = nil
                return (waiter, nil)
            }
            s.lanes[lane].append(item)
            return (nil, nil)
        }
        if let reason = outcome.1 {
            drop(reason, id: item.id)
            return
        }
        metrics.queued.increment(by: 1)
        outcome.0?.resume(returning: item)
    }

    /// FNV-1a of the object's key: a stable lane per object.
    static func lane(of key: String, lanes: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(lanes))
    }

    /// Runs the lanes until ``close(deadline:)`` and their queues are empty, or the deadline
    /// passes (what is left is dropped as `shutdown`).
    func runLanes() async {
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<max(1, config.concurrency) {
                group.addTask { await self.runLane(lane) }
            }
        }
        flushDropLog()
    }

    private func runLane(_ lane: Int) async {
        while let item = await next(lane) {
            metrics.queued.decrement(by: 1)
            await deliver(item)
            state.withLock { $0.count -= 1 }
        }
    }

    private func next(_ lane: Int) async -> Pending? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Pending?? in
                if let item = s.lanes[lane].popFirst() { return .some(item) }
                if s.closing { return .some(nil) }
                s.waiting[lane] = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Stops taking events; the lanes end once they have sent what is queued, or at `deadline`.
    func close(deadline: ContinuousClock.Instant) {
        let waiters = state.withLock { s -> [CheckedContinuation<Pending?, Never>] in
            s.closing = true
            s.deadline = deadline
            let waiters = s.waiting.compactMap { $0 }
            s.waiting = Array(repeating: nil, count: s.waiting.count)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Drops what is still queued (the deadline passed).
    func abandonQueued() {
        let left = state.withLock { s -> Int in
            let left = s.lanes.reduce(0) { $0 + $1.count }
            for index in s.lanes.indices { s.lanes[index].removeAll() }
            s.count -= left
            return left
        }
        if left > 0 {
            metrics.queued.decrement(by: Double(left))
            metrics.dropped(.shutdown).increment(by: Int64(left))
            noteDrops(.shutdown, count: left)
        }
    }

    /// The outcome of one attempt.
    enum Attempt: Equatable {
        case delivered
        case rejected(Int)
        /// Worth retrying; the server may have asked for a delay.
        case failed(String, retryAfter: Duration?)
    }

    private func deliver(_ item: Pending) async {
        var attempt = 0
        while true {
            attempt += 1
            let outcome = await send(item)
            switch outcome {
            case .delivered:
                metrics.delivered.increment()
                return
            case .rejected(let status):
                logger.warning("webhook refused an event; not retried", metadata: ["status": "\(status)", "id": "\(item.id)"])
                drop(.rejected, id: item.id)
                return
            case .failed(let why, let retryAfter):
                metrics.failedAttempts.increment()
                if attempt >= config.maxAttempts {
                    drop(.maxAttempts, id: item.id, why: why)
                    return
                }
                let delay = max(retryAfter ?? .zero, Self.backoff(attempt: attempt, initial: .milliseconds(config.initialBackoffMilliseconds), maximum: .seconds(config.maxBackoffSeconds)))
                let now = ContinuousClock.now
                if now + delay > item.enqueued + .seconds(config.maxAgeSeconds) {
                    drop(.maxAge, id: item.id, why: why)
                    return
                }
                if let deadline = state.value.deadline, now + delay > deadline {
                    drop(.shutdown, id: item.id, why: why)
                    return
                }
                logger.debug("webhook delivery failed; retrying", metadata: ["id": "\(item.id)", "attempt": "\(attempt)", "error": "\(why)", "delay": "\(delay)"])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    drop(.shutdown, id: item.id, why: why)
                    return
                }
            }
        }
    }

    /// Exponential from `initial`, capped at `maximum`, with "equal jitter": half fixed, half
    /// random, so retries of many events spread out yet none comes back at once.
    static func backoff(attempt: Int, initial: Duration, maximum: Duration) -> Duration {
        let exponent = min(max(0, attempt - 1), 30)
        let full = min(initial * (1 << exponent), maximum)
        let half = full / 2
        return half + half * Double.random(in: 0...1)
    }

    private func send(_ item: Pending) async -> Attempt {
        if Task.isCancelled { return .failed("shutting down", retryAfter: nil) }
        var headers: [(String, String)] = [
            ("Content-Type", "application/cloudevents+json; charset=utf-8"),
            ("User-Agent", "flyte-executor-webhook/1"),
            (WebhookSignature.timestampHeader, String(Int(Date().timeIntervalSince1970))),
        ]
        for (name, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.append((name, value)) }
        if let secretFile = config.secretFile {
            do {
                // Re-read each time: a mounted Secret is updated in place when it rotates.
                let secret = try WebhookSignature.readSecret(secretFile)
                headers.append((WebhookSignature.signatureHeader, WebhookSignature.sign(item.body, secret: secret)))
            } catch {
                return .failed("\(error)", retryAfter: nil)
            }
        }
        let started = ContinuousClock.now
        defer { metrics.duration.record(ContinuousClock.now - started) }
        do {
            let response = try await http.fetch(HTTPFetchRequest(method: "POST", url: config.url, headers: headers, body: item.body), maxBytes: 64 * 1024)
            switch response.status {
            case 200..<300:
                return .delivered
            case 408, 429, 500..<600:
                return .failed("HTTP \(response.status)", retryAfter: response.header("Retry-After").flatMap { Self.retryAfter($0, now: Date()) })
            default:
                return .rejected(response.status)
            }
        } catch {
            return .failed("\(error)", retryAfter: nil)
        }
    }

    /// `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3).
    static func retryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        guard let date = HTTPDate.parse(trimmed, now: now) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
    }

    private func drop(_ reason: DropReason, id: String, why: String? = nil) {
        metrics.dropped(reason).increment()
        if reason != .rejected { logger.debug("webhook event dropped", metadata: ["id": "\(id)", "reason": "\(reason.rawValue)", "error": "\(why ?? "")"]) }
        noteDrops(reason, count: 1)
    }

    /// Counts drops for the log: a line at once when none was written within the interval,
    /// else one at the interval's end summing what happened meanwhile.
    private func noteDrops(_ reason: DropReason, count: Int) {
        let now = ContinuousClock.now
        let action = state.withLock { s -> (log: Bool, schedule: Bool) in
            s.unlogged[reason, default: 0] += count
            if let last = s.lastDropLog, now - last < Self.dropLogInterval {
                if s.dropLogScheduled { return (false, false) }
                s.dropLogScheduled = true
                return (false, true)
            }
            return (true, false)
        }
        if action.log { flushDropLog() }
        if action.schedule {
            let wait = Self.dropLogInterval
            Task { [weak self] in
                try? await Task.sleep(for: wait)
                self?.flushDropLog()
            }
        }
    }

    /// Logs the drops not logged yet, as one line.
    func flushDropLog() {
        let counts = state.withLock { s -> [DropReason: Int] in
            let counts = s.unlogged
            s.unlogged = [:]
            s.dropLogScheduled = false
            if !counts.isEmpty { s.lastDropLog = .now }
            return counts
        }
        guard !counts.isEmpty else { return }
        let summary = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
        logger.warning("webhook events dropped", metadata: ["dropped": "\(summary)", "url": "\(config.url)"])
    }
}

/// One webhook's metrics, labelled `webhook=<name>`.
struct WebhookMetrics: Sendable {
    let delivered: Counter
    let failedAttempts: Counter
    let queued: Gauge
    let duration: DurationHistogram
    private let drops: [WebhookDelivery.DropReason: Counter]

    init(registry: MetricsRegistry, webhook: String) {
        let label = ("webhook", webhook)
        delivered = registry.counter("executor_webhook_delivered_total", [label], help: "Events a webhook accepted (2xx).")
        failedAttempts = registry.counter("executor_webhook_failed_attempts_total", [label], help: "Delivery attempts that failed and may be retried (5xx, 408, 429, transport errors).")
        queued = registry.gauge("executor_webhook_queue_length", [label], help: "Events waiting for delivery.")
        duration = registry.histogram("executor_webhook_request_duration_seconds", [label], buckets: [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)], help: "Time of one delivery attempt.")
        var drops: [WebhookDelivery.DropReason: Counter] = [:]
        for reason in WebhookDelivery.DropReason.allCases {
            drops[reason] = registry.counter("executor_webhook_dropped_total", [label, ("reason", reason.rawValue)], help: "Events not delivered, by reason: queue_full, rejected (a 4xx), max_attempts, max_age, shutdown.")
        }
        self.drops = drops
    }

    func dropped(_ reason: WebhookDelivery.DropReason) -> Counter {
        drops[reason]!
    }
}
