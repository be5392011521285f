import Synchronization

/// A boolean that tasks can wait to see become true: an informer's "synced", an elector's
/// "leading". ``wait()`` returns at once while it is set, and when the waiting task is
/// cancelled.
final class Flag: Sendable {
    private struct State {
        var isSet = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<UInt64> = []
    }

    private let state = Mutex(State())

    var isSet: Bool { state.withLock { $0.isSet } }

    /// Sets or clears the flag; setting it wakes every waiter.
    func set(_ value: Bool = true) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.isSet = value
            guard value else { return [] }
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the flag is set, or the task is cancelled.
    func wait() async {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.isSet || s.cancelled.remove(id) != nil { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                if let waiter = s.waiters.removeValue(forKey: id) { return waiter }
                s.cancelled.insert(id)
                return nil
            }
            waiter?.resume()
        }
    }
}
