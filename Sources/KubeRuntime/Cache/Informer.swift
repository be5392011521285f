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
    /// Share the storage of strings many cached objects repeat (timestamps, messages, label
    /// keys, templates) through ``SharedStrings/shared`` while decoding.
    public var shareStrings = true
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
    /// The last list or watch failure, nil while calls succeed.
    var lastFailure: WatchFailure? { get }
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
    private let forbidden = Flag()
    private let failure = Mutex<WatchFailure?>(nil)
    /// The list-then-watch decisions, and the one record of the newest resourceVersion seen:
    /// the watch task steps it per event, the loop asks it what to do next.
    private let machine: Mutex<WatcherStateMachine>
    private let completedLists = Mutex(0)

    public init(client: KubernetesClient, scope: InformerScope = InformerScope(), options: InformerOptions = InformerOptions(), indexers: [String: IndexFunction<Object>] = [:], transform: (@Sendable (inout Object) -> Void)? = nil, decoder: JSONBytesDecoder? = nil, clock: any RuntimeClock = SystemClock(), logger: Logger = Logger(label: "informer")) {
        self.client = client
        self.scope = scope
        self.options = options
        self.transform = transform
        self.decoder = decoder ?? JSONBytesDecoder(discardUnknownFields: options.discardUnknownFields, discardManagedFields: options.stripManagedFields, sharedStrings: options.shareStrings ? .shared : nil)
        self.clock = clock
        self.store = Store(indexers: indexers)
        self.machine = Mutex(WatcherStateMachine(backoff: options.backoff))
        self.name = "\(Object.resourceType.groupResource)[\(scope)]"
        var logger = logger
        logger[metadataKey: "informer"] = "\(self.name)"
        self.logger = logger
    }

    public var hasSynced: Bool { synced.isSet }
    public var cachedCount: Int { store.count }
    /// The newest resourceVersion seen (a complete list, an event or a bookmark).
    public var resourceVersion: String? { machine.withLock { $0.resourceVersion } }
    /// Complete lists so far: 1 after the first sync, one more per relist.
    public var listCount: Int { completedLists.withLock { $0 } }

    /// Waits until the first complete list is in the store, or the task is cancelled.
    public func waitForSync() async {
        await synced.wait()
    }

    /// The last list or watch failure; nil once a list or watch call succeeds again.
    public var lastFailure: WatchFailure? { failure.withLock { $0 } }

    /// True while the server answers this informer's calls with 403.
    public var isForbidden: Bool { forbidden.isSet }

    /// Waits until the server has refused a list or watch with 403 (at once if it is refusing
    /// now), or the task is cancelled. An informer keeps retrying with backoff meanwhile, so a
    /// rule added later makes it sync.
    public func waitUntilForbidden() async {
        await forbidden.wait()
    }

    /// The RBAC rule this informer needs, in the words of a Role.
    public var requiredRule: String {
        let type = Object.resourceType
        let place = scope.namespace.map { "a Role in namespace \($0), or a ClusterRole," } ?? "a ClusterRole"
        return "apiGroups: [\"\(type.group)\"], resources: [\"\(type.plural)\"], verbs: [\"list\", \"watch\"] (in \(place) bound to this service account)"
    }

    /// Records a failed call; a first 403 is an error naming the missing rule, other failures
    /// and repeats are info.
    private func noteFailure(_ classified: WatchFailure, call: String) {
        let previous = failure.withLock { f -> WatchFailure? in
            defer { f = classified }
            return f
        }
        if case .forbidden(let message) = classified {
            forbidden.set()
            if case .forbidden = previous {} else {
                logger.error("\(call) forbidden: RBAC is missing a rule", metadata: ["rule": "\(requiredRule)", "error": "\(message)"])
                return
            }
        }
        logger.info("\(call) failed", metadata: ["error": "\(classified)"])
    }

    private func noteSuccess() {
        guard failure.withLock({ f -> Bool in defer { f = nil }; return f != nil }) else { return }
        forbidden.set(false)
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

    /// One change, as a watch event brings it (no array to allocate per event).
    private func dispatch(_ event: InformerEvent<Object>) {
        handlers.withLock { h in
            for handler in h.byID.values { handler(event) }
        }
    }

    // MARK: - The loop

    /// Lists and watches until the task is cancelled.
    public func run() async {
        var building: [ObjectKey: Store<Object>.Entry] = [:]
        while !Task.isCancelled {
            switch machine.withLock({ $0.nextAction() }) {
            case .wait(let delay):
                logger.debug("backing off", metadata: ["delay": "\(delay)"])
                do { try await clock.sleep(for: delay) } catch { return }

            case .list(let token):
                if token == nil { building = [:] }
                do {
                    let page = try await client.list(Object.self, namespace: scope.namespace, options: ListOptions(labelSelector: scope.labelSelector, fieldSelector: scope.fieldSelector, limit: options.pageSize, continue: token), decoder: decoder)
                    for var object in page.items {
                        transform?(&object)
                        let key = ObjectKey(object)
                        // An unchanged object keeps the stored value, so old and new share storage.
                        if let stored = store.existing(key), stored.value.metadata.resourceVersion == object.metadata.resourceVersion {
                            building[key] = stored
                        } else {
                            building[key] = Store<Object>.Entry(object)
                        }
                    }
                    let version = page.metadata.resourceVersion ?? ""
                    if machine.withLock({ $0.listPageReceived(continueToken: page.metadata.continue, resourceVersion: version) }) {
                        let events = store.replace(with: building)
                        building = [:]
                        completedLists.withLock { $0 += 1 }
                        logger.debug("listed", metadata: ["objects": "\(store.count)", "resourceVersion": "\(version)"])
                        dispatch(events)
                        noteSuccess()
                        synced.set()
                    }
                } catch {
                    if Task.isCancelled { return }
                    let failure = WatchFailure.classify(error)
                    noteFailure(failure, call: "list")
                    machine.withLock { $0.listFailed(failure, now: clock.now) }
                }

            case .watch(let version):
                do {
                    let timeout = Int.random(in: options.watchTimeoutSeconds)
                    // `.caller`: `consume`'s watchdog bounds this watch, from before it is
                    // opened, so its connection re-arms no read timer per read, and a quiet
                    // watch asked for longer than the client's read timeout is not cut short.
                    let watchOptions = WatchOptions(labelSelector: scope.labelSelector, fieldSelector: scope.fieldSelector, resourceVersion: version, allowWatchBookmarks: true, timeoutSeconds: timeout, silence: .caller)
                    try await consume(silenceLimit: .seconds(timeout) + options.silenceGrace) {
                        try await self.client.watch(Object.self, namespace: self.scope.namespace, options: watchOptions, decoder: self.decoder)
                    }
                    machine.withLock { $0.watchEnded(now: clock.now) }
                } catch {
                    if Task.isCancelled { return }
                    let classified = WatchFailure.classify(error)
                    noteFailure(classified, call: "watch")
                    machine.withLock { $0.watchFailed(classified, now: clock.now) }
                }
            }
        }
    }

    struct WatchSilent: Error, CustomStringConvertible {
        var limit: Duration
        var description: String { "watch silent for \(limit)" }
    }

    /// Opens a watch and applies its events until the stream ends, stepping the state machine
    /// with each one's version. A watchdog ends it when it falls silent; it is armed before the
    /// watch is opened, as the connection has no read timeout of its own (``WatchSilence/caller``)
    /// and an error answer's body that never follows its head would otherwise hold the informer.
    private func consume(silenceLimit: Duration, open: @escaping @Sendable () async throws -> WatchStream<Object>) async throws {
        let lastActivity = LockedBox(clock.now)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let stream = try await open()
                self.machine.withLock { $0.watchStarted(now: self.clock.now) }
                self.noteSuccess()
                for try await event in stream {
                    if let version = self.apply(event) { self.machine.withLock { $0.eventReceived(resourceVersion: version) } }
                    let now = self.clock.now
                    lastActivity.withLock { $0 = now }
                }
            }
            group.addTask {
                while true {
                    let deadline = lastActivity.value.advanced(by: silenceLimit)
                    try await self.clock.sleep(until: deadline)
                    if self.clock.now >= lastActivity.value.advanced(by: silenceLimit) {
                        throw WatchSilent(limit: silenceLimit)
                    }
                }
            }
            // The first child to finish decides: the stream ended, broke, or went silent.
            try await group.next()
            group.cancelAll()
        }
    }

    /// Stores the object of `event` and tells the handlers; returns the event's resourceVersion.
    /// The event is consumed and its object transformed in place: it is not copied out to be
    /// transformed, nor to read its version. This runs for every watch event, and each copy of a
    /// Pod is a retain and a release per field (the informer is generic, so not specialized).
    private func apply(_ event: consuming WatchEvent<Object>) -> String? {
        switch consume event {
        case .added(var object), .modified(var object):
            let version = object.metadata.resourceVersion
            transform?(&object)
            if let old = store.upsert(object) {
                dispatch(.updated(old: old, new: object))
            } else {
                dispatch(.added(object, initialList: false))
            }
            return version
        case .deleted(var object):
            let version = object.metadata.resourceVersion
            transform?(&object)
            store.remove(object)
            dispatch(.deleted(object))
            return version
        case .bookmark(let version):
            return version
        }
    }
}
