extension Dictionary {
    /// Removes the value at `key`, as `removeValue(forKey:)` does, and gives storage back once
    /// the dictionary has become sparse.
    ///
    /// A Swift dictionary never shrinks: removing keys leaves its buckets allocated. The
    /// dictionaries keyed by what is in flight (queued keys, Pods just created, statuses held
    /// for coalescing) grow with a burst of TaskActions and, without this, keep the burst's
    /// high-water mark for the life of the process: measured with heaptrack after 2,000 at
    /// once, about 3 MiB of empty buckets (docs/benchmarks.md, "Burst-sized tables given
    /// back"). Once fewer than an eighth of the buckets it has room for are used, and it has
    /// room for more than 64, what is left moves into storage of its own size. The move costs
    /// O(count) and comes only after three quarters of the entries went since the last one,
    /// so it is amortised O(1) per removal.
    @discardableResult
    public mutating func removeValueReleasingCapacity(forKey key: Key) -> Value? {
        let removed = removeValue(forKey: key)
        if removed != nil { releaseCapacityIfSparse() }
        return removed
    }

    /// Moves the entries into storage of their own size once the dictionary is sparse.
    private mutating func releaseCapacityIfSparse() {
        guard isSparse(count: count, capacity: capacity) else { return }
        if isEmpty {
            self = [:]
            return
        }
        var smaller = Dictionary(minimumCapacity: count)
        for (key, value) in self { smaller[key] = value }
        self = smaller
    }
}

extension Set {
    /// Removes `member`, as `remove(_:)` does, and gives storage back once the set has become
    /// sparse (see `Dictionary.removeValueReleasingCapacity(forKey:)`).
    @discardableResult
    public mutating func removeReleasingCapacity(_ member: Element) -> Element? {
        let removed = remove(member)
        if removed != nil, isSparse(count: count, capacity: capacity) {
            // Not `Set(self)`: that shares the storage it would replace.
            var smaller = Set(minimumCapacity: count)
            for element in self { smaller.insert(element) }
            self = smaller
        }
        return removed
    }
}

/// When a table should give its room back: fewer than an eighth of it used, and room for more
/// than 64 entries (below that, the move would cost more than the room it frees).
private func isSparse(count: Int, capacity: Int) -> Bool {
    capacity > 64 && count < capacity / 8
}
