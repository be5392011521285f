import Logging
import NIOCore
import NIOPosix
import Prometheus
import Synchronization

/// Measures how late each event loop runs a timer: the sign of something holding its thread.
///
/// Every watch event and API answer is read on one of NIO's event loops (and handled there
/// too, when tasks run on the loops), so a loop whose thread is held by a synchronous read, a
/// sleep, a semaphore or a long computation delays every connection it carries, and nothing
/// else says so. Each loop runs a timer every ``Settings/interval``; how late it fired goes
/// into `event_loop_lag_seconds{loop}`, and a lag of ``Settings/warning`` or more is counted in
/// `event_loop_blocked_total{loop}` and logged as a warning. The timers sample: a hold shorter
/// than the interval is seen when a timer falls due inside it, a longer one always.
///
/// Cost: one timer a second per loop, about a microsecond each; no thread of its own.
public final class EventLoopLagMonitor: Sendable {
    /// How often each loop is checked and what lag counts as a blocked loop.
    public struct Settings: Sendable, Equatable {
        /// Time between one loop's timers.
        public var interval: Duration
        /// A timer this late means the loop's thread was held: counted and logged.
        public var warning: Duration

        /// - Parameters:
        ///   - interval: one second by default.
        ///   - warning: 200 ms by default: well above a busy machine's scheduling delay (a few
        ///     to tens of milliseconds on two shared cores), well below what a blocking call costs.
        public init(interval: Duration = .seconds(1), warning: Duration = .milliseconds(200)) {
            self.interval = interval
            self.warning = warning
        }
    }

    /// Lag buckets: from a millisecond (an idle loop) to ten seconds (a loop stuck on I/O).
    static let buckets: [Duration] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].map { .milliseconds(Int64($0 * 1000)) }

    private struct Watched: Sendable {
        var loop: any EventLoop
        var index: Int
        var lag: DurationHistogram
        var blocked: Counter
        /// When its next timer is due.
        var due: LockedBox<NIODeadline>
    }

    private let settings: Settings
    private let watched: [Watched]
    private let logger: Logger
    private let timers = Mutex<[RepeatedTask]>([])

    /// - Parameter group: the loops to watch; NIO's singleton group by default, which carries
    ///   the API client's connections and the metrics and probe servers.
    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, settings: Settings = Settings(), metrics: MetricsRegistry, logger: Logger) {
        self.settings = settings
        self.logger = logger
        var watched: [Watched] = []
        for (index, loop) in group.makeIterator().enumerated() {
            let labels = [("loop", "\(index)")]
            watched.append(Watched(
                loop: loop,
                index: index,
                lag: metrics.histogram("event_loop_lag_seconds", labels, buckets: Self.buckets, help: "How late a timer set on the event loop ran: a thread held on a loop delays every connection it carries."),
                blocked: metrics.counter("event_loop_blocked_total", labels, help: "Timers that ran at least the warning threshold late: times something held the loop's thread."),
                due: LockedBox(.now())
            ))
        }
        self.watched = watched
    }

    /// Starts the timers; a second call while they run does nothing.
    public func start() {
        timers.withLock { timers in
            guard timers.isEmpty else { return }
            let interval = TimeAmount(settings.interval)
            for loop in watched {
                loop.due.withLock { $0 = .now() + interval }
                timers.append(loop.loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
                    self.fired(loop, interval: interval)
                })
            }
        }
    }

    /// Stops the timers; returns once none of them can run again.
    public func stop() async {
        let running = timers.withLock { timers in
            defer { timers.removeAll() }
            return timers
        }
        for (timer, loop) in zip(running, watched) {
            let cancelled = loop.loop.makePromise(of: Void.self)
            timer.cancel(promise: cancelled)
            try? await cancelled.futureResult.get()
        }
    }

    private func fired(_ loop: Watched, interval: TimeAmount) {
        let now = NIODeadline.now()
        let lateBy = loop.due.withLock { due in
            defer { due = now + interval }  // the next timer is scheduled `interval` after this one ran
            return now - due
        }
        let lag = Duration.nanoseconds(max(0, lateBy.nanoseconds))
        loop.lag.record(lag)
        guard lag >= settings.warning else { return }
        loop.blocked.increment()
        logger.warning("an event loop ran its timer late: something held its thread, and every connection on it waited", metadata: [
            "loop": "\(loop.index)",
            "lateBy": "\(Int((lag / .milliseconds(1)).rounded())) ms",
            "hint": "plugins and handlers must not block a thread (docs/plugins.md)",
        ])
    }
}
