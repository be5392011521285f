/// Flyte's base32: Go's `base32.NewEncoding("abcdefghijklmnopqrstuvwxyz123456").WithPadding(NoPadding)`
/// (`flyteplugins/.../pluginmachinery/encoding`), which names children past a plugin's length cap
/// and encodes the `flyte.secrets/s<N>` annotations.
enum FlyteBase32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz123456".utf8)

    /// The bytes as one bit stream, five bits a character, the last one filled with zero bits:
    /// what Go's encoder writes for whole and partial 5-byte blocks alike, without padding.
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 8 / 5 + 1)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
