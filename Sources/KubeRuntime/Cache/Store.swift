import KubeClient
import Synchronization

/// A function from an object to the index values it is filed under.
public typealias IndexFunction<Object> = @Sendable (Object) -> [String]

/// Ready-made index functions.
public enum Indexers {
    /// Files an object under the uid of each of its owners.
    public static let ownerUID = "ownerUID"
    public static func byOwnerUID<Object: KubernetesObject>() -> IndexFunction<Object> {
        { object in object.metadata.ownerReferences?.map(\.uid) ?? [] }
    }

    /// Files an object under the value of one label.
    public static func byLabel<Object: KubernetesObject>(_ label: String) -> IndexFunction<Object> {
        { object in object.metadata.labels?[label].map { [$0] } ?? [] }
    }
}

/// The key of an object in a store: `namespace/name`, or `name` for cluster-scoped objects.
public func storeKey(namespace: String?, name: String) -> String {
    if let namespace, !namespace.isEmpty { return "\(namespace)/\(name)" }
    return name
}

/// A change to a store, as handlers see it.
public enum InformerEvent<Object: Sendable>: Sendable {
    /// A new object. `initialList` is true for objects delivered by a list rather than a
    /// watch, so a controller can queue them behind live events.
    case added(Object, initialList: Bool)
    case updated(old: Object, new: Object)
    /// The last state known of a deleted object. After a relist it may be older than the
    /// object's final state (client-go's `DeletedFinalStateUnknown`).
    case deleted(Object)

    /// The object after the change (before it, for a deletion).
    public var object: Object {
        switch self {
        case .added(let o, _), .updated(_, let o), .deleted(let o): return o
        }
    }
}

/// The thread-safe cache of one informer, keyed by namespace and name (``ObjectKey``), with
/// optional indexes.
///
/// Reads are synchronous and copy values out; Swift's copy-on-write means a read shares the
/// stored object's buffers rather than duplicating them.
public final class Store<Object: KubernetesObject>: Sendable {
    /// Objects are boxed (``Box``): an empty bucket of the dictionary costs a pointer.
    typealias Entry = Box<Object>

    /// Keyed by ``ObjectKey``, which shares the object's own strings: a `namespace/name` text
    /// would be an allocation per object (and per read) once past 15 bytes.
    struct State {
        var objects: [ObjectKey: Entry] = [:]
        var indexes: [String: [String: Set<ObjectKey>]] = [:]
        var indexers: [String: IndexFunction<Object>]
    }

    private let state: Mutex<State>

    public init(indexers: [String: IndexFunction<Object>] = [:]) {
        state = Mutex(State(indexers: indexers))
    }

    /// Adds indexes (a shared informer may gain readers with new needs) and files every
    /// stored object under them.
    public func addIndexers(_ more: [String: IndexFunction<Object>]) {
        state.withLock { s in
            for (name, function) in more where s.indexers[name] == nil {
                s.indexers[name] = function
                for (key, entry) in s.objects {
                    for value in function(entry.value) { s.indexes[name, default: [:]][value, default: []].insert(key) }
                }
            }
        }
    }

    // MARK: - Reads

    public func get(_ key: ObjectKey) -> Object? { state.withLock { $0.objects[key]?.value } }
    public func get(namespace: String?, name: String) -> Object? { get(ObjectKey(namespace: namespace, name: name)) }
    public func list() -> [Object] { state.withLock { $0.objects.values.map(\.value) } }
    public var keys: [ObjectKey] { state.withLock { Array($0.objects.keys) } }
    public var count: Int { state.withLock { $0.objects.count } }
    /// How many objects the store's table has room for (tests: a store gives room back).
    var tableCapacity: Int { state.withLock { $0.objects.capacity } }

    /// The objects filed under `value` in the index `name`; empty for an unknown index.
    public func byIndex(_ name: String, _ value: String) -> [Object] {
        state.withLock { s in
            guard let keys = s.indexes[name]?[value] else { return [] }
            return keys.compactMap { s.objects[$0]?.value }
        }
    }

    // MARK: - Writes (the informer's)

    /// Stores `object`; returns the object it replaced.
    @discardableResult
    func upsert(_ object: Object) -> Object? {
        let key = ObjectKey(object)
        return state.withLock { s in
            let old = s.objects.updateValue(Entry(object), forKey: key)?.value
            if let old { unindex(old, key: key, in: &s) }
            index(object, key: key, in: &s)
            return old
        }
    }

    /// Removes the object at the key of `object`; returns what was stored.
    @discardableResult
    func remove(_ object: Object) -> Object? {
        let key = ObjectKey(object)
        return state.withLock { s in
            guard let old = s.objects.removeValueReleasingCapacity(forKey: key)?.value else { return nil }
            unindex(old, key: key, in: &s)
            return old
        }
    }

    /// Replaces the stored object at `key`, if any, with what `body` makes of it, for readers
    /// that from now on need less of it (a finished task's child). No event is sent, and the
    /// object keeps its key and resourceVersion: a relist finds it unchanged and keeps it, and
    /// its next event replaces it as any event does. Every reader of the informer sees the
    /// smaller object: reshape only what no reader needs.
    public func reshape(_ key: ObjectKey, _ body: (inout Object) -> Void) {
        state.withLock { s in
            guard let old = s.objects[key]?.value else { return }
            var new = old
            body(&new)
            new.metadata.name = old.metadata.name
            new.metadata.namespace = old.metadata.namespace
            new.metadata.resourceVersion = old.metadata.resourceVersion
            // Already in that shape (a finished task's child reshaped again): keep the entry.
            if new.isKnownSame(as: old) { return }
            unindex(old, key: key, in: &s)
            s.objects[key] = Entry(new)
            index(new, key: key, in: &s)
        }
    }

    /// The stored entry, so a relist can reuse an unchanged object's box.
    func existing(_ key: ObjectKey) -> Entry? { state.withLock { $0.objects[key] } }

    /// Replaces the whole content in one step and returns the changes as events.
    func replace(with objects: [ObjectKey: Entry]) -> [InformerEvent<Object>] {
        state.withLock { s in
            var events: [InformerEvent<Object>] = []
            for (key, entry) in objects {
                let new = entry.value
                if let old = s.objects[key]?.value {
                    if old.metadata.resourceVersion != new.metadata.resourceVersion {
                        events.append(.updated(old: old, new: new))
                    }
                } else {
                    events.append(.added(new, initialList: true))
                }
            }
            for (key, old) in s.objects where objects[key] == nil {
                events.append(.deleted(old.value))
            }
            s.objects = objects
            s.indexes = [:]
            for (key, entry) in objects { index(entry.value, key: key, in: &s) }
            return events
        }
    }

    private func index(_ object: Object, key: ObjectKey, in s: inout State) {
        for (name, function) in s.indexers {
            for value in function(object) { s.indexes[name, default: [:]][value, default: []].insert(key) }
        }
    }

    private func unindex(_ object: Object, key: ObjectKey, in s: inout State) {
        for (name, function) in s.indexers {
            for value in function(object) {
                s.indexes[name]?[value]?.removeReleasingCapacity(key)
                if s.indexes[name]?[value]?.isEmpty == true { s.indexes[name]?.removeValueReleasingCapacity(forKey: value) }
            }
        }
    }
}
