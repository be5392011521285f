/// A bounded table that lets strings decoded into caches share one copy of their storage.
///
/// Cached objects repeat many strings: timestamps to the second, condition and phase messages,
/// finalizers, label and annotation keys and values, a run's task template. Each decoded
/// separately, every copy is a heap allocation of its own for as long as the object is cached.
/// Strings of 16 bytes and more are looked up here by their bytes; a hit hands out the stored
/// string (one retain, no allocation). Shorter strings are stored inline by Swift and need no
/// sharing.
///
/// The table is direct-mapped: a miss replaces whatever string had the slot, so it never grows
/// past `slots` strings of at most `maxLength` bytes, and strings that stop recurring fall out
/// as new ones arrive. Sharing is invisible to callers: strings are values.
public final class SharedStrings: Sendable {
    /// The table informers decode with (`InformerOptions.shareStrings` in KubeRuntime), and
    /// the one the Pod status view shares its kept strings through.
    public static let shared = SharedStrings(slots: 4096, maxLength: 1024)

    /// A table for long strings that repeat whole: a TaskAction's `spec.taskTemplate` (2-5 KB
    /// for a Python task, the same for every action of a map task or a sweep) is past `shared`'s
    /// limit, and every TaskAction in flight would hold a copy. Few slots: there are few
    /// distinct templates in flight at once, and each lookup hashes the whole string.
    public static let long = SharedStrings(slots: 64, maxLength: 1 << 20)

    /// Strings shorter than this are small strings, stored inline without a heap allocation.
    static let minLength = 16
    let maxLength: Int
    private let table: DirectMappedTable<String>

    /// - Parameters:
    ///   - slots: rounded up to a power of two.
    ///   - maxLength: longer strings are not shared (each lookup hashes the bytes).
    public init(slots: Int, maxLength: Int) {
        self.maxLength = maxLength
        table = DirectMappedTable(slots: slots)
    }

    /// The string of `bytes` (valid UTF-8, no escapes), shared with earlier calls when it is in
    /// the table.
    public func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count >= Self.minLength, bytes.count <= maxLength else {
            return String(decoding: bytes, as: UTF8.self)
        }
        let slot = table.slot(forHash: Self.hash(bytes))
        if let hit = stored(bytes, slot: slot) { return hit }
        // Made outside the lock: the allocation and copy are the expensive part.
        let made = String(decoding: bytes, as: UTF8.self)
        table.store(made, in: slot)
        return made
    }

    /// `string` itself, or an equal string from the table that shares its storage, so a
    /// string decoded without the table can still be stored once.
    public func callAsFunction(_ string: String) -> String {
        let count = string.utf8.count
        guard count >= Self.minLength, count <= maxLength else { return string }
        var contiguous = string  // withUTF8 needs a var; a native string is contiguous already
        let slot = contiguous.withUTF8 { table.slot(forHash: Self.hash($0)) }
        if let hit = contiguous.withUTF8({ stored($0, slot: slot) }) { return hit }
        table.store(string, in: slot)
        return string
    }

    /// The string in `slot` if it holds `bytes`.
    private func stored(_ bytes: UnsafeBufferPointer<UInt8>, slot: Int) -> String? {
        table.value(in: slot) { stored in
            var stored = stored
            return stored.withUTF8 { $0.elementsEqual(bytes) }
        }
    }

    public func callAsFunction(_ string: String?) -> String? {
        string.map { self($0) }
    }

    /// FNV-1a over the bytes, eight at a time where it can: cheap next to the allocation it saves.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var i = 0
        let raw = UnsafeRawBufferPointer(bytes)
        while i + 8 <= bytes.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01b3
            h ^= h >> 29
            i += 8
        }
        while i < bytes.count {
            h = (h ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01b3
            i += 1
        }
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    /// Strings in the table now (for tests and benchmarks).
    public var count: Int { table.count }
}
