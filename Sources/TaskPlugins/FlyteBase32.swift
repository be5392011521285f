/// Flyte's base32: Go's `base32.NewEncoding("abcdefghijklmnopqrstuvwxyz123456").WithPadding(NoPadding)`
/// (`flyteplugins/.../pluginmachinery/encoding`), which names children past a plugin's length cap
/// and encodes the `flyte.secrets/s<N>` annotations.
public enum FlyteBase32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz123456".utf8)

    /// The bytes as one bit stream, five bits a character, the last one filled with zero bits:
    /// what Go's encoder writes for whole and partial 5-byte blocks alike, without padding.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
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

    /// The bytes `encode` wrote, as Go's decoder reads unpadded text: whole 5-bit groups, the
    /// bits past the last whole byte dropped. Nil for a character outside the alphabet.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - UInt8(ascii: "a")
            case UInt8(ascii: "1")...UInt8(ascii: "6"): value = 26 + character - UInt8(ascii: "1")
            default: return nil
            }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        return out
    }
}
