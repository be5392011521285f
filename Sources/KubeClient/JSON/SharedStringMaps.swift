/// A bounded table that lets equal string maps kept in caches share one storage: the labels
/// and annotations a Pod's status view keeps, and the annotations of objects decoded for a cache.
///
/// A dictionary of one entry is a heap allocation of about 110 bytes, kept for as long as its
/// object is cached. The maps a cache keeps of its children repeat: every Pod of a first attempt
/// keeps `attempt: "0"`, and the Pods of a k8s_pod task name the same primary container. At 5,000
/// TaskActions the two maps of their Pods were about 1.1 MiB of the executor's heap. The actions
/// of one run inherit its annotations, so a fan-out's TaskActions carry equal ones too. A map looked
/// up here and found equal to the stored one is handed out as that one (one retain, no copy).
///
/// Direct-mapped like ``SharedStrings``: a miss replaces the slot's map, so the table never holds
/// more than `slots` maps, and sharing is invisible to callers (maps are values).
public final class SharedStringMaps: Sendable {
    /// The table the Pod status view shares its kept labels and annotations through, and
    /// objects decoded for a cache (``JSONReader/sharedStrings`` set) their annotations.
    public static let shared = SharedStringMaps(slots: 256)

    private let table: DirectMappedTable<[String: String]>

    /// - Parameter slots: rounded up to a power of two.
    public init(slots: Int) {
        table = DirectMappedTable(slots: slots)
    }

    /// `map` itself, or an equal map from the table that shares its storage.
    public func callAsFunction(_ map: [String: String]) -> [String: String] {
        guard !map.isEmpty else { return map }
        return table.value(in: table.slot(forHash: map.hashValue), where: { $0 == map }, orStoring: map)
    }

    /// Maps in the table now (for tests).
    public var count: Int { table.count }
}
