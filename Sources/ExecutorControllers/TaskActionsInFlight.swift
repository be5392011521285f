import ExecutorAPI
import KubeRuntime
import Synchronization

/// How many task TaskActions the informers hold that have not ended: each has status writes
/// ahead of it, which is what the coalescing window shares out
/// (``TaskActionReconciler/coalescingWindow(_:inFlight:)``). Kept from the informers' events, so
/// a read costs nothing and the count includes the actions no round has reached yet: when a
/// burst is created at once, its first actions see the whole burst and not only the few started
/// before them. Condition actions do not count: they write once, when signalled or timed out.
final class TaskActionsInFlight: Sendable {
    private let count = Atomic<Int>(0)

    /// The TaskActions in flight now.
    var value: Int { max(0, count.load(ordering: .relaxed)) }

    /// Whether `taskAction` counts.
    static func counts(_ taskAction: TaskAction) -> Bool {
        !taskAction.isTerminal && taskAction.spec.actionType != "condition"
    }

    /// Follows one informer event. A relist's events are changes to the store too (additions,
    /// updates from the stored object, removals of the stored object), so the count follows them.
    func apply(_ event: InformerEvent<TaskAction>) {
        let delta = switch event {
        case .added(let object, _): Self.counts(object) ? 1 : 0
        case .updated(let old, let new): (Self.counts(new) ? 1 : 0) - (Self.counts(old) ? 1 : 0)
        case .deleted(let object): Self.counts(object) ? -1 : 0
        }
        if delta != 0 { count.add(delta, ordering: .relaxed) }
    }
}
