/// 32-bit FNV-1a, as Go's `hash/fnv.New32a`.
public func fnv1a32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var hash = FNV1a32()
    hash.combine(bytes)
    return hash.value
}

public func fnv1a32(_ string: String) -> UInt32 { fnv1a32(string.utf8) }

/// 32-bit FNV-1a over several pieces, without joining them first.
public struct FNV1a32: Sendable {
    public private(set) var value: UInt32 = 2_166_136_261

    public init() {}

    public mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value ^= UInt32(byte)
            value = value &* 16_777_619
        }
    }
}
