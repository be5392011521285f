import KubeClient
import Logging
import Synchronization

/// Hands out one informer per resource type and scope, however many controllers ask, and
/// runs them all. Informers asked for after ``run()`` started are started at once.
public final class SharedInformerFactory: Sendable {
    let client: KubernetesClient
    let options: InformerOptions
    let clock: any RuntimeClock
    let logger: Logger
    let metrics: MetricsRegistry?

    private struct State {
        var informers: [String: any InformerProtocol] = [:]
        var order: [String] = []
        /// Keys of informers that readiness and ``waitForSync()`` do not wait for.
        var optional: Set<String> = []
        var starter: AsyncStream<any InformerProtocol>.Continuation?
    }

    private let state = Mutex(State())

    public init(client: KubernetesClient, options: InformerOptions = InformerOptions(), clock: any RuntimeClock = SystemClock(), metrics: MetricsRegistry? = nil, logger: Logger = Logger(label: "informers")) {
        self.client = client
        self.options = options
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    /// The informer for `type` in `scope`, created on first use. Indexers are added to an
    /// existing informer's store. The transform and decoder apply only when this call creates
    /// it; the decoder defaults to the factory's options.
    ///
    /// - Parameter optional: when true, ``hasSynced`` and ``waitForSync()`` leave this informer
    ///   out: its owner watches its sync itself (a plugin whose kind may be forbidden or
    ///   late), so one such cache cannot hold up the process's readiness or its controllers.
    public func informer<Object: KubernetesObject>(_ type: Object.Type, scope: InformerScope = InformerScope(), indexers: [String: IndexFunction<Object>] = [:], transform: (@Sendable (inout Object) -> Void)? = nil, decoder: JSONBytesDecoder? = nil, optional: Bool = false) -> Informer<Object> {
        let key = "\(Object.resourceType)|\(scope.namespace ?? "")|\(scope.labelSelector ?? "")|\(scope.fieldSelector ?? "")"
        let (informer, created, starter) = state.withLock { s -> (Informer<Object>, Bool, AsyncStream<any InformerProtocol>.Continuation?) in
            if let existing = s.informers[key] {
                guard let typed = existing as? Informer<Object> else {
                    preconditionFailure("informer \(key) exists for \(existing.name), not \(Object.self)")
                }
                typed.store.addIndexers(indexers)
                return (typed, false, nil)
            }
            let created = Informer<Object>(client: client, scope: scope, options: options, indexers: indexers, transform: transform, decoder: decoder, clock: clock, logger: logger)
            s.informers[key] = created
            s.order.append(key)
            if optional { s.optional.insert(key) }
            return (created, true, s.starter)
        }
        if created {
            starter?.yield(informer)
            if let metrics {
                let gauge = metrics.cachedObjects(informer: informer.name)
                metrics.onScrape { [weak informer] in gauge.set(Double(informer?.cachedCount ?? 0)) }
            }
        }
        return informer
    }

    public var informers: [any InformerProtocol] {
        state.withLock { s in s.order.compactMap { s.informers[$0] } }
    }

    /// The informers that are not optional: what readiness and ``waitForSync()`` wait for.
    public var requiredInformers: [any InformerProtocol] {
        state.withLock { s in s.order.filter { !s.optional.contains($0) }.compactMap { s.informers[$0] } }
    }

    /// True once every required informer handed out so far has synced.
    public var hasSynced: Bool { requiredInformers.allSatisfy(\.hasSynced) }

    /// Waits until every required informer handed out so far has synced, or the task is
    /// cancelled.
    public func waitForSync() async {
        for informer in requiredInformers { await informer.waitForSync() }
    }

    /// Runs every informer, including ones created later, until cancelled.
    public func run() async {
        let (stream, continuation) = AsyncStream<any InformerProtocol>.makeStream()
        let existing = state.withLock { s -> [any InformerProtocol] in
            s.starter = continuation
            return s.order.compactMap { s.informers[$0] }
        }
        await withTaskGroup(of: Void.self) { group in
            for informer in existing {
                group.addTask { await informer.run() }
            }
            for await informer in stream {
                group.addTask { await informer.run() }
            }
            group.cancelAll()
        }
    }
}
