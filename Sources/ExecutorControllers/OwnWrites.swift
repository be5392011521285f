import KubeRuntime

/// What the reconciler's writes of one TaskAction left behind, until the cache catches up, and
/// the writes still unanswered.
///
/// A write's watch event and its answer travel on different connections and come in either
/// order. The answer first: its version is noted (`produced`), and the event of that version
/// wakes no round. The event first: while a write is unanswered (`inFlight`), every event
/// that is not plainly ours is held back (`heldBack`); the answer then says whether it was the
/// write's own (nothing missed) or another's (the writing round must run again at once).
/// Without the hold, the echo of a write answered late found nothing noted and woke a round
/// that had nothing to do.
struct OwnWrites: Sendable {
    /// The resourceVersions our writes were based on. While the cache shows one of them, a
    /// round would act on a state we already changed (and meet a 409), so it stops and waits
    /// for the watch event of our last write. A round that goes on from the object its own
    /// write returned adds each version it leaves behind. Rarely more than two, so an array:
    /// a set of one cost twice its bytes, kept per TaskAction in flight.
    var superseded: [String] = []
    /// The resourceVersion our last write produced, from the server's answer.
    var produced: String?
    /// Whether that write left the TaskAction terminal: until the cache shows it, events need
    /// no round (``TaskActionReconciler/needsRound(_:)``).
    var producedTerminal = false
    /// Whether a round stopped at a superseded version since: the event of `produced` must
    /// then run it again.
    var awaited = false
    /// Writes sent and not answered yet (one at a time: a round writes in turn, and rounds of
    /// one TaskAction do not overlap).
    var inFlight = 0
    /// The versions of events that came while a write was unanswered and were held back.
    var heldBack: [String] = []

    /// Notes that a write of `key` is being sent.
    static func sending(_ key: ObjectKey, in writes: inout [ObjectKey: OwnWrites]) {
        writes[key, default: OwnWrites()].inFlight += 1
    }

    /// Whether the update event of `key` at `version` needs a round: not when it is the event
    /// of a version our writes superseded (a round would find it stale and stop), nor of our
    /// last write (its round built that object from a cache that had every other change then;
    /// a change after it has an event of its own), nor while a write is unanswered (held back
    /// for its answer to judge). When a round stopped at a stale version meanwhile (woken by
    /// something else), the last write's event passes, so that round runs again. Anyone else's
    /// write passes.
    static func eventNeedsRound(_ key: ObjectKey, version: String, in writes: inout [ObjectKey: OwnWrites]) -> Bool {
        guard let own = writes[key] else { return true }
        if own.superseded.contains(version) { return false }
        if own.produced == version {
            // A later write of ours is unanswered: its answer supersedes this version.
            if own.inFlight > 0 { return false }
            // The cache now holds our last write: no version left to wait for.
            writes.removeValueReleasingCapacity(forKey: key)
            return own.awaited
        }
        if own.inFlight > 0 {
            writes[key]!.heldBack.append(version)
            return false
        }
        return true
    }

    /// Notes the answer to a write of `key` that was based on `base` and made `produced` (nil
    /// when the answer did not say), a terminal status if `terminal`. True when an event held
    /// back meanwhile was not the write's own, or a round stopped at a stale version awaits
    /// it: the writing round must then run again at once.
    static func answered(_ key: ObjectKey, base: String?, produced: String?, terminal: Bool, in writes: inout [ObjectKey: OwnWrites]) -> Bool {
        var own = writes[key] ?? OwnWrites()
        own.inFlight = max(0, own.inFlight - 1)
        if let base, !own.superseded.contains(base) { own.superseded.append(base) }
        own.produced = produced
        own.producedTerminal = terminal && produced != nil
        guard own.inFlight == 0, !own.heldBack.isEmpty else {
            writes[key] = own
            return false
        }
        let held = own.heldBack
        own.heldBack = []
        let another = held.contains { $0 != produced && !own.superseded.contains($0) }
        if let produced, held.contains(produced) {
            // The cache already holds our write, as when its event is dropped.
            writes.removeValueReleasingCapacity(forKey: key)
            return another || own.awaited
        }
        writes[key] = own
        return another
    }

    /// Notes that a write of `key` failed (no answer, or an error). True when an event was
    /// held back meanwhile: the writing round must run again for it.
    static func failed(_ key: ObjectKey, in writes: inout [ObjectKey: OwnWrites]) -> Bool {
        guard var own = writes[key] else { return false }
        own.inFlight = max(0, own.inFlight - 1)
        guard own.inFlight == 0 else {
            writes[key] = own
            return false
        }
        let held = !own.heldBack.isEmpty
        own.heldBack = []
        if own.superseded.isEmpty, own.produced == nil {
            writes.removeValueReleasingCapacity(forKey: key)
        } else {
            writes[key] = own
        }
        return held
    }
}
