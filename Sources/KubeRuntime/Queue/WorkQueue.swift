import KubeClient
import DequeModule
import HeapModule
import Synchronization

/// A rate-limited, deduplicating work queue with client-go's semantics:
///
/// - a key is queued at most once however often it is added;
/// - a key added while a worker processes it is queued again only when that worker calls
///   ``done(_:)``, so it runs exactly once more and never on two workers at a time;
/// - ``addRateLimited(_:)`` delays by per-key exponential backoff combined with an overall
///   token bucket; ``forget(_:)`` resets a key's backoff; ``add(_:after:)`` delays by a
///   given duration, keeping the earliest when a key is delayed twice; ``cancelDelayed(_:)``
///   drops a delayed add.
///
/// Keys have two priorities. Events from an informer's initial list go in at ``Priority/low``
/// so a new object is not stuck behind a startup backlog; after ``normalBurst`` normal keys in a
/// row a waiting low key is served, so low keys are never starved.
public final class WorkQueue<Key: Hashable & Sendable>: Sendable {
    public enum Priority: Int, Sendable, Comparable {
        case low = 0
        case normal = 1
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// How many normal keys are served in a row before a waiting low key.
    public let normalBurst: Int
    let clock: any RuntimeClock
    let metrics: WorkQueueMetrics?

    private struct Delayed: Comparable {
        var deadline: Instant
        var sequence: UInt64
        var key: Key
        var priority: Priority
        static func < (a: Self, b: Self) -> Bool { (a.deadline, a.sequence) < (b.deadline, b.sequence) }
        static func == (a: Self, b: Self) -> Bool { a.deadline == b.deadline && a.sequence == b.sequence }
    }

    private struct State {
        var normal = Deque<Key>()
        var low = Deque<Key>()
        /// Keys waiting in a queue, with the priority that counts; deque entries that disagree are stale.
        var queued: [Key: Priority] = [:]
        var queuedAt: [Key: Instant] = [:]
        /// Keys a worker holds, with when it took them.
        var processing: [Key: Instant] = [:]
        /// Keys added while being processed; queued on `done`.
        var readd: [Key: Priority] = [:]
        var normalStreak = 0
        let normalBurst: Int
        var waiters = Deque<(id: UInt64, continuation: CheckedContinuation<Key?, Never>)>()
        var cancelledWaiters: Set<UInt64> = []
        var nextWaiterID: UInt64 = 0
        var shuttingDown = false
        var limiter: RetryRateLimiter<Key>
        var delayed = Heap<Delayed>()
        var delayedDeadline: [Key: Instant] = [:]
        var delayedSequence: UInt64 = 0
        var timer: Task<Void, Never>?
        var timerDeadline: Instant?
    }

    private let state: Mutex<State>

    public init(rateLimiter: RetryRateLimiter<Key> = RetryRateLimiter(), normalBurst: Int = 4, clock: any RuntimeClock = SystemClock(), metrics: WorkQueueMetrics? = nil) {
        self.normalBurst = normalBurst
        self.clock = clock
        self.metrics = metrics
        self.state = Mutex(State(normalBurst: normalBurst, limiter: rateLimiter))
    }

    // MARK: - Adding

    /// Queues `key` unless it is already queued; a key being processed is queued again when
    /// its worker calls ``done(_:)``.
    public func add(_ key: Key, priority: Priority = .normal) {
        let now = clock.now
        let handoffs = state.withLock { s -> [(CheckedContinuation<Key?, Never>, Key)] in
            Self.insert(key, priority: priority, now: now, into: &s, metrics: metrics)
            return Self.dispatch(&s, now: now, metrics: metrics)
        }
        for (continuation, key) in handoffs { continuation.resume(returning: key) }
    }

    /// Queues `key` after `delay`. When the key is already waiting for a delay, the earlier
    /// deadline wins.
    public func add(_ key: Key, after delay: Duration, priority: Priority = .normal) {
        guard delay > .zero else { return add(key, priority: priority) }
        let now = clock.now
        let deadline = now.advanced(by: delay)
        state.withLock { s in
            guard !s.shuttingDown else { return }
            if let existing = s.delayedDeadline[key], existing <= deadline { return }
            s.delayedDeadline[key] = deadline
            s.delayedSequence += 1
            s.delayed.insert(Delayed(deadline: deadline, sequence: s.delayedSequence, key: key, priority: priority))
            armTimer(&s)
        }
    }

    /// Drops `key`'s delayed add, if one is waiting. The controller calls it when a round of
    /// `key` ends with nothing left to do: the newest round's verdict stands, so an earlier
    /// round's request to look again later (a requeue-after, a retry's backoff) is void.
    /// (controller-runtime keeps it, and runs one more round that finds nothing to do.)
    public func cancelDelayed(_ key: Key) {
        state.withLock { s in
            guard s.delayedDeadline.removeValueReleasingCapacity(forKey: key) != nil else { return }
            // Its heap entry stays until it surfaces; the ones on top go now. The timer is left
            // to fire once and find nothing: cancelling it costs a wake-up as well, and at a
            // steady rate, where each key's requeue-after is cancelled by its next round, the
            // armed timer then serves the later keys' deadlines instead of a new timer task
            // (and a cancelled one) for every key.
            Self.dropVoidEntries(&s)
        }
    }

    /// Queues `key` after its rate-limited backoff and counts a retry.
    public func addRateLimited(_ key: Key) {
        let delay = state.withLock { s in s.limiter.when(key, now: clock.now) }
        metrics?.retries.increment()
        add(key, after: delay)
    }

    /// Resets the backoff of `key`.
    public func forget(_ key: Key) {
        state.withLock { $0.limiter.forget(key) }
    }

    /// Retries of `key` since it was last forgotten.
    public func retries(of key: Key) -> Int {
        state.withLock { $0.limiter.retries(key) }
    }

    // MARK: - Taking

    /// Waits for the next key and marks it as processing; `nil` once the queue shuts down or
    /// the task is cancelled. Call ``done(_:)`` when finished with it.
    public func get() async -> Key? {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
                let now = clock.now
                let immediate = state.withLock { s -> Key?? in
                    if s.cancelledWaiters.remove(id) != nil || s.shuttingDown { return .some(nil) }
                    if let key = Self.pop(&s, now: now, metrics: metrics) { return .some(key) }
                    s.waiters.append((id, continuation))
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Key?, Never>? in
                if let index = s.waiters.firstIndex(where: { $0.id == id }) {
                    return s.waiters.remove(at: index).continuation
                }
                s.cancelledWaiters.insert(id)
                return nil
            }
            waiter?.resume(returning: nil)
        }
    }

    /// The room of the queue's per-key tables, summed (tests: a queue gives room back).
    var tableCapacity: Int {
        state.withLock { s in s.queued.capacity + s.queuedAt.capacity + s.processing.capacity + s.readd.capacity + s.delayedDeadline.capacity }
    }

    /// Marks `key` as no longer processing; queues it again if it was added meanwhile.
    public func done(_ key: Key) {
        let now = clock.now
        let handoffs = state.withLock { s -> [(CheckedContinuation<Key?, Never>, Key)] in
            if let started = s.processing.removeValueReleasingCapacity(forKey: key) {
                metrics?.workDuration.record(now - started)
            }
            if let priority = s.readd.removeValueReleasingCapacity(forKey: key) {
                Self.insert(key, priority: priority, now: now, into: &s, metrics: metrics)
            }
            return Self.dispatch(&s, now: now, metrics: metrics)
        }
        for (continuation, key) in handoffs { continuation.resume(returning: key) }
    }

    /// Stops the queue: waiting and later ``get()`` calls return nil, adds are ignored.
    public func shutdown() {
        let waiters = state.withLock { s -> [CheckedContinuation<Key?, Never>] in
            s.shuttingDown = true
            s.timer?.cancel()
            s.timer = nil
            let waiting = s.waiters.map(\.continuation)
            s.waiters.removeAll()
            return waiting
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    // MARK: - Inspection

    /// Keys waiting to be taken (not delayed, not processing).
    public var depth: Int { state.withLock { $0.queued.count } }
    /// Keys waiting for a delay to pass.
    public var delayedCount: Int { state.withLock { $0.delayedDeadline.count } }
    public var processingCount: Int { state.withLock { $0.processing.count } }
    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Seconds of work in progress that has not finished, and the longest any one has run:
    /// `workqueue_unfinished_work_seconds` and `workqueue_longest_running_processor_seconds`.
    public func unfinishedWork() -> (total: Duration, longest: Duration) {
        let now = clock.now
        return state.withLock { s in
            var total = Duration.zero
            var longest = Duration.zero
            for started in s.processing.values {
                let running = now - started
                total += running
                longest = max(longest, running)
            }
            return (total, longest)
        }
    }

    // MARK: - Internals (called with the lock held)

    private static func insert(_ key: Key, priority: Priority, now: Instant, into s: inout State, metrics: WorkQueueMetrics?) {
        guard !s.shuttingDown else { return }
        if s.processing[key] != nil {
            s.readd[key] = max(s.readd[key] ?? priority, priority)
            return
        }
        if let current = s.queued[key] {
            if current < priority {
                // Promote: the stale low entry is skipped when it comes up.
                s.queued[key] = priority
                s.normal.append(key)
            }
            return
        }
        s.queued[key] = priority
        s.queuedAt[key] = now
        switch priority {
        case .normal: s.normal.append(key)
        case .low: s.low.append(key)
        }
        metrics?.adds.increment()
        metrics?.depth.set(Double(s.queued.count))
    }

    private static func pop(_ s: inout State, now: Instant, metrics: WorkQueueMetrics?) -> Key? {
        while true {
            let lowWaiting = s.queued.count > 0 && !s.low.isEmpty
            let takeLow = s.normal.isEmpty || (lowWaiting && s.normalStreak >= s.normalBurst)
            let candidate: Key?
            let fromPriority: Priority
            if takeLow, let key = s.low.popFirst() {
                candidate = key
                fromPriority = .low
            } else if let key = s.normal.popFirst() {
                candidate = key
                fromPriority = .normal
            } else {
                return nil
            }
            guard let key = candidate, s.queued[key] == fromPriority else { continue }
            s.normalStreak = fromPriority == .normal ? s.normalStreak + 1 : 0
            s.queued.removeValueReleasingCapacity(forKey: key)
            if let added = s.queuedAt.removeValueReleasingCapacity(forKey: key) {
                metrics?.queueDuration.record(now - added)
            }
            s.processing[key] = now
            metrics?.depth.set(Double(s.queued.count))
            return key
        }
    }

    private static func dispatch(_ s: inout State, now: Instant, metrics: WorkQueueMetrics?) -> [(CheckedContinuation<Key?, Never>, Key)] {
        var handoffs: [(CheckedContinuation<Key?, Never>, Key)] = []
        while !s.waiters.isEmpty, let key = pop(&s, now: now, metrics: metrics) {
            handoffs.append((s.waiters.removeFirst().continuation, key))
        }
        return handoffs
    }

    /// Makes sure one timer task sleeps until the earliest delayed deadline.
    private func armTimer(_ s: inout State) {
        Self.dropVoidEntries(&s)
        guard let earliest = s.delayed.min?.deadline else { return }
        if let armed = s.timerDeadline, armed <= earliest, s.timer != nil { return }
        s.timer?.cancel()
        s.timerDeadline = earliest
        s.timer = Task { [clock] in
            do {
                try await clock.sleep(until: earliest)
            } catch {
                return
            }
            self.fireTimer()
        }
    }

    /// Removes heap entries of cancelled or superseded delays from the top of the heap.
    private static func dropVoidEntries(_ s: inout State) {
        while let next = s.delayed.min, s.delayedDeadline[next.key] != next.deadline { s.delayed.removeMin() }
    }

    private func fireTimer() {
        let now = clock.now
        let handoffs = state.withLock { s -> [(CheckedContinuation<Key?, Never>, Key)] in
            s.timer = nil
            s.timerDeadline = nil
            while let next = s.delayed.min, next.deadline <= now {
                s.delayed.removeMin()
                // Entries superseded by an earlier deadline for the same key are skipped.
                guard s.delayedDeadline[next.key] == next.deadline else { continue }
                s.delayedDeadline.removeValueReleasingCapacity(forKey: next.key)
                Self.insert(next.key, priority: next.priority, now: now, into: &s, metrics: metrics)
            }
            armTimer(&s)
            return Self.dispatch(&s, now: now, metrics: metrics)
        }
        for (continuation, key) in handoffs { continuation.resume(returning: key) }
    }
}
