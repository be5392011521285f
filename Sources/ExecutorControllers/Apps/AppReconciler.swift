import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntime
import Logging

/// Reconciles an App into its Knative Service as Flyte's app client deploys and stops one
/// (spec §9.2), and writes the App's status from what the caches show (§9.3 and the pods'
/// substates). Every write is conditional on the resourceVersion read; a round whose derived
/// status equals the stored one writes nothing.
final class AppReconciler: Reconciler {
    let client: KubernetesClient
    let config: AppsConfig
    let builder: KServiceBuilder
    let caches: AppCaches
    let events: EventRecorder
    /// Told of each phase or substate change once written (webhooks).
    let notifier: (any PhaseChangeObserver)?
    let now: @Sendable () -> Date
    /// Most entries `status.phaseHistory` keeps; the oldest go first (a crash-looping app
    /// would otherwise grow its App without bound).
    static let historyLimit = 100

    init(client: KubernetesClient, config: AppsConfig, caches: AppCaches, events: EventRecorder, notifier: (any PhaseChangeObserver)? = nil, now: @escaping @Sendable () -> Date = Date.init) {
        self.client = client
        self.config = config
        self.builder = KServiceBuilder(config: config)
        self.caches = caches
        self.events = events
        self.notifier = notifier
        self.now = now
    }

    func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let app = caches.app(request.namespace, request.name), app.metadata.deletionTimestamp == nil else {
            // A deleted App's Knative Service goes with it: it is owned by the App.
            return .done
        }
        let serviceName = KServiceBuilder.serviceName(app.spec.id)
        let deployment: AppDeployment
        do {
            deployment = try AppSpecReader.read(app.spec)
        } catch {
            return try await fail(app, serviceName: serviceName, message: "invalid spec: \(error)", eventReason: "InvalidSpec")
        }
        switch caches.knative.value {
        case .starting: return .done  // woken when Knative's caches sync
        case .unavailable(let message): return try await fail(app, serviceName: serviceName, message: message, eventReason: "KnativeUnavailable")
        case .ready: break
        }

        let namespace = app.metadata.namespace
        var service = caches.service(namespace, serviceName)
        if let existing = service, !Self.owned(existing, by: app) {
            return try await fail(app, serviceName: serviceName, message: "Knative Service \(serviceName) exists and is not this App's (another App with the same project, domain and name?)", eventReason: "ServiceConflict")
        }
        let desired = builder.build(app: app, deployment: deployment)
        var created = false
        do {
            if let existing = service {
                let stopped = existing.metadata.labels?[KServiceBuilder.stoppedLabel] == "true"
                if app.spec.isStopped {
                    if !stopped { service = try await stop(existing, app: app) }
                } else if stopped || existing.metadata.annotations?[KServiceBuilder.specSHAAnnotation] != deployment.specSHA {
                    service = try await client.update(KServiceBuilder.updated(existing, to: desired))
                    events.record(regarding: Self.reference(app), type: .normal, reason: stopped ? "Started" : "Updated", action: "Deploy", note: "\(stopped ? "started" : "updated") Knative Service \(serviceName) (spec-sha \(deployment.specSHA))")
                }
            } else {
                service = try await create(desired, app: app, stopped: app.spec.isStopped, serviceName: serviceName)
                created = true
            }
        } catch let error as KubeAPIError where error.code == 409 {
            return .requeue  // the cache was behind a write; the next round reads the new state
        } catch let error as KubeAPIError where [400, 403, 422].contains(error.code) {
            return try await fail(app, serviceName: serviceName, message: "the API server refused Knative Service \(serviceName): \(error.status.message ?? "\(error.code)")", eventReason: "DeployFailed")
        }

        let latestReady = service?.latestReadyRevisionName.flatMap { caches.revision(namespace, $0) }
        // A Service made this round has no pods yet, whatever a pod cache of an earlier one holds.
        let observed = AppObservation(service: service, latestReady: latestReady, pods: created ? [] : caches.pods(namespace, service: serviceName))
        let status = AppStatusDeriver.derive(app: app, deploymentID: deployment.specSHA, serviceName: serviceName, observed: observed,
                                             publicURL: builder.publicURL(serviceName: serviceName), now: now())
        try await write(app, status)
        return .done
    }

    static func owned(_ service: KnativeService, by app: App) -> Bool {
        service.metadata.ownerReferences?.contains { $0.controller == true && $0.kind == App.resourceType.kind && $0.uid == app.metadata.uid } ?? false
    }

    private func create(_ desired: JSONValue, app: App, stopped: Bool, serviceName: String) async throws -> KnativeService? {
        var desired = desired
        if stopped {
            // An App created stopped: its Service starts scaled to zero, as Stop leaves one.
            KServiceBuilder.markStopped(&desired)
        }
        do {
            let created = try await client.create(KnativeService.resourceType, desired)
            events.record(regarding: Self.reference(app), type: .normal, reason: "Created", action: "Deploy", note: "created Knative Service \(serviceName)")
            return try JSONValueDecoder().decode(KnativeService.self, from: created)
        } catch let error as KubeAPIError where error.isAlreadyExists {
            // Made by an earlier round the cache has not seen yet; its event wakes us again.
            return nil
        }
    }

    /// Flyte's stop: label and scale the Service to zero, then delete its latest ready
    /// Revision so the pods go at once. The Service is kept.
    private func stop(_ service: KnativeService, app: App) async throws -> KnativeService {
        var patch = KServiceBuilder.stopPatch
        patch["metadata"]?["resourceVersion"] = .string(service.metadata.resourceVersion ?? "")
        let patched = try await client.patch(KnativeService.self, name: service.metadata.name ?? "", namespace: service.metadata.namespace, .merge(patch))
        if let revision = service.latestReadyRevisionName {
            do {
                _ = try await client.delete(KnativeRevision.self, name: revision, namespace: service.metadata.namespace)
            } catch let error as KubeAPIError where error.isNotFound {}
        }
        events.record(regarding: Self.reference(app), type: .normal, reason: "Stopped", action: "Stop", note: "scaled Knative Service \(service.metadata.name ?? "") to zero")
        return patched
    }

    /// The App FAILED with `message`, and a Warning Event the first time.
    private func fail(_ app: App, serviceName: String, message: String, eventReason: String) async throws -> ReconcileResult {
        var status = AppStatus()
        status.phase = AppDeploymentStatus.failed.shortName
        status.substate = AppSubstate.unspecified.rawValue
        status.message = message
        status.serviceName = serviceName
        status.observedGeneration = app.metadata.generation
        status.k8sMetadata = AppK8sMetadata(namespace: app.metadata.namespace)
        status.currentReplicas = 0
        status.conditions = [AppCondition(lastTransitionTime: KubeTime.format(now()), deploymentStatus: .failed, message: message, substate: .unspecified)]
        if app.status?.message != message {
            events.record(regarding: Self.reference(app), type: .warning, reason: eventReason, action: "Deploy", note: message)
        }
        try await write(app, status)
        return .done
    }

    /// Writes `derived` unless it says what the stored status says. Keeps the times of
    /// conditions that did not change, bumps the conditions' write counter, stamps
    /// lastUpdatedAt (and lastStartedAt on becoming ACTIVE) and appends to the history when the
    /// phase or substate changed.
    func write(_ app: App, _ derived: AppStatus) async throws {
        let old = app.status ?? AppStatus()
        var next = derived
        let oldConditions = old.conditions ?? []
        next.conditions = derived.conditions?.map { condition in
            var condition = condition
            if let same = oldConditions.first(where: { $0.deploymentStatus == condition.deploymentStatus && $0.message == condition.message && $0.substate == condition.substate }) {
                condition.lastTransitionTime = same.lastTransitionTime
                condition.revision = same.revision
            }
            return condition
        }
        next.lastUpdatedAt = old.lastUpdatedAt
        next.lastStartedAt = old.lastStartedAt
        next.phaseHistory = old.phaseHistory
        if next == old { return }

        let stamp = KubeTime.format(now())
        let revision = (oldConditions.compactMap { $0.revision.flatMap(UInt64.init) }.max() ?? 0) + 1
        next.conditions = next.conditions?.map { condition in
            var condition = condition
            condition.revision = String(revision)
            return condition
        }
        next.lastUpdatedAt = stamp
        if next.phase == AppDeploymentStatus.active.shortName, old.phase != next.phase { next.lastStartedAt = stamp }
        if next.phase != old.phase || next.substate != old.substate, let phase = next.phase {
            var history = old.phaseHistory ?? []
            history.append(AppPhaseTransition(phase: phase, substate: next.substate, occurredAt: stamp, message: next.message))
            if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
            next.phaseHistory = history
            if next.phase != old.phase, let phase = next.deploymentStatus {
                let type: EventType = phase == .failed ? .warning : .normal
                events.record(regarding: Self.reference(app), type: type, reason: phase.shortName.capitalized, action: "Reconcile", note: next.message ?? phase.shortName)
            }
        }
        var updated = app
        updated.status = next
        do {
            _ = try await client.updateStatus(updated)
        } catch let error as KubeAPIError where error.isNotFound {
            return  // deleted meanwhile
        }
        if let notifier, let change = PhaseChange.app(app, old: old, new: next, revision: String(revision)) {
            notifier.observe(change)
        }
    }

    static func reference(_ app: App) -> ObjectReference {
        ObjectReference(apiVersion: App.resourceType.apiVersion, kind: App.resourceType.kind, namespace: app.metadata.namespace, name: app.metadata.name, uid: app.metadata.uid, resourceVersion: app.metadata.resourceVersion)
    }
}
