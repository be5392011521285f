import KubeClient

/// Turns an informer event into the requests to reconcile.
public struct EventHandler<Object: KubernetesObject>: Sendable {
    let map: @Sendable (Object) -> [ReconcileRequest]

    public init(_ map: @escaping @Sendable (Object) -> [ReconcileRequest]) {
        self.map = map
    }

    /// Reconcile the object itself.
    public static var enqueueObject: EventHandler {
        EventHandler { [ReconcileRequest(namespace: $0.metadata.namespace, name: $0.metadata.name ?? "")] }
    }

    /// Reconcile the object's controller owner when it is of `kind` in `group` (any version);
    /// how a child's change wakes its parent.
    public static func enqueueOwner(group: String, kind: String, onlyController: Bool = true) -> EventHandler {
        EventHandler { object in
            let owners = object.metadata.ownerReferences ?? []
            return owners.compactMap { ref in
                if onlyController && ref.controller != true { return nil }
                guard ref.kind == kind, Self.group(of: ref.apiVersion) == group else { return nil }
                // Owners are in the child's namespace: cross-namespace ownership is not allowed.
                return ReconcileRequest(namespace: object.metadata.namespace, name: ref.name)
            }
        }
    }

    /// Reconcile whatever `map` names.
    public static func map(_ map: @escaping @Sendable (Object) -> [ReconcileRequest]) -> EventHandler {
        EventHandler(map)
    }

    static func group(of apiVersion: String) -> String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }
}

/// Filters informer events before they reach a controller's queue.
public struct Predicate<Object: KubernetesObject>: Sendable {
    public var create: @Sendable (Object) -> Bool
    public var update: @Sendable (Object, Object) -> Bool
    public var delete: @Sendable (Object) -> Bool

    public init(create: @escaping @Sendable (Object) -> Bool = { _ in true }, update: @escaping @Sendable (Object, Object) -> Bool = { _, _ in true }, delete: @escaping @Sendable (Object) -> Bool = { _ in true }) {
        self.create = create
        self.update = update
        self.delete = delete
    }

    /// Passes updates that change `metadata.generation` (spec changes; not status).
    public static var generationChanged: Predicate {
        Predicate(update: { old, new in old.metadata.generation != new.metadata.generation })
    }

    public static var labelsChanged: Predicate {
        Predicate(update: { old, new in old.metadata.labels != new.metadata.labels })
    }

    public static var annotationsChanged: Predicate {
        Predicate(update: { old, new in old.metadata.annotations != new.metadata.annotations })
    }

    /// Drops updates that carry no change at all (a relist's unchanged objects).
    public static var resourceVersionChanged: Predicate {
        Predicate(update: { old, new in old.metadata.resourceVersion != new.metadata.resourceVersion })
    }

    /// Passes objects for which `test` holds, on every kind of event.
    public static func filter(_ test: @escaping @Sendable (Object) -> Bool) -> Predicate {
        Predicate(create: test, update: { _, new in test(new) }, delete: test)
    }

    /// Passes an event any of `predicates` passes.
    public static func any(_ predicates: [Predicate]) -> Predicate {
        Predicate(
            create: { o in predicates.contains { $0.create(o) } },
            update: { a, b in predicates.contains { $0.update(a, b) } },
            delete: { o in predicates.contains { $0.delete(o) } }
        )
    }

    func admits(_ event: InformerEvent<Object>) -> Bool {
        switch event {
        case .added(let o, _): return create(o)
        case .updated(let old, let new): return update(old, new)
        case .deleted(let o): return delete(o)
        }
    }
}
