import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntime
import Logging
import TaskPlugins

/// Whether a plugin can run tasks now.
public enum PluginAvailability: Sendable, Hashable {
    /// Its kind's discovery or first cache sync has not finished: its TaskActions wait and are
    /// woken when it is ready.
    case starting
    /// Its cache is synced: its TaskActions run.
    case ready
    /// Its child kind is not served (the CRD is not installed) or RBAC forbids watching it:
    /// its TaskActions fail with `PluginNotReady` and this message. Checked again with backoff,
    /// so installing the CRD or the rule makes the plugin ready without a restart.
    case unavailable(String)
}

/// The executor's side of a plugin, without its child type: availability, launch, check, abort.
protocol PluginDriver: Sendable {
    var id: String { get }
    var taskTypes: [String] { get }
    var properties: PluginProperties { get }
    /// The kind of the children it creates; nil for a plugin that makes none.
    var childResource: ResourceType? { get }
    var availability: PluginAvailability { get }
    /// Registers with the manager what brings the plugin up: a discovery check of its kind
    /// (repeated with backoff while the kind is not served), then label-scoped informers (one
    /// per watched namespace) whose events wake the owning TaskAction. `onReady` runs each
    /// time the plugin becomes ready, and when it is first found unavailable, to wake the
    /// TaskActions that waited while it was starting (they run, or fail with PluginNotReady).
    /// `ownerFinished(namespace, name)` says whether the TaskAction of that name has finished
    /// (terminal, not being deleted): its child is then cached as the plugin's
    /// ``KubernetesTaskPlugin/finishedCacheTransform`` leaves it.
    func start(manager: Manager, controller: Controller, namespaces: [String?], discovery: Backoff, ownerFinished: @escaping @Sendable (String, String) -> Bool, onReady: @escaping @Sendable () -> Void)
    /// One round of Flyte's k8s plugin manager: launch the child if this attempt has none,
    /// else read its phase.
    func handle(_ context: TaskExecutionContext, state: PluginState) async throws -> (PhaseInfo, PluginState)
    /// Stops this attempt's child (delete, or the plugin's patch). A missing child is fine.
    func abort(_ context: TaskExecutionContext) async throws
    /// Takes `inject-finalizer`'s finalizer off this attempt's child, whose end is recorded;
    /// nothing without the setting. A failure is logged: the TaskAction's deletion (the GC)
    /// aborts the child, which takes it off then.
    func release(_ context: TaskExecutionContext) async
    /// Shrinks the cached child `namespace/name`, whose TaskAction has finished, to the
    /// plugin's ``KubernetesTaskPlugin/finishedCacheTransform``; nothing when the plugin has
    /// none or the child is not cached.
    func shrinkFinishedChild(namespace: String, name: String)
}

/// Drives a ``KubernetesTaskPlugin`` over its child objects.
final class KubernetesPluginDriver<Plugin: KubernetesTaskPlugin>: PluginDriver {
    let plugin: Plugin
    let client: KubernetesClient
    let logger: Logger
    private let stores = LockedBox<[String: Informer<Plugin.Child>]>([:])
    /// Informers of the plugin's related Pods, by namespace ("" for all), when it has some.
    private let podStores = LockedBox<[String: Informer<Pod>]>([:])
    private let availabilityBox = LockedBox(PluginAvailability.starting)
    /// Children this driver created that its informer has not delivered yet: their key
    /// → the uid the create answered with. A round in between keeps the launch's verdict and
    /// asks the server nothing: a child just created has nothing new to say (no controller
    /// has written its status yet), and its first change comes as an event of its own once
    /// the informer catches up. Dropped when the informer delivers any event of that name.
    /// Only the uid is kept: under a burst the informer lags by thousands of creates, and the
    /// child the create answered with, kept whole, was 4 MiB of the executor's heap at 5,000
    /// TaskActions at once (docs/benchmarks.md).
    private let created = LockedBox<[ObjectKey: String]>([:])
    /// This driver's creates whose child's first watch event has not come, by key:
    /// that event wakes no round, since the round that created the child judges the version the
    /// create answered with, and the event carries that very version (``OwnCreate``).
    private let ownCreates = LockedBox<[ObjectKey: OwnCreate]>([:])

    let errorDocuments: ErrorDocumentCheck?
    /// Where the child's base PodTemplate is read, just before it is built.
    let podTemplates: PodTemplateSource?
    /// Reports the plugin's `build` and `phase` calls that hold their thread.
    let calls: PluginCallTimer

    init(plugin: Plugin, client: KubernetesClient, errorDocuments: ErrorDocumentCheck? = nil, podTemplates: PodTemplateSource? = nil, metrics: MetricsRegistry? = nil, logger: Logger) {
        self.plugin = plugin
        self.client = client
        self.errorDocuments = errorDocuments
        self.podTemplates = podTemplates
        var logger = logger
        logger[metadataKey: "plugin"] = "\(plugin.id)"
        self.logger = logger
        calls = PluginCallTimer(plugin: plugin.id, metrics: metrics, logger: logger)
    }

    var id: String { plugin.id }
    var taskTypes: [String] { plugin.taskTypes }
    var properties: PluginProperties { plugin.properties }
    var childResource: ResourceType? { Plugin.Child.resourceType }
    var availability: PluginAvailability { availabilityBox.value }

    /// What a missing kind is called in messages: `the ray.io/v1 RayJob CRD is not installed`.
    static var notInstalledMessage: String { KindDiscovery.notInstalledMessage(Plugin.Child.resourceType) }

    func start(manager: Manager, controller: Controller, namespaces: [String?], discovery: Backoff, ownerFinished: @escaping @Sendable (String, String) -> Bool, onReady: @escaping @Sendable () -> Void) {
        let type = Plugin.Child.resourceType
        let gauge = manager.metrics.gauge("executor_plugin_ready", [("plugin", plugin.id), ("resource", type.description)], help: "1 when the plugin's child kind is served and its cache synced, else 0.")
        manager.addReadinessCheck("plugin \(plugin.id): its cache has not synced") { [availabilityBox] in availabilityBox.value != .starting }
        manager.add(name: "plugin \(plugin.id)", leaderOnly: false) { [self] in
            try await waitUntilServed(backoff: discovery, clock: manager.clock, onUnavailable: onReady)
            await plugin.prepare(client: client)
            let informers = namespaces.map { namespace in
                let informer = manager.informers.informer(Plugin.Child.self, scope: InformerScope(namespace: namespace, labelSelector: "\(TaskActionLabels.managed)=true"), transform: cacheTransform(ownerFinished: ownerFinished), decoder: plugin.cacheDecoder, optional: true)
                stores.withLock { $0[namespace ?? ""] = informer }
                _ = informer.addHandler { [created] event in
                    let object: Plugin.Child = switch event {
                    case .added(let o, _): o
                    case .updated(_, let o): o
                    case .deleted(let o): o
                    }
                    created.withLock { _ = $0.removeValueReleasingCapacity(forKey: ObjectKey(object)) }
                }
                // The event of our own create wakes no round (``OwnCreate``); nor does a change the
                // plugin says cannot change its judgement.
                let judged = Predicate<Plugin.Child>(create: { [ownCreates] child in !OwnCreate.eventIsOwn(child, in: ownCreates) }, update: { [plugin] old, new in plugin.changeNeedsRound(from: old, to: new) })
                controller.watch(informer, handler: .enqueueOwner(group: TaskAction.resourceType.group, kind: TaskAction.resourceType.kind), predicates: [judged], waitForSync: false)
                if plugin.relatedPod != nil { watchRelatedPods(manager: manager, controller: controller, namespace: namespace) }
                return informer
            }
            for informer in informers {
                if await KindDiscovery.syncedBeforeForbidden(informer) { continue }
                setAvailability(.unavailable("the executor may not list and watch \(type.groupResource): RBAC needs the rule \(informer.requiredRule)"))
                onReady()  // waiting TaskActions fail now, naming the rule
                await informer.waitForSync()
                try Task.checkCancellation()
            }
            logger.info("plugin ready", metadata: ["resource": "\(type)"])
            setAvailability(.ready)
            gauge.set(to: 1.0)
            onReady()
        }
    }

    private func setAvailability(_ availability: PluginAvailability) {
        availabilityBox.withLock { $0 = availability }
    }

    /// Returns once discovery lists the child's resource; until then the plugin is unavailable,
    /// said once as a warning.
    private func waitUntilServed(backoff: Backoff, clock: any RuntimeClock, onUnavailable: @escaping @Sendable () -> Void) async throws {
        try await KindDiscovery.waitUntilServed(Plugin.Child.resourceType, client: client, backoff: backoff, clock: clock, logger: logger) { [self] first in
            setAvailability(.unavailable(Self.notInstalledMessage))
            guard first else { return }
            logger.warning("\(Self.notInstalledMessage): plugin \(plugin.id) (task types \(plugin.taskTypes.joined(separator: ", "))) waits for it; its TaskActions fail with PluginNotReady meanwhile")
            // TaskActions that arrived while the plugin was starting waited; now they fail.
            onUnavailable()
        }
    }

    /// Watches the Pods the child's operator creates (labelled with their child's name) and
    /// wakes the TaskAction that owns that child.
    private func watchRelatedPods(manager: Manager, controller: Controller, namespace: String?) {
        let byChild: IndexFunction<Pod> = { pod in
            pod.metadata.labels?[TaskActionLabels.childName].map { ["\(pod.metadata.namespace ?? "")/\($0)"] } ?? []
        }
        let pods = manager.informers.informer(Pod.self, scope: InformerScope(namespace: namespace, labelSelector: TaskActionLabels.childName), indexers: [Self.childIndex: byChild],
                                              transform: { pod in pod.trimToStatusView(keepingLabels: [TaskActionLabels.childName], annotations: []) },
                                              decoder: Pod.statusViewDecoder, optional: true)
        podStores.withLock { $0[namespace ?? ""] = pods }
        controller.watch(pods, handler: .map { [weak self] pod in
            guard let self, let child = pod.metadata.labels?[TaskActionLabels.childName], let namespace = pod.metadata.namespace,
                let owner = self.cached(namespace: namespace, name: child)?.metadata.ownerReferences?.first(where: { $0.controller == true && $0.kind == TaskAction.resourceType.kind })
            else { return [] }
            return [ReconcileRequest(namespace: namespace, name: owner.name)]
        }, waitForSync: false)
    }

    static var childIndex: String { "child" }

    private func relatedPod(of child: Plugin.Child, namespace: String) -> Pod? {
        guard let related = plugin.relatedPod else { return nil }
        let informers = podStores.value
        guard let store = (informers[namespace] ?? informers[""])?.store else { return nil }
        if related.byLabel {
            let pods = store.byIndex(Self.childIndex, "\(namespace)/\(child.metadata.name ?? "")")
            if let choose = related.choose { return choose(child, pods) }
            return pods.max { ($0.metadata.creationTimestamp ?? "") < ($1.metadata.creationTimestamp ?? "") }
        }
        guard let name = related.name(child) else { return nil }
        return store.get(namespace: namespace, name: name)
    }

    /// The child `namespace/name` as the informer caches it.
    func cached(namespace: String, name: String) -> Plugin.Child? {
        let informers = stores.value
        let informer = informers[namespace] ?? informers[""]
        return informer?.store.get(namespace: namespace, name: name)
    }

    func handle(_ context: TaskExecutionContext, state: PluginState) async throws -> (PhaseInfo, PluginState) {
        var state = state
        let name = context.generatedName
        var child = cached(namespace: context.namespace, name: name)
        if !state.started, let previous = child, previous.metadata.deletionTimestamp != nil || (state.abandonedUID != nil && previous.metadata.uid == state.abandonedUID) {
            // A relaunch after a system failure: the old child is still there. Wait for it to
            // go rather than adopt it (AlreadyExists) and judge it again.
            if previous.metadata.deletionTimestamp == nil { try await abort(context) }
            let info = PhaseInfo.queued("waiting for the previous \(Plugin.Child.resourceType.kind) to be deleted")
            let recorded = record(info, in: &state)
            return (recorded, state)
        }
        if !state.started, let existing = child {
            // This attempt's child exists but no round recorded its launch: the create's answer
            // was lost, or the process died before the status was written. Adopt it as launch
            // adopts AlreadyExists, as Queued, and judge it next round (at once), so every
            // attempt's history starts with Queued as Flyte's does.
            state.started = true
            state.childUID = existing.metadata.uid
            let recorded = record(Self.launched(recheckAfter: .zero), in: &state)
            return (recorded, state)
        }
        if child == nil {
            if !state.started {
                if context.attempt > 1 {
                    // The previous attempt's child is deleted after its failure is recorded; a
                    // crash in between would leave it running.
                    let previous = ChildNames.generated(taskAction: context.taskAction.metadata.name ?? "", attempt: context.attempt - 1, maxLength: plugin.properties.generatedNameMaxLength)
                    try await delete(name: previous, namespace: context.namespace, finalizer: context.config.injectFinalizer)
                }
                let (info, created, uid) = try await launch(context)
                if created { state.started = true }
                // Recorded now, with the launch: else the first round to judge the child records
                // it, a change of plugin state that sends the launch's ActionEvent again.
                if let uid { state.childUID = uid }
                let recorded = record(info, in: &state)
                return (recorded, state)
            }
            // Started, yet not in the cache: the cache lags behind our create, and the launch's
            // verdict stands until the informer delivers the child; else ask the server.
            if let uid = created.withLock({ $0[ObjectKey(namespace: context.namespace, name: name)] }) {
                if !uid.isEmpty { state.childUID = uid }
                let recorded = record(Self.launched(), in: &state)
                return (recorded, state)
            }
        }
        if child == nil, state.started {
            do {
                child = try await client.get(Plugin.Child.self, name: name, namespace: context.namespace)
            } catch let error as KubeAPIError where error.isNotFound || error.isGone {
                let info = PhaseInfo.systemRetryableFailure("ResourceDeletedExternally", "resource not found, name [\(context.namespace)/\(name)]. reason: \(error.status.message ?? "not found")")
                let recorded = record(info, in: &state)
                return (recorded, state)
            }
        }
        guard let child else { throw CancellationError() }
        state.childUID = child.metadata.uid
        state.started = true
        let related = relatedPod(of: child, namespace: context.namespace)
        var info = calls.time(.phase, taskAction: context.taskAction.metadata.name ?? "") { plugin.phase(of: child, relatedPod: related, context: context) }
        if plugin.isTerminal(child), info.phase.isTerminal || info.phase.isFailure {
            info.occurredAt = plugin.completionTime(child)
        }
        if child.metadata.deletionTimestamp != nil && !info.phase.isTerminal && !info.phase.isFailure {
            info = .systemRetryableFailure("UnexpectedObjectDeletion", "object [\(context.namespace)/\(name)] is being deleted while the task is \(info.phase.name)")
        }
        if info.phase == .success, let errorDocuments {
            // A store that cannot answer throws: a system error, retried, never a success.
            info = try await errorDocuments.judge(info, context: context)
        } else if info.phase.isFailure, info.errorDocumentRule != .none {
            info = info.applying(errorDocument: try await errorDocuments?.read(context))
        }
        let recorded = record(info, in: &state)
        return (recorded, state)
    }

    /// Flyte's version rule: same phase, a version not above the last and a new reason bump
    /// the version, so reason-only changes still count as changes.
    private func record(_ info: PhaseInfo, in state: inout PluginState) -> PhaseInfo {
        var info = info
        if info.phase.rawValue == state.phase, info.version <= state.phaseVersion {
            info.version = info.reason != state.reason ? state.phaseVersion + 1 : state.phaseVersion
        }
        state.phase = info.phase.rawValue
        state.phaseVersion = info.version
        state.reason = info.reason
        return info
    }

    /// Builds and creates the child; `created` is true once it exists (made now or before), and
    /// `uid` is the child's when this create made it.
    private func launch(_ context: TaskExecutionContext) async throws -> (PhaseInfo, created: Bool, uid: String?) {
        var child: Plugin.Child
        var context = context
        do {
            if let podTemplates { context.basePodTemplate = try await podTemplates.template(for: context) }
            child = try calls.time(.build, taskAction: context.taskAction.metadata.name ?? "") { try plugin.build(context) }
        } catch let error as ExecutionError {
            return (PhaseInfo(phase: .permanentFailure, reason: error.message, error: error), false, nil)
        }
        ChildMetadata.apply(to: &child, context: context, properties: plugin.properties)
        let key = ObjectKey(namespace: context.namespace, name: context.generatedName)
        ownCreates.withLock { $0[key] = OwnCreate() }
        do {
            // Only its uid and version are read: the plugin's cache decoder skips the rest.
            let made = try await client.create(child, decoder: plugin.cacheDecoder ?? JSONBytesDecoder())
            // Unless the informer delivered it meanwhile (then its handler already ran).
            if cached(namespace: context.namespace, name: context.generatedName) == nil {
                created.withLock { $0[key] = made.metadata.uid ?? "" }
            }
            if !OwnCreate.answered(key, with: made, in: ownCreates) {
                // An event of another version came first and was held back: judge it at once.
                return (Self.launched(recheckAfter: .zero), true, made.metadata.uid)
            }
            return (Self.launched(), true, made.metadata.uid)
        } catch {
            // A held-back event is judged at once (or by the retry of a round that threw).
            let heldBack = OwnCreate.failed(key, in: ownCreates)
            guard let error = error as? KubeAPIError else { throw error }
            var (info, made) = try Self.judgeCreateFailure(error)
            if heldBack { info.recheckAfter = .zero }
            return (info, made, nil)
        }
    }

    /// The verdict on a child this driver has just created (or adopted as its launch);
    /// `recheckAfter` asks for the next round at once when an event is owed a judgement.
    static func launched(recheckAfter: Duration? = nil) -> PhaseInfo {
        PhaseInfo(phase: .queued, reason: "task submitted to K8s", recheckAfter: recheckAfter)
    }

    /// What a refused create means for the attempt; rethrows what a later round should retry.
    private static func judgeCreateFailure(_ error: KubeAPIError) throws -> (PhaseInfo, created: Bool) {
        switch error.code {
        case 409 where error.isAlreadyExists && (error.status.message ?? "").hasPrefix("object is being deleted"):
            // A child of this name is still in its grace period (a Pod Terminating): it is
            // not ours to adopt. Its deletion event runs the next round.
            return (.queued("waiting for the previous \(Plugin.Child.resourceType.kind) to be deleted"), false)
        case 409 where error.isAlreadyExists: return (launched(), true)
        case 403: return (.retryableFailure("RuntimeFailure", "failed to create resource: \(error.status.message ?? "forbidden")"), false)
        case 413: return (.failure("EntityTooLarge", "failed to create resource: \(error.status.message ?? "request entity too large")"), false)
        case 422: return (.failure("InvalidResource", "failed to create resource: \(error.status.message ?? "invalid")"), false)
        case 400: return (.failure("BadRequest", "failed to create resource: \(error.status.message ?? "bad request")"), false)
        default: throw error
        }
    }

    /// Deletes the child; with `finalizer` (`inject-finalizer`) also takes the executor's
    /// finalizer off, after the delete, so the deletion completes.
    private func delete(name: String, namespace: String, finalizer: Bool) async throws {
        let key = ObjectKey(namespace: namespace, name: name)
        created.withLock { _ = $0.removeValueReleasingCapacity(forKey: key) }
        ownCreates.withLock { _ = $0.removeValueReleasingCapacity(forKey: key) }
        do {
            try await client.delete(Plugin.Child.self, name: name, namespace: namespace, options: DeleteOptions(propagationPolicy: .background))
        } catch let error as KubeAPIError where error.isNotFound || error.isGone {
            return
        }
        if finalizer { try await removeFinalizer(name: name, namespace: namespace) }
    }

    func release(_ context: TaskExecutionContext) async {
        guard context.config.injectFinalizer else { return }
        do {
            try await removeFinalizer(name: context.generatedName, namespace: context.namespace)
        } catch {
            logger.warning("the child's finalizer stays until the TaskAction is deleted", metadata: ["child": "\(context.namespace)/\(context.generatedName)", "finalizer": "\(ChildMetadata.finalizer)", "error": "\(error)"])
        }
    }

    /// Removes ``ChildMetadata/finalizer`` by its index, tested: from the cached child, else (a
    /// cache that does not show it yet, or a list that moved meanwhile) from the server's.
    private func removeFinalizer(name: String, namespace: String) async throws {
        var child = cached(namespace: namespace, name: name)
        for round in 0..<3 {
            if child == nil || round > 0 {
                do {
                    child = try await client.get(Plugin.Child.self, name: name, namespace: namespace)
                } catch let error as KubeAPIError where error.isNotFound || error.isGone {
                    return
                }
            }
            guard let current = child else { return }
            guard current.metadata.finalizers?.contains(ChildMetadata.finalizer) == true else {
                if round == 0 { continue }
                return
            }
            do {
                try await Finalizers.remove(ChildMetadata.finalizer, from: current, client: client)
                return
            } catch let error as KubeAPIError where error.code == 422 || error.isConflict {
                continue
            }
        }
    }

    /// The plugin's cache transform, followed for the child of a finished TaskAction by its
    /// finished one: an event of a child whose TaskAction is over (a Pod's last status update,
    /// often queued behind the write that ended the TaskAction; a relist) caches it small.
    private func cacheTransform(ownerFinished: @escaping @Sendable (String, String) -> Bool) -> (@Sendable (inout Plugin.Child) -> Void)? {
        guard let finished = plugin.finishedCacheTransform else { return plugin.cacheTransform }
        let base = plugin.cacheTransform
        return { child in
            base?(&child)
            guard let namespace = child.metadata.namespace,
                  let owner = child.metadata.ownerReferences?.first(where: { $0.controller == true && $0.kind == TaskAction.resourceType.kind }),
                  ownerFinished(namespace, owner.name) else { return }
            finished(&child)
        }
    }

    func shrinkFinishedChild(namespace: String, name: String) {
        guard let transform = plugin.finishedCacheTransform else { return }
        let informers = stores.value
        (informers[namespace] ?? informers[""])?.store.reshape(ObjectKey(namespace: namespace, name: name), transform)
    }

    func abort(_ context: TaskExecutionContext) async throws {
        let name = context.generatedName
        var behavior = AbortBehavior.delete
        if let child = cached(namespace: context.namespace, name: name) {
            behavior = plugin.abortBehavior(for: child, context: context)
        }
        switch behavior {
        case .delete:
            try await delete(name: name, namespace: context.namespace, finalizer: context.config.injectFinalizer)
        case .patch(let patch):
            do {
                _ = try await client.patch(Plugin.Child.resourceType, name: name, namespace: context.namespace, .merge(patch))
            } catch let error as KubeAPIError where error.isNotFound || error.isGone {
                return
            }
        }
    }
}
