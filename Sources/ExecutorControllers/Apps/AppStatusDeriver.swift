import ExecutorAPI
import Foundation
import KubeClient

/// What the App controller sees of an app in its caches.
public struct AppObservation: Sendable {
    public var service: KnativeService?
    /// The Service's latest ready Revision.
    public var latestReady: KnativeRevision?
    /// The pods labelled `serving.knative.dev/service=<service>`, of every revision.
    public var pods: [Pod]

    public init(service: KnativeService?, latestReady: KnativeRevision? = nil, pods: [Pod] = []) {
        self.service = service
        self.latestReady = latestReady
        self.pods = pods
    }
}

/// Derives an App's status from its Knative Service (spec §9.3) and, beyond Flyte, from its
/// pods: the substate (PULLING_IMAGE … OOM_KILLED, SCALED_TO_ZERO, SCALING_UP/DOWN) and, when a
/// pod cannot run (image pull error, crash loop, OOM, missing secret), FAILED at once with the
/// pod's own reason, where Knative would wait out its progress deadline (10 minutes).
public enum AppStatusDeriver {
    /// §9.3's default messages, by Knative condition type.
    static let defaultMessages = ["ConfigurationsReady": "Configuration is ready", "RoutesReady": "Routes are ready", "Ready": "Service is ready"]
    static let knativeConditions: Set<String> = ["Ready", "ConfigurationsReady", "RoutesReady"]

    /// The status fields that follow from what is observed. Times of conditions come from
    /// Knative; ``AppReconciler`` keeps the previous ones where nothing changed, and sets the
    /// write counter, lastUpdatedAt, lastStartedAt and the history.
    public static func derive(app: App, deploymentID: String?, serviceName: String, observed: AppObservation, publicURL: String?, now: Date) -> AppStatus {
        var status = AppStatus()
        status.serviceName = serviceName
        status.deploymentId = deploymentID
        status.observedGeneration = app.metadata.generation
        status.k8sMetadata = AppK8sMetadata(namespace: app.metadata.namespace)
        let nowText = KubeTime.format(now)
        guard let service = observed.service else {
            status.phase = AppDeploymentStatus.pending.shortName
            status.message = "creating Knative Service \(serviceName)"
            status.conditions = [AppCondition(lastTransitionTime: nowText, deploymentStatus: .pending, message: status.message, deploymentId: deploymentID)]
            status.currentReplicas = 0
            return status
        }
        status.createdAt = service.metadata.creationTimestamp
        let clusterURL = service.status?["url"]?.stringValue
        status.url = publicURL ?? clusterURL
        var ingress = AppIngress(publicUrl: publicURL, vpcUrl: service.status?.value(atPath: "address.url")?.stringValue)
        if ingress.publicUrl == nil, ingress.vpcUrl == nil { ingress = AppIngress() }
        status.ingress = ingress == AppIngress() ? nil : ingress
        status.currentReplicas = observed.latestReady?.actualReplicas ?? 0

        if service.metadata.labels?[KServiceBuilder.stoppedLabel] == "true" {
            let running = observed.pods.filter { $0.metadata.deletionTimestamp == nil && $0.status?.phase == "Running" }.count
            status.currentReplicas = running
            status.phase = AppDeploymentStatus.stopped.shortName
            status.message = "App scaled to zero"
            status.substate = running > 0 ? AppSubstate.scalingDown.rawValue : nil
            status.conditions = [AppCondition(lastTransitionTime: nowText, deploymentStatus: .stopped, message: status.message, substate: running > 0 ? .scalingDown : nil, deploymentId: deploymentID)]
            return status
        }

        // §9.3: one condition per Knative condition that counts. Until Knative has observed the
        // Service's latest generation its conditions describe the previous spec: a Ready
        // Service is then being rolled out (DEPLOYING), not ACTIVE.
        let knative = service.conditions
        let observedGeneration = service.status?["observedGeneration"]?.intValue ?? 0
        let current = observedGeneration >= (service.metadata.generation ?? 0)
        let reportedReady = service.condition("Ready")?["status"]?.stringValue
        let serviceReady = !current && reportedReady == "True" ? "Unknown" : reportedReady
        var conditions: [AppCondition] = []
        for c in knative {
            guard let type = c["type"]?.stringValue, knativeConditions.contains(type) else { continue }
            let state = c["status"]?.stringValue ?? "Unknown"
            let deployment: AppDeploymentStatus
            switch state {
            case "True": deployment = serviceReady == "True" ? .active : .deploying
            case "False":
                guard serviceReady == "False" else { continue }
                deployment = .failed
            default:
                if type == "RoutesReady" { continue }
                deployment = .pending
            }
            let reason = c["reason"]?.stringValue ?? ""
            let message = c["message"]?.stringValue ?? ""
            let text = !reason.isEmpty ? "\(reason): \(message)" : !message.isEmpty ? message : defaultMessages[type] ?? ""
            conditions.append(AppCondition(lastTransitionTime: c["lastTransitionTime"]?.stringValue ?? nowText, deploymentStatus: deployment, message: text, deploymentId: deploymentID))
        }
        if conditions.isEmpty {
            conditions = [AppCondition(lastTransitionTime: nowText, deploymentStatus: .pending, message: "waiting for Knative to report on Service \(serviceName)", deploymentId: deploymentID)]
        }

        // The pods of the revision being rolled out, else of the latest ready one.
        let revision = service.latestCreatedRevisionName ?? service.latestReadyRevisionName
        let pods = observed.pods.filter { pod in
            guard let revision else { return true }
            return pod.metadata.labels?[KnativeRevision.revisionLabel] == revision
        }.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
        let live = pods.filter { $0.metadata.deletionTimestamp == nil }
        let podStates = live.compactMap { pod in podSubstate(pod).map { (pod, $0) } }

        var phase: AppDeploymentStatus
        var substate: AppSubstate?
        var message: String?
        if let (_, failing) = podStates.first(where: { $0.1.substate.isFailure }) {
            phase = .failed
            substate = failing.substate
            message = failing.message
            conditions.insert(AppCondition(lastTransitionTime: nowText, deploymentStatus: .failed, message: message, substate: substate, deploymentId: deploymentID), at: 0)
        } else if let failed = conditions.first(where: { $0.deploymentStatus == .failed }) {
            phase = .failed
            substate = .unspecified
            message = failed.message
        } else if serviceReady == "True" {
            phase = .active
            let ready = podStates.filter { $0.1.substate == .running }.count
            let starting = podStates.filter { [.pullingImage, .initializing].contains($0.1.substate) }.count
            let leaving = pods.count - live.count
            substate = ready == 0 && starting == 0 ? .scaledToZero
                : ready == 0 ? .scalingFromZero
                : starting > 0 ? .scalingUp
                : leaving > 0 ? .scalingDown
                : .running
            message = conditions.first { $0.deploymentStatus == .active }?.message
        } else if conditions.contains(where: { $0.deploymentStatus == .deploying }) || !podStates.isEmpty {
            phase = .deploying
            substate = podStates.first { $0.1.substate != .running }?.1.substate ?? podStates.first?.1.substate
            message = podStates.first { $0.1.substate != .running }?.1.message ?? conditions.first { $0.deploymentStatus == .deploying }?.message ?? conditions.first?.message
        } else {
            phase = .pending
            message = conditions.first?.message
        }
        if substate == .unspecified && phase != .failed { substate = nil }
        for i in conditions.indices where conditions[i].deploymentStatus == phase && conditions[i].substate == nil {
            conditions[i].substate = substate
        }
        status.phase = phase.shortName
        status.substate = substate?.rawValue
        status.message = message
        status.conditions = conditions
        return status
    }

    /// What one pod is doing, and the words that say so: `pod <name>: container <c>: <Reason>: <message>`.
    public static func podSubstate(_ pod: Pod) -> (substate: AppSubstate, message: String)? {
        let name = pod.metadata.name ?? ""
        let statuses = (pod.status?.initContainerStatuses ?? []) + (pod.status?.containerStatuses ?? [])
        func text(_ container: String, _ reason: String, _ detail: String?) -> String {
            let detail = detail ?? ""
            return "pod \(name): container \(container): \(reason)" + (detail.isEmpty ? "" : ": \(detail)")
        }
        for status in statuses {
            if let waiting = status.state?.waiting, let reason = waiting.reason {
                switch reason {
                case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
                    return (.imagePullError, text(status.name, reason, waiting.message))
                case "CreateContainerConfigError":
                    return (.secretMountError, text(status.name, reason, waiting.message))
                case "CrashLoopBackOff":
                    let last = status.lastState?.terminated
                    let restarts = status.restartCount.map { " (restarted \($0) times)" } ?? ""
                    if last?.reason == "OOMKilled" {
                        return (.oomKilled, text(status.name, "OOMKilled", "exit code \(last?.exitCode ?? 137)\(restarts)"))
                    }
                    let detail = last.map { "exit code \($0.exitCode)" + ($0.reason.map { ", \($0)" } ?? "") + restarts } ?? waiting.message
                    return (.crashLoop, text(status.name, reason, detail))
                default: break
                }
            }
            if let terminated = status.state?.terminated, terminated.reason == "OOMKilled" {
                return (.oomKilled, text(status.name, "OOMKilled", "exit code \(terminated.exitCode)"))
            }
        }
        switch pod.status?.phase {
        case "Running":
            let unready = pod.status?.containerStatuses?.first { $0.ready != true }
            if let unready { return (.initializing, text(unready.name, "not ready", unready.state?.waiting?.reason)) }
            return (.running, "pod \(name) is running")
        case "Pending", nil:
            let initializing = (pod.status?.initContainerStatuses ?? []).contains { $0.state?.terminated == nil }
            if initializing { return (.initializing, "pod \(name): init containers are running") }
            guard let waiting = pod.status?.containerStatuses?.first(where: { $0.state?.waiting != nil }) else {
                return (.initializing, "pod \(name) is waiting to be scheduled")
            }
            return (.pullingImage, text(waiting.name, waiting.state?.waiting?.reason ?? "ContainerCreating", waiting.state?.waiting?.message))
        default:
            return nil
        }
    }
}
