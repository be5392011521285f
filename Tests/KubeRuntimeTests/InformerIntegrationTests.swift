import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Testing

/// Informers against KubeSandbox: the store must converge to the server's state whatever
/// happens to the watch.
@Suite("Informer against the sandbox")
struct InformerIntegrationTests {
    /// Fast reconnects so fault tests finish quickly; the schedule itself is unit-tested.
    static var fastOptions: InformerOptions {
        var options = InformerOptions()
        options.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        options.pageSize = 7
        return options
    }

    /// Runs an informer over config maps while `body` runs.
    static func withInformer(_ client: KubernetesClient, scope: InformerScope = InformerScope(namespace: "default"), options: InformerOptions = fastOptions, indexers: [String: IndexFunction<ConfigMap>] = [:], _ body: (Informer<ConfigMap>) async throws -> Void) async throws {
        let informer = Informer<ConfigMap>(client: client, scope: scope, options: options, indexers: indexers)
        let task = Task { await informer.run() }
        defer { task.cancel() }
        try await body(informer)
        task.cancel()
        await task.value
    }

    /// The portable tests' config maps carry this label and their informers select it: a real
    /// cluster puts a config map of its own (`kube-root-ca.crt`) in every namespace.
    static let portable = ["test": "informer"]
    static func portableScope(_ namespace: String) -> InformerScope { InformerScope(namespace: namespace, labelSelector: "test=informer") }

    /// The server's config maps in `namespace` (those `labelSelector` selects), as name → data.
    static func serverState(_ client: KubernetesClient, namespace: String = "default", labelSelector: String? = nil) async throws -> [String: [String: String]] {
        let list = try await client.list(ConfigMap.self, namespace: namespace, options: ListOptions(labelSelector: labelSelector))
        return Dictionary(uniqueKeysWithValues: list.items.map { ($0.metadata.name ?? "", $0.data ?? [:]) })
    }

    static func storeState(_ informer: Informer<ConfigMap>) -> [String: [String: String]] {
        Dictionary(uniqueKeysWithValues: informer.store.list().map { ($0.metadata.name ?? "", $0.data ?? [:]) })
    }

    /// Waits until the store equals the server's state (read again on each try, since the
    /// test's own reads may meet the same injected faults).
    static func converges(_ informer: Informer<ConfigMap>, _ client: KubernetesClient, _ what: String) async throws {
        try await eventually(what) {
            guard let expected = try? await serverState(client, namespace: informer.scope.namespace ?? "default", labelSelector: informer.scope.labelSelector) else { return false }
            return storeState(informer) == expected
        }
    }

    @Test("lists in pages, syncs, and follows creates, updates and deletes")
    func follows() async throws {
        try await TestCluster.with { cluster in
            let client = cluster.client, namespace = cluster.namespace
            for i in 0..<20 { _ = try await client.create(configMap("cm-\(i)", namespace: namespace, labels: Self.portable, data: ["v": "0"])) }
            try await Self.withInformer(client, scope: Self.portableScope(namespace)) { informer in
                await informer.waitForSync()
                #expect(informer.hasSynced)
                #expect(informer.store.count == 20)
                _ = try await client.create(configMap("new", namespace: namespace, labels: Self.portable))
                var changed = try await client.get(ConfigMap.self, name: "cm-3", namespace: namespace)
                changed.data = ["v": "1"]
                _ = try await client.update(changed)
                try await client.delete(ConfigMap.self, name: "cm-4", namespace: namespace)
                try await Self.converges(informer, client, "creates, updates and deletes")
                #expect(informer.store.get(namespace: namespace, name: "cm-3")?.data == ["v": "1"])
                #expect(informer.store.get(namespace: namespace, name: "cm-4") == nil)
            }
        }
    }

    @Test("strips managedFields before storing")
    func stripsManagedFields() async throws {
        try await TestCluster.with { cluster in
            let client = cluster.client, namespace = cluster.namespace
            // Server-side apply records managedFields (the sandbox records them only for apply).
            let created = try await client.patch(ConfigMap.self, name: "a", namespace: namespace, .apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a", "namespace": .string(namespace)], "data": ["k": "v"]], fieldManager: "test"))
            #expect(created.metadata.managedFields?.isEmpty == false)
            try await Self.withInformer(client, scope: InformerScope(namespace: namespace)) { informer in
                await informer.waitForSync()
                #expect(informer.store.get(namespace: namespace, name: "a")?.metadata.managedFields == nil)
                _ = try await client.patch(ConfigMap.self, name: "b", namespace: namespace, .apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "b", "namespace": .string(namespace)]], fieldManager: "test"))
                try await eventually("b cached") { informer.store.get(namespace: namespace, name: "b") != nil }
                #expect(informer.store.get(namespace: namespace, name: "b")?.metadata.managedFields == nil)
            }
        }
    }

    @Test("converges after dropped watches")
    func droppedWatches() async throws {
        try await KubeSandbox.with { sandbox, client in
            try await Self.withInformer(client) { informer in
                await informer.waitForSync()
                for round in 0..<5 {
                    _ = try await client.create(configMap("r\(round)"))
                    await sandbox.closeAllWatches()
                    _ = try await client.create(configMap("after-drop-\(round)"))
                }
                try await Self.converges(informer, client, "state after dropped watches")
            }
        }
    }

    @Test("relists after a 410 in mid-watch and reports deletions it missed")
    func goneMidWatch() async throws {
        try await KubeSandbox.with { sandbox, client in
            for i in 0..<5 { _ = try await client.create(configMap("keep-\(i)")) }
            _ = try await client.create(configMap("doomed"))
            try await Self.withInformer(client) { informer in
                let deleted = LockedBox<[String]>([])
                informer.addHandler { event in
                    if case .deleted(let o) = event { deleted.withLock { $0.append(o.metadata.name ?? "") } }
                }
                await informer.waitForSync()
                #expect(informer.listCount == 1)
                // Keep the informer from reconnecting while the world changes and the history it
                // would resume from is compacted away; then let it back in to meet a 410.
                await sandbox.faults.failNext(100_000, code: 503, method: "GET", pathContains: "configmaps")
                await sandbox.closeAllWatches()
                try await client.delete(ConfigMap.self, name: "doomed", namespace: "default")
                _ = try await client.create(configMap("born-in-gap"))
                await sandbox.compactHistory()
                await sandbox.faults.reset()
                try await Self.converges(informer, client, "state after 410")
                #expect(informer.listCount == 2)
                try await eventually("deletion reported") { deleted.value.contains("doomed") }
            }
        }
    }

    @Test("converges after an API server restart")
    func serverRestart() async throws {
        try await KubeSandbox.with { sandbox, client in
            try await Self.withInformer(client) { informer in
                _ = try await client.create(configMap("before"))
                await informer.waitForSync()
                try await eventually("before cached") { informer.store.count == 1 }
                await sandbox.stop()
                try await Task.sleep(for: .milliseconds(100))
                try await sandbox.restart()
                _ = try await client.create(configMap("after"))
                try await Self.converges(informer, client, "state after restart")
            }
        }
    }

    @Test("converges through a storm of 429s")
    func tooManyRequests() async throws {
        try await KubeSandbox.with { sandbox, client in
            try await Self.withInformer(client) { informer in
                await informer.waitForSync()
                // Every list and watch call fails for a while; the informer keeps retrying.
                await sandbox.faults.failNext(30, code: 429, retryAfterSeconds: 0, method: "GET", pathContains: "configmaps")
                await sandbox.closeAllWatches()
                for i in 0..<5 { _ = try await client.create(configMap("storm-\(i)")) }
                try await Self.converges(informer, client, "state after 429 storm")
                // No GET could succeed before the storm was spent: the informer went through it.
                #expect(await sandbox.faults.servedCount(code: 429) == 30)
            }
        }
    }

    @Test("scopes by namespace and label selector")
    func scoping() async throws {
        try await TestCluster.with { cluster in
            let client = cluster.client, namespace = cluster.namespace
            let other = namespace + "-other"
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: other)))
            _ = try await client.create(configMap("mine", namespace: namespace, labels: ["flyte.org/managed": "true"]))
            _ = try await client.create(configMap("not-mine", namespace: namespace))
            _ = try await client.create(configMap("elsewhere", namespace: other, labels: ["flyte.org/managed": "true"]))
            try await Self.withInformer(client, scope: InformerScope(namespace: namespace, labelSelector: "flyte.org/managed=true")) { informer in
                await informer.waitForSync()
                #expect(informer.store.keys == [ObjectKey(namespace: namespace, name: "mine")])
                _ = try await client.create(configMap("later", namespace: namespace, labels: ["flyte.org/managed": "true"]))
                _ = try await client.create(configMap("later-unlabelled", namespace: namespace))
                try await eventually("later cached") { informer.store.count == 2 }
                #expect(Set(informer.store.keys.map(\.description)) == ["\(namespace)/mine", "\(namespace)/later"])
            }
            _ = try? await client.delete(Namespace.self, name: other)
        }
    }

    @Test("indexes by owner uid")
    func ownerIndex() async throws {
        try await TestCluster.with { cluster in
            let client = cluster.client, namespace = cluster.namespace
            let owner = try await client.create(configMap("owner", namespace: namespace))
            let ref = OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid ?? "", controller: true)
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "child", namespace: namespace, ownerReferences: [ref])))
            try await Self.withInformer(client, scope: InformerScope(namespace: namespace), indexers: [Indexers.ownerUID: Indexers.byOwnerUID()]) { informer in
                await informer.waitForSync()
                #expect(informer.store.byIndex(Indexers.ownerUID, owner.metadata.uid ?? "").map(\.metadata.name) == ["child"])
                try await client.delete(ConfigMap.self, name: "child", namespace: namespace)
                try await eventually("child unindexed") { informer.store.byIndex(Indexers.ownerUID, owner.metadata.uid ?? "").isEmpty }
            }
        }
    }

    @Test("shares one informer and one watch per resource and scope")
    func shared() async throws {
        try await KubeSandbox.with { sandbox, client in
            let factory = SharedInformerFactory(client: client, options: Self.fastOptions)
            let a = factory.informer(ConfigMap.self, scope: InformerScope(namespace: "default"))
            let b = factory.informer(ConfigMap.self, scope: InformerScope(namespace: "default"))
            let c = factory.informer(ConfigMap.self, scope: InformerScope(namespace: "default", labelSelector: "x=y"))
            #expect(a === b)
            #expect(a !== c)
            let task = Task { await factory.run() }
            await factory.waitForSync()
            try await eventually("two watches open") { await sandbox.openWatchCount() == 2 }
            // One asked for after the start runs too.
            let d = factory.informer(Lease.self, scope: InformerScope(namespace: "default"))
            await d.waitForSync()
            #expect(factory.hasSynced)
            task.cancel()
            await task.value
        }
    }

    @Test("a relist keeps the stored value of unchanged objects")
    func relistSharesUnchanged() async throws {
        try await KubeSandbox.with { sandbox, client in
            for i in 0..<3 { _ = try await client.create(configMap("s\(i)", data: ["k": "v"])) }
            try await Self.withInformer(client) { informer in
                let updates = LockedBox(0)
                informer.addHandler { event in
                    if case .updated = event { updates.withLock { $0 += 1 } }
                }
                await informer.waitForSync()
                let version = informer.resourceVersion
                await sandbox.compactHistory()
                await sandbox.closeAllWatches()
                _ = try await client.create(configMap("trigger"))
                try await eventually("relisted") { informer.store.count == 4 && informer.resourceVersion != version }
                // Unchanged objects produce no update events after the relist.
                #expect(updates.value == 0)
            }
        }
    }
}

@Suite("Informer watchdog")
struct InformerWatchdogTests {
    /// Watch requests, as the client's request observer reports them.
    final class WatchCounter: Sendable {
        let count = LockedBox(0)
        func record(_ record: RequestRecord) { if record.isWatch { count.withLock { $0 += 1 } } }
    }

    /// An informer over config maps on `clock`, asking for watches of `watchSeconds`, with a
    /// 5 s silence grace and a 1 s backoff.
    static func informer(_ client: KubernetesClient, clock: ManualClock, watchSeconds: Int) -> Informer<ConfigMap> {
        var options = InformerOptions()
        options.watchTimeoutSeconds = watchSeconds...watchSeconds
        options.silenceGrace = .seconds(5)
        options.backoff = Backoff(initial: .seconds(1), maximum: .seconds(1), jitter: 0)
        return Informer<ConfigMap>(client: client, scope: InformerScope(namespace: "default"), options: options, clock: clock)
    }

    @Test("the watchdog is armed before the watch is opened: an answer that never comes counts as silence")
    func heldWatchAnswer() async throws {
        // The call's own deadline is an hour: only the watchdog can end the wait.
        try await KubeSandbox.with(configure: { $0.requestTimeout = .seconds(3600) }) { sandbox, client in
            let clock = ManualClock()
            let informer = Self.informer(client, clock: clock, watchSeconds: 60)
            let task = Task { await informer.run() }
            await informer.waitForSync()
            try await eventually("watch open") { await sandbox.openWatchCount() == 1 }
            // The next watch's answer is held: its head never reaches the informer.
            let gate = await sandbox.faults.holdAnswers(1, method: "GET", pathContains: "configmaps")
            await sandbox.closeAllWatches()
            // A watch the server ended is reopened after the (manual) backoff: time moves a
            // second per check, so the backoff passes whenever its sleep begins.
            try await eventually("reopened watch held") {
                clock.advance(by: .seconds(1))
                return await gate.held == 1
            }
            try await eventually("watchdog armed while the watch opens") { clock.sleeperCount > 0 }
            clock.advance(by: .seconds(66))
            try await eventually("the held watch given up") { informer.lastFailure != nil }
            #expect("\(informer.lastFailure!)".contains("silent"))
            // After the backoff the next watch opens and follows changes.
            _ = try await client.create(configMap("after"))
            try await eventually("after cached") {
                clock.advance(by: .seconds(1))
                return informer.store.get(namespace: "default", name: "after") != nil
            }
            await gate.open()
            task.cancel()
            await task.value
        }
    }

    @Test("an informer's watch has no transport read timeout: a quiet one stays open while plain watches time out")
    func noReadTimerOnInformerWatches() async throws {
        var sandboxOptions = KubeSandbox.Options()
        sandboxOptions.bookmarkInterval = .seconds(3600)
        try await KubeSandbox.with(sandboxOptions) { sandbox, writer in
            // The informer's client reads with a 1 s timeout; changes go through the sandbox's
            // own client, whose calls a busy machine cannot push past that.
            var configuration = sandbox.clientConfiguration()
            configuration.readIdleTimeout = .seconds(1)
            let watches = WatchCounter()
            let client = try KubernetesClient(configuration: configuration, observer: watches.record)
            var options = InformerOptions()
            // Only the transport could end this watch: the server keeps it for an hour, the
            // watchdog waits longer, and nothing changes. A cut watch is reopened at once.
            options.watchTimeoutSeconds = 3600...3600
            options.backoff = Backoff(initial: .milliseconds(10), maximum: .milliseconds(10), jitter: 0)
            let informer = Informer<ConfigMap>(client: client, scope: InformerScope(namespace: "default"), options: options)
            let task = Task { await informer.run() }
            await informer.waitForSync()
            try await eventually("informer's watch open") { watches.count.value == 1 }
            // Two plain watches in turn, each as silent and each cut by the read timeout: the
            // informer's watch, opened before them, has been silent for both.
            for _ in 0..<2 {
                let plain = try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(resourceVersion: informer.resourceVersion, timeoutSeconds: 3600))
                do {
                    for try await _ in plain {}
                    Issue.record("a quiet plain watch ended without an error")
                } catch {
                    #expect("\(error)".contains("readTimeout"), "a plain watch keeps the transport's read timeout: \(error)")
                }
            }
            #expect(watches.count.value == 3, "the informer's one watch and the two plain ones; a cut informer watch is reopened")
            _ = try await writer.create(configMap("after"))
            try await eventually("change followed on the same watch") { informer.store.get(namespace: "default", name: "after") != nil }
            #expect(watches.count.value == 3)
            task.cancel()
            await task.value
            try await client.shutdown()
        }
    }

    @Test("a watch silent past its timeout counts as dead and is reopened")
    func silentWatch() async throws {
        var sandboxOptions = KubeSandbox.Options()
        sandboxOptions.bookmarkInterval = .seconds(3600)
        try await KubeSandbox.with(sandboxOptions) { sandbox, client in
            let clock = ManualClock()
            // The server keeps the watch for an hour and sends no bookmark: past 3605 s on the
            // informer's clock, the watch counts as dead.
            let informer = Self.informer(client, clock: clock, watchSeconds: 3600)
            let task = Task { await informer.run() }
            await informer.waitForSync()
            try await eventually("watch open") { await sandbox.openWatchCount() == 1 }
            // Real time passes, manual time does not: the watch stays.
            try await Task.sleep(for: .milliseconds(200))
            #expect(await sandbox.openWatchCount() == 1)
            // Past timeout plus grace on the informer's clock, the watch is declared dead and
            // closed. The watchdog must be sleeping first, or it would start counting after the jump.
            try await eventually("watchdog armed") { clock.sleeperCount > 0 }
            clock.advance(by: .seconds(3605))
            try await eventually("dead watch closed") { await sandbox.openWatchCount() == 0 }
            // After the backoff a new one opens, and it still follows changes.
            try await eventually("backoff armed") { clock.sleeperCount > 0 }
            clock.advance(by: .seconds(1))
            try await eventually("watch reopened") { await sandbox.openWatchCount() == 1 }
            _ = try await client.create(configMap("after"))
            try await eventually("after cached") { informer.store.get(namespace: "default", name: "after") != nil }
            task.cancel()
            await task.value
        }
    }
}
