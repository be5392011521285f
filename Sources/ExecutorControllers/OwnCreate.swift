import KubeClient
import KubeRuntime

/// A child the executor is creating, until its first watch event has come.
///
/// The round that creates a child judges it at the version the create answered with, so the
/// watch event of that version (the child's ADDED) has nothing to tell it: it wakes no round. The
/// event and the answer travel on different connections and come in either order:
/// - the answer first: ``answered(_:with:in:)`` notes its version, and the event of that version
///   is dropped by ``eventIsOwn(_:in:)``; an event of another version (a relist's) passes;
/// - the event first: ``eventIsOwn(_:in:)`` holds it back and notes its version, and the round
///   that is creating learns from ``answered(_:with:in:)`` whether it was the answer's; if not,
///   that round asks for another at once. A create that fails (``failed(_:in:)``) does the same
///   when it held an event back.
struct OwnCreate: Sendable {
    /// The version the create answered with, once it has.
    var answered: String?
    /// The version of an event that came before the answer and was held back.
    var heldBack: String?

    /// Whether the creation event of `child` is the executor's own and wakes no round; forgets
    /// the create once its event has come.
    static func eventIsOwn<Child: KubernetesObject>(_ child: Child, in creates: LockedBox<[ObjectKey: OwnCreate]>) -> Bool {
        let key = ObjectKey(child)
        return creates.withLock { creates in
            guard let create = creates[key] else { return false }
            guard let answered = create.answered else {
                creates[key]?.heldBack = child.metadata.resourceVersion ?? ""
                return true
            }
            creates.removeValueReleasingCapacity(forKey: key)
            return answered == child.metadata.resourceVersion
        }
    }

    /// Notes the create's answer `made`; false when an event of another version came first and
    /// was held back, so the creating round must ask for another round at once.
    static func answered<Child: KubernetesObject>(_ key: ObjectKey, with made: Child, in creates: LockedBox<[ObjectKey: OwnCreate]>) -> Bool {
        creates.withLock { creates in
            guard let create = creates[key] else { return true }
            if let heldBack = create.heldBack {
                creates.removeValueReleasingCapacity(forKey: key)
                return heldBack == made.metadata.resourceVersion
            }
            creates[key]?.answered = made.metadata.resourceVersion ?? ""
            return true
        }
    }

    /// Forgets a create that failed; true when it had held an event back, which a round must
    /// then judge.
    static func failed(_ key: ObjectKey, in creates: LockedBox<[ObjectKey: OwnCreate]>) -> Bool {
        creates.withLock { $0.removeValueReleasingCapacity(forKey: key)?.heldBack != nil }
    }
}
