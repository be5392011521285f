import KubeClient
import Logging
import Prometheus
import Synchronization

/// What an informer watches: one resource type narrowed by namespace and selectors. Two
/// readers asking for the same scope share one informer and one watch.
public struct InformerScope: Hashable, Sendable, CustomStringConvertible {
    /// nil watches every namespace.
    public var namespace: String?
    public var labelSelector: String?
    public var fieldSelector: String?

    public init(namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil) {
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    public var description: String {
        var parts: [String] = []
        if let namespace { parts.append("namespace=\(namespace)") }
        if let labelSelector { parts.append("labels=\(labelSelector)") }
        if let fieldSelector { parts.append("fields=\(fieldSelector)") }
        return parts.isEmpty ? "all" : parts.joined(separator: ",")
    }
}

/// How an informer talks to the server.
public struct InformerOptions: Sendable {
    /// Objects per list page.
    public var pageSize = 500
    /// Drop `metadata.managedFields` while decoding: it is often half of an object's bytes
    /// and no controller reads it.
    public var stripManagedFields = true
    /// Drop members the Swift model does not declare while decoding. Saves memory for caches
    /// that are only read; an object read from such a cache must never be written back whole.
    public var discardUnknownFields = false
    /// Each watch asks the server to close it after a random number of seconds in this range,
    /// as client-go does, so watches across a fleet do not all reconnect at once.
    public var watchTimeoutSeconds: ClosedRange<Int> = 300...600
    /// A watch with no event, bookmark or close for its timeout plus this long is dead.
    public var silenceGrace: Duration = .seconds(30)
    /// Backoff between failed calls.
    public var backoff = Backoff()

    public init() {}
}

/// The informer interface the factory and controllers need without knowing the object type.
public protocol InformerProtocol: AnyObject, Sendable {
    var name: String { get }
    var hasSynced: Bool { get }
    var cachedCount: Int { get }
    func waitForSync() async
    func run() async
}

/// Lists, then watches, one resource scope and keeps a ``Store`` of it current, calling
/// handlers with every change. See ``WatcherStateMachine`` for the recovery rules.
///
/// A relist builds the new content beside the old one, but reuses every stored object whose
/// resourceVersion did not change, so the two share their buffers and the peak is one page
/// plus what changed, not a second copy of the cache; the swap is one atomic step.
public final class Informer<Object: KubernetesObject>: InformerProtocol {
    public let store: Store<Object>
    public let scope: InformerScope
    public let options: InformerOptions
    public let name: String
    let client: KubernetesClient
    let transform: (@Sendable (inout Object) -> Void)?
    /// How list pages and watch events are decoded: from ``options`` unless given.
    let decoder: JSONBytesDecoder
    let clock: any RuntimeClock
    let logger: Logger

    private struct Handlers {
        var nextID: UInt64 = 0
        var byID: [UInt64: @Sendable (InformerEvent<Object>) -> Void] = [:]
    }


    private let handlers = Mutex(Handlers())
    private let synced = Flag()
    /// The newest resourceVersion seen, for tests and diagnostics.
    private let lastVersion = Mutex<String?>(nil)
    private let completedLists = Mutex(0)

    public init(client: KubernetesClient, scope: InformerScope = InformerScope(), options: InformerOptions = InformerOptions(), indexers: [String: IndexFunction<Object>] = [:], transform: (@Sendable (inout Object) -> Void)? = nil, decoder: JSONBytesDecoder? = nil, clock: any RuntimeClock = SystemClock(), logger: Logger = Logger(label: "informer")) {
        self.client = client
        self.scope = scope
        self.options = options
        self.transform = transform
        self.decoder = decoder ?? JSONBytesDecoder(discardUnknownFields: options.discardUnknownFields, discardManagedFields: options.stripManagedFields)
        self.clock = clock
        self.store = Store(indexers: indexers)
        self.name = "\(Object.resourceType.groupResource)[\(scope)]"
        var logger = logger
        logger[metadataKey: "informer"] = "\(self.name)"
        self.logger = logger
    }

    public var hasSynced: Bool { synced.isSet }
    public var cachedCount: Int { store.count }
    public var resourceVersion: String? { lastVersion.withLock { $0 } }
    /// Complete lists so far: 1 after the first sync, one more per relist.
    public var listCount: Int { completedLists.withLock { $0 } }

    /// Waits until the first complete list is in the store, or the task is cancelled.
    public func waitForSync() async {
        await synced.wait()
    }

    /// Registers a handler and replays the objects already stored to it as additions.
    /// Handlers run on the informer's task and must return quickly (enqueue and go).
    @discardableResult
    public func addHandler(_ handler: @escaping @Sendable (InformerEvent<Object>) -> Void) -> UInt64 {
        handlers.withLock { h in
            h.nextID += 1
            h.byID[h.nextID] = handler
            for object in store.list() { handler(.added(object, initialList: true)) }
            return h.nextID
        }
    }

    public func removeHandler(_ id: UInt64) {
        _ = handlers.withLock { $0.byID.removeValue(forKey: id) }
    }

    private func dispatch(_ events: [InformerEvent<Object>]) {
        guard !events.isEmpty else { return }
        // Delivered under the lock so a handler added concurrently sees each change either in
        // its replay or as an event, never neither.
        handlers.withLock { h in
            for handler in h.byID.values {
                for event in events { handler(event) }
            }
        }
    }



    private func prepared(_ object: Object) -> Object {
        guard let transform else { return object }
        var object = object
        transform(&object)
        return object
    }

    // MARK: - The loop

    /// Lists and watches until the task is cancelled.
    public func run() async {
        var machine = WatcherStateMachine(backoff: options.backoff)
        var building: [String: Store<Object>.Entry] = [:]
        while !Task.isCancelled {
            switch machine.nextAction() {
            case .wait(let delay):
                logger.debug("backing off", metadata: ["delay": "\(delay)"])
                do { try await clock.sleep(for: delay) } catch { return }

            case .list(let token):
                if token == nil { building = [:] }
                do {
                    let page = try await client.list(Object.self, namespace: scope.namespace, options: ListOptions(labelSelector: scope.labelSelector, fieldSelector: scope.fieldSelector, limit: options.pageSize, continue: token), decoder: decoder)
                    for item in page.items {
                        let object = prepared(item)
                        let key = Store.key(of: object)
                        // An unchanged object keeps the stored value, so old and new share storage.
                        if let stored = store.existing(key), stored.object.metadata.resourceVersion == object.metadata.resourceVersion {
                            building[key] = stored
                        } else {
                            building[key] = Store<Object>.Entry(object)
                        }
                    }
                    let version = page.metadata.resourceVersion ?? ""
                    if machine.listPageReceived(continueToken: page.metadata.continue, resourceVersion: version) {
                        let events = store.replace(with: building)
                        building = [:]
                        lastVersion.withLock { $0 = version }
                        completedLists.withLock { $0 += 1 }
                        logger.debug("listed", metadata: ["objects": "\(store.count)", "resourceVersion": "\(version)"])
                        dispatch(events)
                        synced.set()
                    }
                } catch {
                    if Task.isCancelled { return }
                    let failure = WatchFailure.classify(error)
                    logger.info("list failed", metadata: ["error": "\(failure)"])
                    machine.listFailed(failure, now: clock.now)
                }

            case .watch(let version):
                do {
                    let timeout = Int.random(in: options.watchTimeoutSeconds)
                    let stream = try await client.watch(Object.self, namespace: scope.namespace, options: WatchOptions(labelSelector: scope.labelSelector, fieldSelector: scope.fieldSelector, resourceVersion: version, allowWatchBookmarks: true, timeoutSeconds: timeout), decoder: decoder)
                    machine.watchStarted(now: clock.now)
                    let progress = try await consume(stream, silenceLimit: .seconds(timeout) + options.silenceGrace)
                    if let last = progress.lastVersion { machine.eventReceived(resourceVersion: last) }
                    machine.watchEnded(now: clock.now)
                } catch let failure as WatchBroke {
                    if Task.isCancelled { return }
                    if let last = failure.progress.lastVersion { machine.eventReceived(resourceVersion: last) }
                    let classified = WatchFailure.classify(failure.underlying)
                    logger.info("watch failed", metadata: ["error": "\(classified)"])
                    machine.watchFailed(classified, now: clock.now)
                } catch {
                    if Task.isCancelled { return }
                    let classified = WatchFailure.classify(error)
                    logger.info("watch failed", metadata: ["error": "\(classified)"])
                    machine.watchFailed(classified, now: clock.now)
                }
            }
        }
    }

    struct WatchProgress: Sendable {
        var lastVersion: String?
        var lastActivity: Instant
    }

    struct WatchBroke: Error {
        var progress: WatchProgress
        var underlying: any Error
    }

    struct WatchSilent: Error, CustomStringConvertible {
        var limit: Duration
        var description: String { "watch silent for \(limit)" }
    }

    /// Applies events until the stream ends; a watchdog ends it when it falls silent.
    private func consume(_ stream: WatchStream<Object>, silenceLimit: Duration) async throws -> WatchProgress {
        let progress = LockedBox(WatchProgress(lastVersion: nil, lastActivity: clock.now))
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await event in stream {
                        self.apply(event)
                        let version: String? = switch event {
                        case .bookmark(let v): v
                        default: event.object?.metadata.resourceVersion
                        }
                        let now = self.clock.now
                        progress.withLock { p in
                            if let version, !version.isEmpty { p.lastVersion = version }
                            p.lastActivity = now
                        }
                        if let version, !version.isEmpty { self.lastVersion.withLock { $0 = version } }
                    }
                }
                group.addTask {
                    while true {
                        let deadline = progress.withLock { $0.lastActivity }.advanced(by: silenceLimit)
                        try await self.clock.sleep(until: deadline)
                        if self.clock.now >= progress.withLock({ $0.lastActivity }).advanced(by: silenceLimit) {
                            throw WatchSilent(limit: silenceLimit)
                        }
                    }
                }
                // The first child to finish decides: the stream ended, broke, or went silent.
                try await group.next()
                group.cancelAll()
            }
        } catch {
            throw WatchBroke(progress: progress.withLock { $0 }, underlying: error)
        }
        return progress.withLock { $0 }
    }

    private func apply(_ event: WatchEvent<Object>) {
        switch event {
        case .added(let raw), .modified(let raw):
            let object = prepared(raw)
            if let old = store.upsert(object) {
                dispatch([.updated(old: old, new: object)])
            } else {
                dispatch([.added(object, initialList: false)])
            }
        case .deleted(let raw):
            let object = prepared(raw)
            store.remove(object)
            dispatch([.deleted(object)])
        case .bookmark:
            break
        }
    }
}
