/// 32-bit FNV-1a, as Go's `hash/fnv.New32a`.
public func fnv1a32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var hash: UInt32 = 2_166_136_261
    for byte in bytes {
        hash ^= UInt32(byte)
        hash = hash &* 16_777_619
    }
    return hash
}

public func fnv1a32(_ string: String) -> UInt32 { fnv1a32(string.utf8) }
