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

    /// - Parameter slots: rounded up to a power of two.
    public init(slots: Int) {
        table = DirectMappedTable(slots: slots)
    }

    /// `value` itself, or an equal value from the table that shares its storage.
    public func callAsFunction(_ value: Value) -> Value {
        table.value(in: table.slot(forHash: value.hashValue), where: { $0 == value }, orStoring: value)
    }

    /// Values in the table now (for tests).
    public var count: Int { table.count }
}

/// Equal string maps sharing one storage (``SharedValues``).
public typealias SharedStringMaps = SharedValues<[String: String]>

/// The table the Pod status view shares its kept labels and annotations through, and a
/// TaskAction decoded for a cache its annotations. A global, as a generic class cannot have
/// a static stored property.
private let sharedStringMaps = SharedStringMaps(slots: 256)

extension SharedValues where Value == [String: String] {
    /// The process's table of string maps.
    public static var shared: SharedStringMaps { sharedStringMaps }
}
