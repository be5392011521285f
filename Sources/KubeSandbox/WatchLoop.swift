import KubeClient

/// How the sandbox's simulated controllers follow a kind: list, then watch from the list's
/// version, and start over after any error (a 410 included), until cancelled.
enum WatchLoop {
    static func run<T: KubernetesObject>(_ client: KubernetesClient, _ type: T.Type, labelSelector: String? = nil, _ handle: @Sendable (WatchEvent<T>) async -> Void) async {
        while !Task.isCancelled {
            do {
                let list = try await client.list(T.self, options: ListOptions(labelSelector: labelSelector))
                for item in list.items { await handle(.added(item)) }
                let stream = try await client.watch(T.self, options: WatchOptions(labelSelector: labelSelector, resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 300))
                for try await event in stream { await handle(event) }
            } catch {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
