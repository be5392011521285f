import Synchronization

/// The ID of one reconcile, in the UUID form controller-runtime logs (`reconcileID`).
///
/// Formatted only when read: a controller makes one per round, and `UUID()` plus its string
/// (a random draw and a formatting per round) showed as about 3% of the executor's CPU under
/// load, for a value that is logged only when something goes wrong.
public struct ReconcileID: Sendable, Hashable, CustomStringConvertible {
    enum Storage: Sendable, Hashable {
        case generated(high: UInt64, low: UInt64)
        case given(String)
    }

    let storage: Storage

    /// An ID given by the caller (tests, a reconcile run by hand).
    public init(_ value: String) { storage = .given(value) }

    init(high: UInt64, low: UInt64) { storage = .generated(high: high, low: low) }

    /// Lowercase `xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx`.
    public var description: String {
        switch storage {
        case .given(let value):
            return value
        case .generated(let high, let low):
            let digits = Array("0123456789abcdef".utf8)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(36)
            for (index, word) in [high, low].enumerated() {
                for nibble in stride(from: 60, through: 0, by: -4) {
                    let position = index * 16 + (60 - nibble) / 4
                    if position == 8 || position == 12 || position == 16 || position == 20 { bytes.append(UInt8(ascii: "-")) }
                    bytes.append(digits[Int((word >> UInt64(nibble)) & 0xF)])
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// Makes ``ReconcileID``s unique within the process and unlikely to repeat across processes:
/// a random 122-bit start (as a version-4 UUID has), then a counter. One draw per controller.
final class ReconcileIDGenerator: Sendable {
    private let high: UInt64
    private let salt: UInt64
    private let counter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        // Version 4 in the third group, variant 10 in the fourth: what `UUID(uuidString:)`
        // and log tooling expect of a random UUID.
        high = (generator.next() & ~0xF000) | 0x4000
        salt = generator.next()
    }

    func next() -> ReconcileID {
        let count = counter.add(1, ordering: .relaxed).newValue
        // XOR with a fixed salt is a bijection on the 62 low bits: distinct counts stay distinct.
        let low = ((count ^ salt) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return ReconcileID(high: high, low: low)
    }
}
