/// A bounded table that lets equal values kept in caches share one storage: the labels and
/// annotations a Pod's status view keeps, a run's annotations on its TaskActions, the
/// conditions of TaskActions that finished alike.
///
/// A dictionary of one entry is a heap allocation of about 110 bytes, an array of two conditions
/// one of about 220, kept for as long as its object is cached. The maps and arrays a cache keeps
/// repeat: every Pod of a first attempt keeps `attempt: "0"`, the actions of one run inherit its
/// annotations, and TaskActions that succeeded within one second carry equal conditions once
/// their messages are dropped. A value looked up here and found equal to the stored one is
/// handed out as that one (one retain, no copy).
///
/// Direct-mapped like ``SharedStrings``: a miss replaces the slot's value, so the table never
/// holds more than `slots` values, and sharing is invisible to callers (they are values).
/// Only values whose storage is on the heap gain from it: arrays, dictionaries, sets.
public final class SharedValues<Value: Hashable & Sendable>: Sendable {
    private let table: DirectMappedTable<Value>
    private let hash: @Sendable (Value) -> Int

    /// - Parameters:
    ///   - slots: rounded up to a power of two.
    ///   - hash: picks a value's slot; equal values must hash alike. `hashValue` unless given.
    public init(slots: Int, hash: @escaping @Sendable (Value) -> Int = { $0.hashValue }) {
        table = DirectMappedTable(slots: slots)
        self.hash = hash
    }

    /// `value` itself, or an equal value from the table that shares its storage.
    public func callAsFunction(_ value: Value) -> Value {
        table.value(in: table.slot(forHash: hash(value)), where: { $0 == value }, orStoring: value)
    }

    /// Values in the table now (for tests).
    public var count: Int { table.count }
}

/// Equal string maps sharing one storage (``SharedValues``).
public typealias SharedStringMaps = SharedValues<[String: String]>

/// The table the Pod status view shares its kept labels and annotations through, and a
/// TaskAction decoded for a cache its annotations. A global, as a generic class cannot have
/// a static stored property.
private let sharedStringMaps = SharedStringMaps.table(slots: 256)

extension SharedValues where Value == [String: String] {
    /// The process's table of string maps.
    public static var shared: SharedStringMaps { sharedStringMaps }

    /// A table of string maps that picks slots with ``hash(_:)``.
    public static func table(slots: Int) -> SharedStringMaps {
        SharedStringMaps(slots: slots, hash: hash)
    }

    /// A string map's hash, independent of its order as `Dictionary`'s own is. `Dictionary`'s
    /// `hashValue` runs generic code (the standard library does not specialize it here): it
    /// looks up the `(key, value)` tuple's metadata and copies each element through value
    /// witnesses, 0.6% of the executor's CPU under load, where every Pod watch event's status
    /// view shares a map or two of one entry.
    public static func hash(_ map: [String: String]) -> Int {
        var combined = map.count
        for (key, value) in map {
            var hasher = Hasher()
            hasher.combine(key)
            hasher.combine(value)
            combined ^= hasher.finalize()
        }
        return combined
    }
}
