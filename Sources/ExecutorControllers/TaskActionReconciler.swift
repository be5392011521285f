import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import Logging
import SwiftProtobuf
import TaskPlugins

/// Reconciles TaskActions as Flyte's executor does (spec §5), driven by events: the
/// TaskAction informer and the child informers wake it; timers exist only for deadlines.
/// A terminal TaskAction costs no API call.
public final class TaskActionReconciler: Reconciler {
    let client: KubernetesClient
    let config: ExecutorConfig
    let plugins: PluginTable
    let sink: any ActionEventSink
    /// Told of each phase change when its ActionEvent is recorded (webhooks).
    let notifier: (any PhaseChangeObserver)?
    let events: EventRecorder
    /// Flyte's task cache, when a cache service is configured.
    let cache: TaskCache?
    let taskActions: @Sendable (String?) -> Informer<TaskAction>?
    let now: @Sendable () -> Date
    /// Key → what our writes of that TaskAction left behind (``OwnWrites``): the versions they
    /// were based on, which a round must not act on, and the version the last one produced,
    /// whose watch event needs no round.
    private let expectations = LockedBox<[ObjectKey: OwnWrites]>([:])
    /// Keys whose round must run again at once when it ends: an event held back while its
    /// write was unanswered was not the write's own (``OwnWrites``).
    private let rerun = LockedBox<Set<ObjectKey>>([])
    /// Coalesced status writes, by key (``HeldStatus``).
    let coalescing = LockedBox<[ObjectKey: HeldStatus]>([:])
    /// The TaskActions not ended yet, which the coalescing window is shared among; the
    /// ``Executor`` feeds it every TaskAction informer's events.
    let inFlight = TaskActionsInFlight()
    /// Each TaskAction in flight's template, decoded once.
    let templates = DecodedTemplates()

    init(client: KubernetesClient, config: ExecutorConfig, plugins: PluginTable, sink: any ActionEventSink, notifier: (any PhaseChangeObserver)? = nil, events: EventRecorder, cache: TaskCache? = nil, taskActions: @escaping @Sendable (String?) -> Informer<TaskAction>?, now: @escaping @Sendable () -> Date = Date.init) {
        self.client = client
        self.config = config
        self.plugins = plugins
        self.sink = sink
        self.notifier = notifier
        self.events = events
        self.cache = cache
        self.taskActions = taskActions
        self.now = now
    }

    var requeueDelay: Duration { .seconds(max(1, config.requeueSeconds)) }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let key = request.key
        let result: ReconcileResult
        do {
            result = try await round(request, key: key, context: context)
        } catch {
            // The error's retry runs the round again.
            rerun.withLock { _ = $0.remove(key) }
            throw error
        }
        return rerun.withLock { $0.remove(key) } != nil ? .requeueAfter(.zero) : result
    }

    func round(_ request: ReconcileRequest, key: ObjectKey, context: ReconcileContext) async throws -> ReconcileResult {
        guard let taskAction = taskActions(request.namespace)?.store.get(namespace: request.namespace, name: request.name) else {
            expectations.withLock { _ = $0.removeValueReleasingCapacity(forKey: key) }
            coalescing.withLock { _ = $0.removeValueReleasingCapacity(forKey: key) }
            templates.forget(key)
            cache?.forget(key)
            return .done
        }
        let stale = expectations.withLock { e -> Bool in
            guard e[key] != nil else { return false }
            if let version = taskAction.metadata.resourceVersion, e[key]!.superseded.contains(version) {
                // Whatever woke this round is not lost: the event of our last write runs it again.
                e[key]!.awaited = true
                return true
            }
            e.removeValueReleasingCapacity(forKey: key)
            return false
        }
        if stale { return .done }
        do {
            if taskAction.metadata.deletionTimestamp != nil {
                templates.forget(key)
                return try await finalize(taskAction, logger: context.logger)
            }
            if taskAction.isTerminal {
                templates.forget(key)
                cache?.forget(key)
                shrinkChild(ofFinished: taskAction, attempt: taskAction.status?.attempt ?? 1)
                // Ended by someone else while a status of ours was held for coalescing: the held
                // status is moot.
                coalescing.withLock { _ = $0.removeValueReleasingCapacity(forKey: key) }
                try await ensureGCLabels(taskAction)
                return .done
            }
            if taskAction.spec.actionType == "condition" {
                return try await reconcileCondition(taskAction)
            }
            return try await reconcileTask(taskAction, logger: context.logger)
        } catch let error as KubeAPIError where error.isConflict || (error.code == 422 && (error.status.message ?? "").contains("test failed")) {
            // The cache was behind the server; the newer object's event runs us again.
            context.logger.debug("conflict; requeueing", metadata: ["error": "\(error.status.message ?? "")"])
            return .requeue
        }
    }

    /// False for a TaskAction whose work is over: terminal in the cache (or in the answer to
    /// our terminal write, which the cache has not caught up with), not being deleted, with
    /// its GC labels when `gc.labels` wants them. A round would read it and stop; its child's
    /// later events (the Pod's last updates, often queued while the executor was busy) would
    /// each cost one. Measured saturated: 3.4 such rounds and 1.6 stale ones per TaskAction.
    public func needsRound(_ request: ReconcileRequest) -> Bool {
        guard let cached = taskActions(request.namespace)?.store.get(namespace: request.namespace, name: request.name),
              cached.metadata.deletionTimestamp == nil else { return true }
        let key = request.key
        if cached.isTerminal {
            // The child's event that woke this may have cached it whole again.
            shrinkChild(ofFinished: cached, attempt: cached.status?.attempt ?? 1)
            // What the round would have dropped: our writes are all in the cache or past.
            if let version = cached.metadata.resourceVersion {
                expectations.withLock { e in
                    if let writes = e[key], !writes.superseded.contains(version) { e.removeValueReleasingCapacity(forKey: key) }
                }
            }
            return config.gc.labels && !Self.hasGCLabels(cached)
        }
        // Our terminal write was accepted and the cache still shows a version it replaced: a
        // round would stop there (stale) and, once the write's event came, find the action over.
        guard let version = cached.metadata.resourceVersion else { return true }
        let overByOurWrite = expectations.withLock { e in e[key].map { $0.producedTerminal && $0.superseded.contains(version) } ?? false }
        return !overByOurWrite
    }

    static func hasGCLabels(_ taskAction: TaskAction) -> Bool {
        let labels = taskAction.metadata.labels ?? [:]
        return labels[TaskActionLabels.terminationStatus] != nil && labels[TaskActionLabels.completedTime] != nil
    }

    // MARK: - Task path

    /// The names of required fields that are empty, in Flyte's order.
    static func missingFields(_ spec: TaskActionSpec) -> [String] {
        var missing: [String] = []
        if spec.runName.isEmpty { missing.append("runName") }
        if spec.project.isEmpty { missing.append("project") }
        if spec.domain.isEmpty { missing.append("domain") }
        if spec.actionName.isEmpty { missing.append("actionName") }
        if (spec.taskType ?? "").isEmpty { missing.append("taskType") }
        if (spec.taskTemplate ?? "").isEmpty { missing.append("taskTemplate") }
        if (spec.inputUri ?? "").isEmpty { missing.append("inputUri") }
        if (spec.runOutputBase ?? "").isEmpty { missing.append("runOutputBase") }
        return missing
    }

    func reconcileTask(_ cached: TaskAction, logger: Logger) async throws -> ReconcileResult {
        var taskAction = cached
        let missing = Self.missingFields(taskAction.spec)
        if !missing.isEmpty {
            let message = "required spec fields are empty: [\(missing.joined(separator: " "))]"
            return try await failValidation(taskAction, reason: .invalidSpec, message: message, eventReason: "FailedValidation")
        }
        let driver: any PluginDriver
        switch resolvePlugin(taskAction) {
        case .ready(let ready): driver = ready
        case .wait: return .done  // the driver wakes every waiting TaskAction once its cache has synced
        case .fail(let reason, let message): return try await failValidation(taskAction, reason: reason, message: message, eventReason: "FailedPluginResolve")
        }
        if !(taskAction.metadata.finalizers ?? []).contains(TaskActionLabels.finalizer) {
            // Go on from the object the patch returned (finalizer and new resourceVersion in
            // it) rather than wait for its watch event: the child is created right away.
            let written = try await ownWrite(taskAction, produced: { $0?.metadata.resourceVersion }) {
                try await Finalizers.add(TaskActionLabels.finalizer, to: taskAction, client: client)
            }
            guard let written else { return .done }
            taskAction = written
            coalescing.withLock { $0[ObjectKey(taskAction)] = HeldStatus(lastWrite: self.now()) }
        }

        let now = self.now()
        // A status built but not written yet (coalescing) is where this round starts.
        let old = heldStatus(extending: taskAction) ?? taskAction.status ?? TaskActionStatus()
        var status = old
        if status.attempts == nil || status.attempts == 0 { status.attempts = 1 }

        let template: Flyteidl2_Core_TaskTemplate
        do {
            template = try templates.template(key: ObjectKey(taskAction), source: taskAction.spec.taskTemplate)
        } catch {
            // Flyte requeues forever here; a template that does not decode never will, so fail.
            let info = PhaseInfo.failure("BadTaskSpecification", "spec.taskTemplate is not a valid flyteidl2.core.TaskTemplate: \(error)")
            return try await commit(taskAction, old: old, status: status, info: info, state: PluginState(), now: now)
        }
        // Flyte cannot build the task's metadata then (its annotations); no later round could.
        if let problem = SecretAnnotations.problem(template.securityContext.secrets) {
            let info = PhaseInfo.failure("BadTaskSpecification", "the task template's secrets cannot be annotated: \(problem)")
            return try await commit(taskAction, old: old, status: status, info: info, state: PluginState(), now: now)
        }
        var probe = taskAction
        probe.status = status
        let context = TaskExecutionContext(taskAction: probe, template: template, properties: driver.properties, config: config.plugins, now: now)

        let state = PluginState(base64: status.pluginState)
        var reserved = false
        if let cache {
            switch try await cache.before(context, launching: !state.started) {
            case .hit:
                status.cacheStatus = Int32(Flyteidl2_Core_CatalogCacheStatus.cacheHit.rawValue)
                return try await commit(taskAction, old: old, status: status, info: .success("cache hit"), state: state, now: now)
            case .wait(let owner):
                status.cacheStatus = Int32(Flyteidl2_Core_CatalogCacheStatus.cacheMiss.rawValue)
                var waiting = PhaseInfo(phase: .waitingForCache, reason: "waiting for cache to be populated by reservation owner \"\(owner)\"")
                // The owner's outputs appear without any event here: look again each heartbeat.
                waiting.recheckAfter = cache.heartbeat
                return try await commit(taskAction, old: old, status: status, info: waiting, state: state, now: now)
            case .run(let cacheStatus, let holds):
                if let cacheStatus { status.cacheStatus = Int32(cacheStatus.rawValue) }
                reserved = holds
            }
        }

        let info: PhaseInfo
        let newState: PluginState
        do {
            (info, newState) = try await driver.handle(context, state: state)
        } catch {
            // The child, if any, is left alone: the error says nothing about it (a create whose
            // answer was lost made it), and the next round adopts it.
            return try await systemError(taskAction, status: status, old: old, message: "\(error)", context: context, driver: driver, now: now, relaunch: false)
        }

        switch RetryPolicy.decide(info, attempt: context.attempt, maxAttempts: context.maxAttempts) {
        case .systemError(let message):
            // Relaunch the same attempt: forget the child, remembering which one it was so the
            // relaunch waits for its deletion instead of adopting it.
            var fresh = PluginState()
            fresh.abandonedUID = newState.childUID
            status.pluginState = fresh.base64
            status.pluginStateVersion = PluginState.version
            return try await systemError(taskAction, status: status, old: old, message: message, context: context, driver: driver, now: now, relaunch: true)
        case .retry(let next, let error):
            status.systemFailures = 0
            status.attempts = Int32(next)
            // The failed attempt's error stays visible until the next one ends.
            if let error { status.errorState = ErrorState(code: error.code, kind: error.kind.rawValue, message: error.message) }
            // Written now, never held for coalescing: the failed child is deleted next, and
            // were this process to die between the two, the next leader must find the new
            // attempt recorded, not an attempt with its child gone (it would run it again).
            let result = try await commit(taskAction, old: old, status: status, info: .queued("restarting task"), state: PluginState(), now: now, persist: true, startsAttempt: true)
            // Only once the new attempt is recorded: were the write refused, the next round
            // must still find the child it judged.
            try await driver.abort(context)
            // A child's deletion wakes the next round; a plugin without one (a connector's
            // job) has no event to wait for, and its own write's event wakes nothing.
            return driver.childResource == nil ? .requeueAfter(.zero) : result
        case .record(var recorded):
            status.systemFailures = 0
            if let cache {
                if recorded.phase == .success {
                    if let cacheStatus = await cache.succeeded(context) { status.cacheStatus = Int32(cacheStatus.rawValue) }
                } else if recorded.phase.isTerminal {
                    await cache.release(context)
                } else if reserved {
                    // The reservation lapses unless extended: come back each heartbeat.
                    recorded.recheckAfter = min(recorded.recheckAfter ?? cache.heartbeat, cache.heartbeat)
                }
            }
            // A job outside the cluster (a connector's) is found again only by the handle in
            // the plugin state: written at once, never held for coalescing, so no restart
            // loses it and starts the job a second time.
            let result = try await commit(taskAction, old: old, status: status, info: recorded, state: newState, now: now, persist: newState.resourceMeta != state.resourceMeta)
            if recorded.phase == .permanentFailure, recorded.cleanupOnFailure {
                try await driver.abort(context)
            } else if recorded.phase.isTerminal {
                // The end is recorded: the child need not be kept for it any more.
                await driver.release(context)
            }
            return result
        }
    }

    /// How a round may go on with the plugin of `taskAction`'s task type.
    enum PluginResolution {
        case ready(any PluginDriver)
        /// The plugin is starting; its driver wakes the TaskAction when it is ready.
        case wait
        case fail(TaskActionConditionReason, String)
    }

    /// Spec §5.3 step 2, plus availability: a plugin whose kind is not served or is forbidden
    /// fails the action with `PluginNotReady`, saying why.
    func resolvePlugin(_ taskAction: TaskAction) -> PluginResolution {
        let taskType = taskAction.spec.taskType ?? ""
        let driver: any PluginDriver
        do {
            driver = try plugins.driver(for: taskType)
        } catch {
            return .fail(.pluginNotFound, "no plugin found for task type \"\(taskType)\": \(error)")
        }
        switch driver.availability {
        case .ready: return .ready(driver)
        case .starting: return .wait
        case .unavailable(let why): return .fail(.pluginNotReady, "plugin \"\(driver.id)\" for task type \"\(taskType)\" is not ready: \(why)")
        }
    }

    /// Records conditions, history, plugin phase and state for `info`: the ActionEvent is sent
    /// at once; the status is written at once when terminal or when the last write of this
    /// TaskAction is older than `status-coalesce-milliseconds`, else kept and merged into the
    /// next write (each transition keeps its own entry and time in `phaseHistory`). Stamps GC
    /// labels once terminal when configured. With `persist` the status is written before this
    /// returns, whatever the coalescing window says.
    func commit(_ taskAction: TaskAction, old: TaskActionStatus, status: TaskActionStatus, info: PhaseInfo, state: PluginState, now: Date, persist: Bool = false, startsAttempt: Bool = false) async throws -> ReconcileResult {
        var status = status
        let key = ObjectKey(taskAction)
        let recheck: ReconcileResult = info.recheckAfter.map { .requeueAfter($0) } ?? .done
        if PhaseMapping.apply(info, to: &status, now: now, startsAttempt: startsAttempt) {
            status.pluginPhase = info.phase.name
            status.pluginPhaseVersion = Int32(info.version)
            status.pluginState = state.base64
            status.pluginStateVersion = PluginState.version
            status.stateJson = Self.stateJSON(taskAction, phase: info.phase, now: now)
            if Self.changed(old, status) {
                try await record(taskAction, status: status, phase: info.phase, version: info.version, error: info.error, now: now, reason: info.reason.isEmpty ? nil : info.reason, links: info.links, logContext: info.logContext)
                announce(taskAction, old: old, new: status)
            }
        } else if coalescing.value[key]?.pending == nil {
            return recheck
        }
        let stored = taskAction.status ?? TaskActionStatus()
        var written = taskAction
        if Self.changed(stored, status) {
            if !status.isTerminal, !persist, let wait = holdOff(key, now: now) {
                coalescing.withLock { $0[key, default: HeldStatus(lastWrite: now)].hold(status, extending: taskAction.metadata.resourceVersion) }
                if case .requeueAfter(let sooner) = recheck, sooner < wait { return recheck }
                return .requeueAfter(wait)
            }
            written = try await writeStatus(taskAction, status)
            coalescing.withLock { held in
                if status.isTerminal { held.removeValueReleasingCapacity(forKey: key) } else { held[key] = HeldStatus(lastWrite: now) }
            }
        }
        if status.isTerminal {
            coalescing.withLock { _ = $0.removeValueReleasingCapacity(forKey: key) }
            cache?.forget(key)
            written.status = status
            try await ensureGCLabels(written)
            return .done
        }
        return recheck
    }

    /// The status held for `taskAction` if it was built on the version the round has; else
    /// nil, and it is dropped. A newer version is a write since: someone else's, or ours whose
    /// answer was lost (the API server went away after applying it). Either way the held
    /// status, built on the older version, must not be written over it: the write names the
    /// version the round has, so it would not conflict, and would undo that write (a lost
    /// retry's new attempt went back to the old one, whose Pod was then made twice). What it
    /// held is phases of the running attempt: the next rounds judge the child again from the
    /// newer status.
    func heldStatus(extending taskAction: TaskAction) -> TaskActionStatus? {
        coalescing.withLock { held in
            let key = ObjectKey(taskAction)
            guard let pending = held[key]?.pending else { return nil }
            if held[key]?.base == taskAction.metadata.resourceVersion { return pending }
            held[key]?.drop()
            return nil
        }
    }

    /// How long a status write of `key` waits to be coalesced, or nil to write now: until the
    /// widest window asked for since its last write has passed (``HeldStatus/due(window:)``).
    func holdOff(_ key: ObjectKey, now: Date) -> Duration? {
        let window = Self.coalescingWindow(config, inFlight: inFlight.value)
        let due = coalescing.withLock { held -> Date? in
            window > 0 ? held[key]?.due(window: window) : nil
        }
        guard let due else { return nil }
        let left = due.timeIntervalSince(now)
        return left > 0 ? .milliseconds(Int64((left * 1000).rounded(.up))) : nil
    }

    /// The coalescing window in seconds with `inFlight` TaskActions not ended
    /// (``TaskActionsInFlight``): wide enough that they make about `status-writes-per-second`
    /// non-terminal writes together, within `status-coalesce-milliseconds` and
    /// `status-coalesce-max-milliseconds`. The API server is shared: when many actions run at
    /// once, their intermediate phases reach the object later (their ActionEvents do not).
    static func coalescingWindow(_ config: ExecutorConfig, inFlight: Int) -> Double {
        let base = Double(config.statusCoalesceMilliseconds) / 1000
        guard base > 0, config.statusWritesPerSecond > 0 else { return base }
        let widest = max(base, Double(config.statusCoalesceMaxMilliseconds) / 1000)
        return min(widest, max(base, Double(inFlight) / config.statusWritesPerSecond))
    }

    /// Spec §5.5: count a system error; past `maxSystemFailures` the action fails for good
    /// (and its child is stopped). With `relaunch` (the plugin judged the child failed for a
    /// system reason) the child is deleted so the attempt starts again; without it (the
    /// plugin's call threw: an API error, a lost answer) it is kept, as Flyte keeps it, and
    /// the next round finds it.
    func systemError(_ taskAction: TaskAction, status: TaskActionStatus, old: TaskActionStatus, message: String, context: TaskExecutionContext, driver: any PluginDriver, now: Date, relaunch: Bool) async throws -> ReconcileResult {
        var status = status
        events.record(regarding: Self.reference(taskAction), type: .warning, reason: "FailedPluginHandle", action: "HandlingPlugin", note: "Plugin \"\(driver.id)\" system error: \(message)")
        switch RetryPolicy.systemError(failuresBefore: Int(status.systemFailures ?? 0), maxSystemFailures: config.maxSystemFailures, pluginID: driver.id, message: message) {
        case .fail(let failures, let info):
            status.systemFailures = Int32(failures)
            let result = try await commit(taskAction, old: old, status: status, info: info, state: PluginState(), now: now)
            try await driver.abort(context)
            return result
        case .requeue(let failures):
            status.systemFailures = Int32(failures)
            try await writeStatus(taskAction, status)
            coalescing.withLock { $0[ObjectKey(taskAction)] = HeldStatus(lastWrite: now) }
            if relaunch { try await driver.abort(context) }
            return .requeueAfter(requeueDelay)
        }
    }

    /// Spec §5.3: an invalid spec or an unknown plugin ends the action at once, without a
    /// finalizer, history or errorState, and with a Warning Event.
    func failValidation(_ taskAction: TaskAction, reason: TaskActionConditionReason, message: String, eventReason: String) async throws -> ReconcileResult {
        var status = taskAction.status ?? TaskActionStatus()
        let now = self.now()
        status.setCondition(.failed, status: true, reason: reason, message: message, now: now)
        status.setCondition(.progressing, status: false, reason: reason, message: message, now: now)
        events.record(regarding: Self.reference(taskAction), type: .warning, reason: eventReason, action: "ValidatingTaskAction", note: message)
        var written = try await writeStatus(taskAction, status)
        announce(taskAction, old: taskAction.status ?? TaskActionStatus(), new: status)
        // Here, not in a round run by the write's watch event: that event wakes no round.
        written.status = status
        try await ensureGCLabels(written)
        return .done
    }

    // MARK: - Condition actions (spec §5.8)

    func reconcileCondition(_ taskAction: TaskAction) async throws -> ReconcileResult {
        let now = self.now()
        let old = taskAction.status ?? TaskActionStatus()
        var status = old
        var requeue: ReconcileResult = .done
        if let signal = status.signalValue, !signal.isEmpty {
            let message = "condition signalled by \"\(status.signalledBy ?? "")\""
            status.setCondition(.progressing, status: false, reason: .signaled, message: message, now: now)
            status.setCondition(.succeeded, status: true, reason: .signaled, message: message, now: now)
            status.appendPhase(.signaled, message: message, now: now)
        } else if let bytes = taskAction.spec.conditionSpecBytes, !bytes.isEmpty, let condition = try? Flyteidl2_Workflow_ConditionAction(serializedBytes: bytes) {
            let timeout = TimeInterval(condition.timeout.seconds) + TimeInterval(condition.timeout.nanos) / 1e9
            let created = taskAction.metadata.creationTimestamp.flatMap(KubeTime.parse) ?? now
            if timeout > 0, now >= created.addingTimeInterval(timeout) {
                let message = "condition timed out after \(GoDuration.text(timeout)) without a signal"
                status.setCondition(.progressing, status: false, reason: .timedOut, message: message, now: now)
                status.setCondition(.failed, status: true, reason: .timedOut, message: message, now: now)
                status.appendPhase(.timedOut, message: message, now: now)
                status.errorState = ErrorState(code: "ConditionTimedOut", kind: "USER", message: message)
            } else {
                status.setCondition(.progressing, status: true, reason: .paused, message: "waiting for signal", now: now)
                status.appendPhase(.paused, message: "waiting for signal", now: now)
                if timeout > 0 {
                    requeue = .requeueAfter(.milliseconds(Int64(created.addingTimeInterval(timeout).timeIntervalSince(now) * 1000) + 1))
                }
            }
        } else {
            let message = "conditionSpec is empty or is not a flyteidl2.workflow.ConditionAction"
            status.setCondition(.progressing, status: false, reason: .invalidSpec, message: message, now: now)
            status.setCondition(.failed, status: true, reason: .invalidSpec, message: message, now: now)
            status.errorState = ErrorState(code: "InvalidSpec", kind: "USER", message: message)
        }
        var written = taskAction
        if status != old {
            // The same guarded write as the task path: a signal written after our read makes it
            // a 409, and the next round sees the signal.
            written = try await writeStatus(taskAction, status)
            announce(taskAction, old: old, new: status)
        }
        if status.isTerminal {
            written.status = status
            try await ensureGCLabels(written)
        }
        return requeue
    }

    // MARK: - Deletion (spec §5.9)

    func finalize(_ taskAction: TaskAction, logger: Logger) async throws -> ReconcileResult {
        guard (taskAction.metadata.finalizers ?? []).contains(TaskActionLabels.finalizer) else { return .done }
        guard let driver = try? plugins.driver(for: taskAction.spec.taskType ?? "") else {
            try await Finalizers.remove(TaskActionLabels.finalizer, from: taskAction, client: client)
            return .done
        }
        guard let template = try? Flyteidl2_Core_TaskTemplate(serializedBytes: taskAction.spec.taskTemplateBytes ?? Data()) else {
            events.record(regarding: Self.reference(taskAction), type: .warning, reason: "FinalizationSkipped", action: "FinalizingTaskAction", note: "cannot build the task execution context: spec.taskTemplate does not decode")
            try await Finalizers.remove(TaskActionLabels.finalizer, from: taskAction, client: client)
            return .done
        }
        let context = TaskExecutionContext(taskAction: taskAction, template: template, properties: driver.properties, config: config.plugins, now: now())
        do {
            try await driver.abort(context)
        } catch {
            logger.info("abort failed; will retry", metadata: ["error": "\(error)"])
            return .requeueAfter(requeueDelay)
        }
        if !taskAction.isTerminal {
            await cache?.release(context)
            let abortedAt = now()
            do {
                try await record(taskAction, status: taskAction.status ?? TaskActionStatus(), phase: .aborted, version: 0, error: nil, now: abortedAt, reason: "aborted", reasonAt: abortedAt)
            } catch {
                return .requeueAfter(requeueDelay)
            }
            // Flyte writes no status for an abort (the object is going); the webhooks still hear of it.
            notifier?.observe(.taskAction(taskAction, status: taskAction.status ?? TaskActionStatus(), reason: .aborted, message: "TaskAction was aborted", at: now(), child: child(of: taskAction, status: taskAction.status)))
        }
        // The object is going; until its DELETED event reaches the cache, a round woken by its
        // child's deletion would find it still holding the finalizer and abort (and announce
        // the abort) again: the write is noted as ours.
        try await ownWrite(taskAction, produced: { $0?.metadata.resourceVersion }) {
            try await Finalizers.remove(TaskActionLabels.finalizer, from: taskAction, client: client)
        }
        return .done
    }

    // MARK: - Writing

    /// Spec §5.7: what counts as a status change.
    static func changed(_ a: TaskActionStatus, _ b: TaskActionStatus) -> Bool {
        a.pluginStateVersion != b.pluginStateVersion || a.pluginPhase != b.pluginPhase || a.pluginPhaseVersion != b.pluginPhaseVersion
            || a.attempts != b.attempts || a.systemFailures != b.systemFailures || a.cacheStatus != b.cacheStatus
            || a.pluginState != b.pluginState || (a.phaseHistory?.count ?? 0) != (b.phaseHistory?.count ?? 0)
            || a.conditions != b.conditions || a.errorState != b.errorState
    }

    /// The executor's status fields as a merge patch through `/status`, guarded by the
    /// resourceVersion read: a 409 means the cache was stale and the round runs again.
    /// Fields others write (the signal) are never sent; a field cleared here is sent as null.
    /// Returns `taskAction` at the version the write produced (its status as it was).
    @discardableResult
    func writeStatus(_ taskAction: TaskAction, _ status: TaskActionStatus) async throws -> TaskAction {
        let body = try Patch.merge(encoding: TaskActionStatusPatch(status: status, resourceVersion: taskAction.metadata.resourceVersion))
        let written = try await ownWrite(taskAction, terminal: status.isTerminal, produced: \.resourceVersion) {
            try await client.patch(TaskAction.resourceType, name: taskAction.metadata.name ?? "", namespace: taskAction.metadata.namespace, body, subresource: "status", as: WrittenVersion.self)
        }
        // Its round may be the last: the event of this write wakes none.
        if status.isTerminal {
            templates.forget(ObjectKey(taskAction))
            shrinkChild(ofFinished: taskAction, attempt: status.attempt)
        }
        var produced = taskAction
        if let version = written.resourceVersion { produced.metadata.resourceVersion = version }
        return produced
    }

    /// Tells the notifier of the phase changes from `old` to `status`: one per `phaseHistory`
    /// entry added, or the terminal condition of an action that ended without one (a refused
    /// spec). Called where the ActionEvent goes, so each change carries its own attempt even
    /// when coalescing writes several at once; a round that is run again after a failed write
    /// announces the same changes under the same ids.
    func announce(_ taskAction: TaskAction, old: TaskActionStatus, new status: TaskActionStatus) {
        guard let notifier else { return }
        let child = child(of: taskAction, status: status)
        let changes = PhaseChange.taskAction(taskAction, old: old, new: status, child: child)
        for change in changes { notifier.observe(change) }
        if changes.isEmpty, status.isTerminal, !old.isTerminal,
           let failed = status.conditions?.first(where: { $0.type == TaskActionConditionType.failed.rawValue && $0.status == "True" }),
           let reason = TaskActionConditionReason(rawValue: failed.reason) {
            notifier.observe(.taskAction(taskAction, status: status, reason: reason, message: failed.message, at: now(), child: nil))
        }
    }

    /// The child object of `status`'s attempt, once the plugin has created it.
    func child(of taskAction: TaskAction, status: TaskActionStatus?) -> ObjectReference? {
        guard let status, PluginState(base64: status.pluginState).started,
              let driver = try? plugins.driver(for: taskAction.spec.taskType ?? ""), let type = driver.childResource else { return nil }
        let name = ChildNames.generated(taskAction: taskAction.metadata.name ?? "", attempt: status.attempt, maxLength: driver.properties.generatedNameMaxLength)
        return ObjectReference(apiVersion: type.apiVersion, kind: type.kind, namespace: taskAction.metadata.namespace, name: name)
    }

    /// Shrinks the cached child of `taskAction`'s `attempt` to its plugin's finished view: the
    /// TaskAction is over, and its child stays cached as long as it does.
    func shrinkChild(ofFinished taskAction: TaskAction, attempt: Int) {
        guard let namespace = taskAction.metadata.namespace, let name = taskAction.metadata.name,
              let driver = try? plugins.driver(for: taskAction.spec.taskType ?? "") else { return }
        driver.shrinkFinishedChild(namespace: namespace, name: ChildNames.generated(taskAction: name, attempt: attempt, maxLength: driver.properties.generatedNameMaxLength))
    }

    /// Sends `send`, a write of `taskAction` by this round, and notes it (``OwnWrites``): before
    /// it goes, so that its watch event, should it beat the answer, is held back; after, that
    /// `taskAction`'s version is out of date and the write made the version `produced` reads
    /// from the answer (nil when it did not say), a terminal status if `terminal`.
    @discardableResult
    func ownWrite<Answer>(_ taskAction: TaskAction, terminal: Bool = false, produced: (Answer) -> String?, _ send: () async throws -> Answer) async throws -> Answer {
        let key = ObjectKey(taskAction)
        expectations.withLock { OwnWrites.sending(key, in: &$0) }
        let answer: Answer
        do {
            answer = try await send()
        } catch {
            if expectations.withLock({ OwnWrites.failed(key, in: &$0) }) { rerun.withLock { _ = $0.insert(key) } }
            throw error
        }
        let made = produced(answer)
        if expectations.withLock({ OwnWrites.answered(key, base: taskAction.metadata.resourceVersion, produced: made, terminal: terminal, in: &$0) }) {
            rerun.withLock { _ = $0.insert(key) }
        }
        return answer
    }

    /// Drops the TaskAction events a round need not see (``OwnWrites/eventNeedsRound(_:version:in:)``):
    /// the watch event of our own last write, the events of versions our writes superseded, and
    /// any event while a write of ours is unanswered, until its answer judges it. Anyone else's
    /// write passes.
    public var ownWriteEvents: KubeRuntime.Predicate<TaskAction> {
        KubeRuntime.Predicate(update: { [expectations] _, new in
            guard let version = new.metadata.resourceVersion else { return true }
            let key = ObjectKey(new)
            return expectations.withLock { OwnWrites.eventNeedsRound(key, version: version, in: &$0) }
        })
    }

    /// Stamps `flyte.org/termination-status` and `flyte.org/completed-time` once, when
    /// `gc.labels` asks for them.
    func ensureGCLabels(_ taskAction: TaskAction) async throws {
        guard config.gc.labels, !Self.hasGCLabels(taskAction) else { return }
        let completed = TaskActionTime.completedLabel(taskAction.status?.terminalTime ?? now())
        let patch: JSONValue = ["metadata": ["labels": [TaskActionLabels.terminationStatus: .string(TaskActionLabels.terminated), TaskActionLabels.completedTime: .string(completed)]]]
        do {
            try await ownWrite(taskAction, terminal: taskAction.isTerminal, produced: \.resourceVersion) {
                try await client.patch(TaskAction.resourceType, name: taskAction.metadata.name ?? "", namespace: taskAction.metadata.namespace, .merge(patch), as: WrittenVersion.self)
            }
        } catch let error as KubeAPIError where error.isNotFound {
            return
        }
    }

    /// Sends the ActionEvent of a transition. `reason`, the phase's reason, goes in
    /// `cluster_events` at `reasonAt`, by default the event's `updated_time` (the transition's
    /// time), as Flyte's executor sends it.
    func record(_ taskAction: TaskAction, status: TaskActionStatus, phase: PluginPhase, version: UInt32, error: ExecutionError?, now: Date, reason: String? = nil, reasonAt: Date? = nil, links: [LogLink] = [], logContext: Flyteidl2_Core_LogContext? = nil) async throws {
        var event = Flyteidl2_Workflow_ActionEvent()
        if let logContext { event.logContext = logContext }
        event.logInfo = links.map(\.taskLog)
        event.id.run.project = taskAction.spec.project
        event.id.run.domain = taskAction.spec.domain
        event.id.run.name = taskAction.spec.runName
        event.id.name = taskAction.spec.actionName
        event.attempt = UInt32(status.attempt)
        event.phase = PhaseMapping.actionPhase(phase)
        event.version = version
        event.cluster = config.cluster
        event.cacheStatus = Flyteidl2_Core_CatalogCacheStatus(rawValue: Int(status.cacheStatus ?? 0)) ?? .cacheDisabled
        let updated = status.phaseHistory?.last.flatMap { KubeTime.parse($0.occurredAt) } ?? now
        event.updatedTime = Google_Protobuf_Timestamp(date: updated)
        event.reportedTime = Google_Protobuf_Timestamp(date: now)
        if let error {
            var info = Flyteidl2_Workflow_ErrorInfo()
            info.message = error.message
            info.kind = error.kind == .user ? .user : error.kind == .system ? .system : .unspecified
            event.errorInfo = info
        }
        let paths = TaskPaths(namespace: taskAction.metadata.namespace ?? "", name: taskAction.metadata.name ?? "", inputUri: taskAction.spec.inputUri ?? "", runOutputBase: taskAction.spec.runOutputBase ?? "", actionName: taskAction.spec.actionName, attempt: status.attempt)
        event.outputs.outputUri = paths.outputsPath
        event.outputs.reportUri = paths.reportPath
        if let reason {
            var cluster = Flyteidl2_Workflow_ClusterEvent()
            cluster.occurredAt = reasonAt.map { Google_Protobuf_Timestamp(date: $0) } ?? event.updatedTime
            cluster.message = reason
            event.clusterEvents = [cluster]
        }
        do {
            try await sink.record(event)
        } catch {
            events.record(regarding: Self.reference(taskAction), type: .warning, reason: "ActionEventPublishFailed", action: "PublishingActionEvent", note: "\(error)")
            throw error
        }
    }

    static func stateJSON(_ taskAction: TaskAction, phase: PluginPhase, now: Date) -> String {
        let value: JSONValue = ["actionId": .string("\(taskAction.spec.runName)/\(taskAction.spec.actionName)"), "phase": .string(phase.name), "timestamp": .string(KubeTime.format(now))]
        return String(decoding: value.serialized(sortedKeys: true), as: UTF8.self)
    }

    static func reference(_ taskAction: TaskAction) -> ObjectReference {
        ObjectReference(apiVersion: TaskAction.resourceType.apiVersion, kind: "TaskAction", namespace: taskAction.metadata.namespace, name: taskAction.metadata.name, uid: taskAction.metadata.uid, resourceVersion: taskAction.metadata.resourceVersion)
    }
}

