import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntime

/// A TaskAction's coalescing record: when its status was last written, and the status that
/// rounds have built since without writing it (their ActionEvents are sent), with the
/// resourceVersion of the object that status was built on.
struct HeldStatus: Sendable {
    var lastWrite: Date
    /// The widest coalescing window asked for since `lastWrite`, in seconds.
    private(set) var window: Double = 0
    /// The held status and its base, boxed: records are kept per TaskAction in flight, most
    /// hold nothing, and a table of them keeps empty buckets.
    private var held: Box<(status: TaskActionStatus, base: String?)>?
    /// Built, not written yet; nil when nothing is held.
    var pending: TaskActionStatus? { held?.value.status }
    /// The version `pending` extends: it may only be written against that version.
    var base: String? { held?.value.base }

    init(lastWrite: Date) {
        self.lastWrite = lastWrite
    }

    /// Holds `status`, built on the object at `version`.
    mutating func hold(_ status: TaskActionStatus, extending version: String?) {
        held = Box((status, version))
    }

    /// When a status held now is due to be written: `lastWrite` plus the widest window asked
    /// for since then, `current` included. The window follows the TaskActions in flight, which
    /// fall as a burst drains; were it measured afresh at each round, the actions that waited
    /// longest (their Pods still pending behind the burst) would find it narrowed under them and
    /// all be written at once, just as the burst's completions load the API server. A window,
    /// once widened, stays until the next write, so a drain or a faster executor adds no writes.
    mutating func due(window current: Double) -> Date {
        window = max(window, current)
        return lastWrite.addingTimeInterval(window)
    }

    /// Forgets the held status; the time of the last write stays.
    mutating func drop() {
        held = nil
    }
}
