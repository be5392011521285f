import Synchronization

/// The slots of a bounded sharing table (``SharedStrings``, ``SharedValues``): a fixed,
/// power-of-two number of slots, each holding at most one value, behind one lock.
///
/// Direct-mapped: a value's hash picks its slot, and storing replaces whatever the slot held, so
/// the table never holds more than its slot count and values that stop recurring fall out as new
/// ones arrive.
struct DirectMappedTable<Value: Sendable>: ~Copyable, Sendable {
    private let mask: Int
    private let slots: Mutex<[Value?]>

    /// - Parameter slots: rounded up to a power of two.
    init(slots: Int) {
        var size = 1
        while size < slots { size <<= 1 }
        mask = size - 1
        self.slots = Mutex([Value?](repeating: nil, count: size))
    }

    /// The slot for a value of this hash.
    func slot(forHash hash: Int) -> Int { hash & mask }

    /// The value in `slot` when `matches` says it is the one looked for.
    func value(in slot: Int, where matches: (Value) -> Bool) -> Value? {
        slots.withLock { slots in
            guard let stored = slots[slot], matches(stored) else { return nil }
            return stored
        }
    }

    /// The value in `slot` when `matches` says so; otherwise `value`, now stored in the slot.
    func value(in slot: Int, where matches: (Value) -> Bool, orStoring value: Value) -> Value {
        slots.withLock { slots in
            if let stored = slots[slot], matches(stored) { return stored }
            slots[slot] = value
            return value
        }
    }

    func store(_ value: Value, in slot: Int) {
        slots.withLock { $0[slot] = value }
    }

    /// Values held now.
    var count: Int { slots.withLock { $0.reduce(0) { $1 == nil ? $0 : $0 + 1 } } }
}
