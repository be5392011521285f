import Foundation
import KubeClient
import Synchronization

/// Formats times to the second (`metav1.Time`, `2006-01-02T15:04:05Z`), handing out one string
/// per second: calls within the same second share its storage.
///
/// A timestamp's 20 bytes are a heap allocation of their own, and every transition and
/// condition of a status carries one. Under a burst, thousands of statuses are held for
/// coalescing at once, stamped within a few seconds: at 5,000 TaskActions at once their
/// copies were about 0.6 MiB of the executor's peak heap.
public final class SecondStamps: Sendable {
    /// The stamps of TaskAction statuses (``TaskActionTime/seconds(_:)``).
    public static let shared = SecondStamps()

    /// The second last formatted and its text.
    private let last = Mutex<(second: Double, text: String)?>(nil)

    public init() {}

    /// `date` formatted to the second, the string of the last call if it was the same second.
    public func text(_ date: Date) -> String {
        let second = date.timeIntervalSince1970.rounded(.down)
        if let hit = last.withLock({ $0?.second == second ? $0?.text : nil }) { return hit }
        let text = KubeTime.format(date)
        last.withLock { $0 = (second, text) }
        return text
    }
}
