import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import Testing

/// Lets other tasks run until `condition` holds; for unit tests on a ManualClock, where
/// progress needs only scheduling, not time.
func settle(_ condition: @Sendable () -> Bool, spins: Int = 20_000) async {
    for _ in 0..<spins where !condition() {
        await Task.yield()
    }
}

/// Records what a reconciler saw, for assertions.
final class ReconcileLog: Sendable {
    private let box = LockedBox<[String]>([])
    private let concurrent = LockedBox<(now: [String: Int], max: Int)>(([:], 0))

    func append(_ key: String) { box.withLock { $0.append(key) } }
    var entries: [String] { box.value }
    func count(_ key: String) -> Int { entries.filter { $0 == key }.count }

    func begin(_ key: String) {
        concurrent.withLock { c in
            c.now[key, default: 0] += 1
            c.max = max(c.max, c.now[key]!)
        }
    }
    func end(_ key: String) { concurrent.withLock { $0.now[key, default: 1] -= 1 } }
    var maxConcurrentPerKey: Int { concurrent.value.max }
}

func configMap(_ name: String, namespace: String = "default", labels: [String: String]? = nil, data: [String: String]? = nil) -> ConfigMap {
    ConfigMap(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels), data: data)
}
