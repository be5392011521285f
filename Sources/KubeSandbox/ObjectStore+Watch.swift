import KubeClient

/// What a watch connection writes: an event line or the end.
enum WatchFrame: Sendable {
    case event(type: String, object: JSONValue)
    case error(Status)
}

/// One open watch: what it selects and where its frames go.
struct WatchSubscription: Sendable {
    var storageKey: String
    var namespace: String?
    var labels: LabelSelector
    var fields: FieldSelector
    var def: ResourceDefinition
    var continuation: AsyncStream<WatchFrame>.Continuation
    var bookmarks: Bool

    func matches(_ object: JSONValue) -> Bool {
        if let namespace, def.type.namespaced, object.value(atPath: "metadata.namespace")?.stringValue != namespace { return false }
        return Selection.matches(object, def: def, labels: labels, fields: fields)
    }
}

extension ObjectStore {
    /// Buffered frames per watcher before it is closed as too slow, as kube-apiserver closes
    /// watchers whose channel is full: the client resumes from its last version.
    static let watchBufferLimit = 100_000

    /// Opens a watch. Registration and the initial or replayed events happen in one actor turn,
    /// so no change falls between them. Returns the watch's id (nil when it ended at once) for
    /// ``sendBookmark(to:ifMovedPast:)``, and the version it started at.
    ///
    /// - Parameter initialEvents: `sendInitialEvents=true` (a watch-list): the current state as
    ///   ADDED events, then a BOOKMARK annotated `k8s.io/initial-events-end: "true"`.
    func watch(_ def: ResourceDefinition, namespace: String?, labels: LabelSelector, fields: FieldSelector, resourceVersion: String?, bookmarks: Bool, initialEvents: Bool = false) -> (id: Int?, startedAt: Int64, frames: AsyncStream<WatchFrame>) {
        let (stream, continuation) = AsyncStream.makeStream(of: WatchFrame.self, bufferingPolicy: .bufferingOldest(Self.watchBufferLimit))
        let subscription = WatchSubscription(storageKey: def.storageKey, namespace: def.type.namespaced ? namespace : nil, labels: labels, fields: fields, def: def, continuation: continuation, bookmarks: bookmarks)
        let rvText = resourceVersion ?? ""
        if initialEvents || rvText.isEmpty || rvText == "0" {
            if initialEvents, let rv = Int64(rvText), rv > self.resourceVersion {
                continuation.yield(.error(Self.tooLargeStatus(rv, self.resourceVersion)))
                continuation.finish()
                return (nil, self.resourceVersion, stream)
            }
            // "Get state and start at most recent": synthetic ADDED for what exists now.
            for (_, object) in (objects[def.storageKey] ?? [:]).sorted(by: { $0.key < $1.key }) where subscription.matches(object) {
                continuation.yield(.event(type: "ADDED", object: Presentation.render(object, as: def)))
            }
            if initialEvents {
                continuation.yield(.event(type: "BOOKMARK", object: bookmark(def, annotations: ["k8s.io/initial-events-end": "true"])))
            }
        } else if let rv = Int64(rvText) {
            let oldest = oldestWatchable(def.storageKey)
            if rv < oldest {
                continuation.yield(.error(Status(message: "too old resource version: \(rv) (\(oldest + 1))", reason: "Expired", code: 410)))
                continuation.finish()
                return (nil, self.resourceVersion, stream)
            }
            if rv > self.resourceVersion {
                continuation.yield(.error(Self.tooLargeStatus(rv, self.resourceVersion)))
                continuation.finish()
                return (nil, self.resourceVersion, stream)
            }
            for event in history[historyStart...] where event.resourceVersion > rv && event.storageKey == def.storageKey {
                if let frame = Self.frame(for: event, subscription) { continuation.yield(frame) }
            }
        } else {
            continuation.yield(.error(Status(message: "invalid resource version \"\(rvText)\"", reason: "BadRequest", code: 400)))
            continuation.finish()
            return (nil, self.resourceVersion, stream)
        }
        let id = nextWatcherID
        nextWatcherID += 1
        watchers[id] = subscription
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        return (id, self.resourceVersion, stream)
    }

    static func tooLargeStatus(_ rv: Int64, _ current: Int64) -> Status {
        Status(message: "Too large resource version: \(rv), current: \(current)", reason: "Timeout",
               details: StatusDetails(causes: [StatusCause(reason: "ResourceVersionTooLarge", message: "Too large resource version")], retryAfterSeconds: 1),
               code: 504)
    }

    /// A BOOKMARK object at the current version.
    func bookmark(_ def: ResourceDefinition, annotations: [String: String] = [:]) -> JSONValue {
        var object: JSONValue = [
            "kind": .string(def.type.kind), "apiVersion": .string(def.type.apiVersion),
            "metadata": ["resourceVersion": .string(String(resourceVersion))],
        ]
        if !annotations.isEmpty { object["metadata"]?["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
        return object
    }

    /// A BOOKMARK to one watch that asked for them, when the version moved past `version`
    /// (whether or not the watch saw the changes), as kube-apiserver sends one shortly before
    /// a watch's timeout so the client resumes from a recent version.
    func sendBookmark(to id: Int, ifMovedPast version: Int64) {
        guard let watcher = watchers[id], watcher.bookmarks, resourceVersion > version else { return }
        watcher.continuation.yield(.event(type: "BOOKMARK", object: bookmark(watcher.def)))
    }

    func unsubscribe(_ id: Int) { watchers[id] = nil }

    var openWatchCount: Int { watchers.count }

    /// Sends the event to every watcher that selects the object now or selected it before.
    func dispatch(_ event: StoredEvent) {
        for (id, watcher) in watchers where watcher.storageKey == event.storageKey {
            guard let frame = Self.frame(for: event, watcher) else { continue }
            if case .dropped = watcher.continuation.yield(frame) {
                watcher.continuation.finish()
                watchers[id] = nil
            }
        }
    }

    /// The frame a watcher sees for a change, translating selector transitions as the API server
    /// does: an object that starts matching is ADDED, one that stops matching is DELETED.
    static func frame(for event: StoredEvent, _ watcher: WatchSubscription) -> WatchFrame? {
        let now = event.type != .deleted && watcher.matches(event.object)
        let before = event.previous.map { watcher.matches($0) } ?? false
        let type: String
        var shown = event.object
        switch event.type {
        case .added: guard now else { return nil }; type = "ADDED"
        case .deleted: guard watcher.matches(event.object) || before else { return nil }; type = "DELETED"
        default:
            switch (before, now) {
            case (true, true): type = "MODIFIED"
            case (false, true): type = "ADDED"
            case (true, false):
                // Leaving the selector: the watcher is told with the last state it matched.
                type = "DELETED"
                shown = event.previous ?? event.object
            case (false, false): return nil
            }
        }
        return .event(type: type, object: Presentation.render(shown, as: watcher.def))
    }

    /// Sends a BOOKMARK with the current version to every watcher that asked for them.
    func sendBookmarks() {
        for watcher in watchers.values where watcher.bookmarks {
            watcher.continuation.yield(.event(type: "BOOKMARK", object: bookmark(watcher.def)))
        }
    }

    /// Ends every open watch, as a dropped connection or an API server restart would.
    func closeAllWatches() {
        for watcher in watchers.values { watcher.continuation.finish() }
        watchers.removeAll()
    }
}
