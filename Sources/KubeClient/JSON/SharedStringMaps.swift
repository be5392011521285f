import Synchronization

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

    private let mask: Int
    private let table: Mutex<[[String: String]?]>

    /// - Parameter slots: rounded up to a power of two.
    public init(slots: Int) {
        var size = 1
        while size < slots { size <<= 1 }
        mask = size - 1
        table = Mutex([[String: String]?](repeating: nil, count: size))
    }

    /// `map` itself, or an equal map from the table that shares its storage.
    public func callAsFunction(_ map: [String: String]) -> [String: String] {
        guard !map.isEmpty else { return map }
        let slot = map.hashValue & mask
        return table.withLock { table in
            if let stored = table[slot], stored == map { return stored }
            table[slot] = map
            return map
        }
    }

    /// Maps in the table now (for tests).
    public var count: Int { table.withLock { $0.reduce(0) { $1 == nil ? $0 : $0 + 1 } } }
}
