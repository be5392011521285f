import Synchronization

/// Hands out one shared instance of equal strings, so thousands of cached objects that carry
/// the same namespace, finalizer or annotation key hold one buffer between them instead of
/// one each. Strings of 15 UTF-8 bytes or fewer live inline in Swift and are returned as they
/// are. The table is bounded; past `capacity` distinct strings new ones are not interned.
public final class StringInterner: Sendable {
    private let table = Mutex(Set<String>())
    public let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    public func callAsFunction(_ string: String) -> String {
        guard string.utf8.count > 15 else { return string }
        return table.withLock { set in
            if let index = set.firstIndex(of: string) { return set[index] }
            if set.count < capacity { set.insert(string) }
            return string
        }
    }

    public func callAsFunction(_ string: String?) -> String? {
        string.map { self($0) }
    }

    public var count: Int { table.withLock { $0.count } }
}
