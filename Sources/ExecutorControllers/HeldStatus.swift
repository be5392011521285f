import ExecutorAPI
import Foundation

/// A TaskAction's coalescing record: when its status was last written, and the status that
/// rounds have built since without writing it (their ActionEvents are sent), with the
/// resourceVersion of the object that status was built on.
struct HeldStatus: Sendable {
    var lastWrite: Date
    /// Built, not written yet; nil when nothing is held.
    private(set) var pending: TaskActionStatus?
    /// The version `pending` extends: it may only be written against that version.
    private(set) var base: String?

    init(lastWrite: Date) {
        self.lastWrite = lastWrite
    }

    /// Holds `status`, built on the object at `version`.
    mutating func hold(_ status: TaskActionStatus, extending version: String?) {
        pending = status
        base = version
    }

    /// Forgets the held status; the time of the last write stays.
    mutating func drop() {
        pending = nil
        base = nil
    }
}
