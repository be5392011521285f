import Foundation
import KubeClient
import Logging

/// The type of an Event.
public enum EventType: String, Sendable {
    case normal = "Normal"
    case warning = "Warning"
}

/// Records `events.k8s.io/v1` Events without blocking the caller, folding repeats into a
/// series the way client-go's events broadcaster does: an Event with the same regarding
/// object, related object, reason, action and reporting controller as one seen within the
/// series window is not created again; the first Event's `series` gets `count` and
/// `lastObservedTime` instead.
public final class EventRecorder: Sendable {
    public let reportingController: String
    public let reportingInstance: String
    public let seriesWindow: Duration
    let client: KubernetesClient
    let clock: any RuntimeClock
    let logger: Logger
    let maxCached: Int

    struct Pending: Sendable {
        var regarding: ObjectReference
        var related: ObjectReference?
        var type: EventType
        var reason: String
        var action: String
        var note: String
    }

    struct Key: Hashable {
        var regarding: ObjectReference
        var related: ObjectReference?
        var reason: String
        var action: String
    }

    struct Cached {
        var name: String
        var namespace: String
        var count: Int32
        var lastObserved: Instant
    }

    private let stream: AsyncStream<Pending>
    private let continuation: AsyncStream<Pending>.Continuation
    /// Only `run()` touches the cache; the box makes that safe to state.
    private let cache = LockedBox<[Key: Cached]>([:])

    public init(client: KubernetesClient, reportingController: String, reportingInstance: String = LeaderElectionConfig.defaultIdentity(), seriesWindow: Duration = .seconds(360), bufferSize: Int = 1000, maxCached: Int = 4096, clock: any RuntimeClock = SystemClock(), logger: Logger = Logger(label: "events")) {
        self.client = client
        self.reportingController = reportingController
        self.reportingInstance = String(reportingInstance.prefix(128))
        self.seriesWindow = seriesWindow
        self.clock = clock
        self.logger = logger
        self.maxCached = maxCached
        // Bounded: under an Event storm the oldest unsent Events are dropped, never the caller blocked.
        (stream, continuation) = AsyncStream.makeStream(of: Pending.self, bufferingPolicy: .bufferingNewest(bufferSize))
    }

    /// Queues an Event about `regarding`. Returns at once.
    public func record(regarding: ObjectReference, related: ObjectReference? = nil, type: EventType, reason: String, action: String, note: String) {
        // The API server rejects notes over 1 KiB.
        continuation.yield(Pending(regarding: regarding, related: related, type: type, reason: reason, action: action, note: String(note.prefix(1024))))
    }

    /// Writes queued Events until cancelled.
    public func run() async {
        for await pending in stream {
            await write(pending)
        }
    }

    /// Stops accepting Events; `run()` returns after writing what is queued.
    public func finish() { continuation.finish() }

    func write(_ pending: Pending) async {
        // The object's resourceVersion is left out of the key: it changes with every write, and
        // the same complaint about the same object is still one series.
        var regarding = pending.regarding
        regarding.resourceVersion = nil
        var related = pending.related
        related?.resourceVersion = nil
        let key = Key(regarding: regarding, related: related, reason: pending.reason, action: pending.action)
        let now = clock.now
        let wallTime = KubeTime.formatMicro(Date())
        let existing = cache.withLock { c -> Cached? in
            guard var entry = c[key], now - entry.lastObserved < seriesWindow else { return nil }
            entry.count += 1
            entry.lastObserved = now
            c[key] = entry
            return entry
        }
        if let existing {
            let patch: JSONValue = ["series": ["count": .int(Int64(existing.count)), "lastObservedTime": .string(wallTime)]]
            do {
                _ = try await client.patch(Event.resourceType, name: existing.name, namespace: existing.namespace, .merge(patch))
                return
            } catch let error as KubeAPIError where error.isNotFound {
                // Deleted (Events expire after an hour): start a new one below.
            } catch {
                logger.info("could not update event series", metadata: ["reason": "\(pending.reason)", "error": "\(error)"])
                return
            }
        }
        let namespace = pending.regarding.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let stamp = String(UInt64(Date().timeIntervalSince1970 * 1e9), radix: 16)
        let name = "\(pending.regarding.name ?? "unknown").\(stamp)"
        var event = Event(metadata: ObjectMeta(name: name, namespace: namespace), eventTime: wallTime, reportingController: reportingController, reportingInstance: reportingInstance, action: pending.action, reason: pending.reason, regarding: pending.regarding, note: pending.note, type: pending.type.rawValue)
        event.related = pending.related
        do {
            _ = try await client.create(event)
            cache.withLock { c in
                if c.count >= maxCached, let oldest = c.min(by: { $0.value.lastObserved < $1.value.lastObserved })?.key {
                    c.removeValue(forKey: oldest)
                }
                c[key] = Cached(name: name, namespace: namespace, count: 1, lastObserved: now)
            }
        } catch {
            logger.info("could not record event", metadata: ["reason": "\(pending.reason)", "error": "\(error)"])
        }
    }
}
