import Crypto
import KubeClient

/// Ben Laurie's objecthash over a JSON document, as `github.com/benlaurie/objecthash/go`'s
/// `CommonJSONHash` computes it: every value is tagged and hashed with SHA-256 (`n` null, `b`
/// bool, `u` string, `f` number, `l` list, `d` object), an object's (key, value) hash pairs
/// are sorted by the key's hash, and every number is a float64, as Go's `encoding/json` reads
/// it. Flyte hashes task cache keys with it (`flytestdlib/pbhash`), so this must agree bit for
/// bit: the tests hold it to Flyte's own vectors.
public enum ObjectHash {
    /// Thrown for a number objecthash cannot normalise (its mantissa runs past 1,000 digits).
    public struct Unhashable: Error, CustomStringConvertible {
        public let value: Double
        public var description: String { "objecthash: could not normalize float \(value)" }
    }

    /// The 32-byte hash of `value`.
    public static func digest(_ value: JSONValue) throws -> [UInt8] {
        switch value {
        case .null: return tagged("n", [])
        case .bool(let b): return tagged("b", b ? [0x31] : [0x30])
        case .string(let s): return tagged("u", Array(s.utf8))
        case .int(let i): return try float(Double(i))
        case .double(let d): return try float(d)
        case .array(let items):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(items.count * 32)
            for item in items { bytes += try digest(item) }
            return tagged("l", bytes)
        case .object(let members):
            var pairs: [(key: [UInt8], value: [UInt8])] = []
            pairs.reserveCapacity(members.count)
            for (key, member) in members { pairs.append((tagged("u", Array(key.utf8)), try digest(member))) }
            pairs.sort { $0.key.lexicographicallyPrecedes($1.key) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(pairs.count * 64)
            for pair in pairs { bytes += pair.key + pair.value }
            return tagged("d", bytes)
        }
    }

    static func tagged(_ tag: Character, _ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [tag.asciiValue!])
        hasher.update(data: bytes)
        return Array(hasher.finalize())
    }

    static func float(_ value: Double) throws -> [UInt8] {
        let normalized: String
        if value.isNaN {
            normalized = "NaN"
        } else if value.isInfinite {
            normalized = value > 0 ? "Infinity" : "-Infinity"
        } else {
            normalized = try normalize(value)
        }
        return tagged("f", Array(normalized.utf8))
    }

    /// objecthash's float normal form: sign, binary exponent, `:`, then the mantissa's bits
    /// (in [0.5, 1)) written out. Zero of either sign is `+0:`.
    static func normalize(_ original: Double) throws -> String {
        if original == 0 { return "+0:" }
        var f = original
        var s = "+"
        if f < 0 {
            s = "-"
            f = -f
        }
        var exponent = 0
        while f > 1 {
            f /= 2
            exponent += 1
        }
        while f <= 0.5 {
            f *= 2
            exponent -= 1
        }
        s += "\(exponent):"
        guard f <= 1, f > 0.5 else { throw Unhashable(value: original) }
        while f != 0 {
            if f >= 1 {
                s += "1"
                f -= 1
            } else {
                s += "0"
            }
            guard f < 1, s.utf8.count < 1000 else { throw Unhashable(value: original) }
            f *= 2
        }
        return s
    }
}
