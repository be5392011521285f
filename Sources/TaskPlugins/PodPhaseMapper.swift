import Foundation
import KubeClient

/// Pod status → plugin phase, the rules of Flyte's pod plugin (`flytek8s` `DemystifyPending`,
/// `DemystifyFailure`, `DeterminePrimaryContainerPhase`).
public struct PodPhaseMapper: Sendable {
    public var config: PluginConfig
    public var now: Date

    public init(config: PluginConfig, now: Date) {
        self.config = config
        self.now = now
    }

    static let oomKilled = "OOMKilled"
    /// Exit codes of a container killed by SIGKILL: 128+9, and 247 as some runtimes report it.
    static let sigkillExitCodes: Set<Int32> = [137, 247]

    public func phase(of pod: Pod) -> PhaseInfo {
        let status = pod.status ?? PodStatus()
        let primary = pod.metadata.annotations?[PodPlugin.primaryContainerAnnotation]
        switch status.phase {
        case "Succeeded":
            let all = (status.initContainerStatuses ?? []) + (status.containerStatuses ?? [])
            if all.contains(where: { ($0.state?.terminated?.reason ?? "").contains(Self.oomKilled) || ($0.lastState?.terminated?.reason ?? "").contains(Self.oomKilled) }) {
                return .retryableFailure(Self.oomKilled, "Pod reported success despite being OOMKilled")
            }
            return .success()
        case "Failed":
            return failure(status, primary: primary)
        case "Unknown":
            return .undefined
        case "Running":
            if let primary { return primaryContainerPhase(primary, pod: pod) }
            let containers = status.containerStatuses ?? []
            let initContainers = status.initContainerStatuses ?? []
            let allDone = !containers.isEmpty && (initContainers + containers).allSatisfy { $0.state?.terminated?.exitCode == 0 }
            return allDone ? .success() : .running()
        default:
            // Pending, or a Pod so new it has no status yet.
            return pending(pod)
        }
    }

    /// What a Pod another operator runs for a child (Spark's driver, Ray's head) says before
    /// the child's own status: its Failed rules, or its Pending rules when they fail the
    /// attempt (both as `verdict`); else when its grace period runs out, which no event will
    /// tell (`recheckAfter`).
    public func relatedPod(_ pod: Pod, primary: String) -> (verdict: PhaseInfo?, recheckAfter: Duration?) {
        switch pod.status?.phase {
        case "Failed":
            return (failure(pod.status ?? PodStatus(), primary: primary), nil)
        case "Pending", nil:
            let pending = pending(pod)
            return pending.phase.isFailure ? (pending, nil) : (nil, pending.recheckAfter)
        default:
            return (nil, nil)
        }
    }

    // MARK: Running

    func primaryContainerPhase(_ primary: String, pod: Pod) -> PhaseInfo {
        guard let status = pod.status?.containerStatuses?.first(where: { $0.name == primary }) else {
            if pod.spec?.containers.contains(where: { $0.name == primary }) ?? true {
                return .running()
            }
            return .failure("PrimaryContainerNotFound", "Primary container [\(primary)] not found in pod's spec")
        }
        guard let terminated = status.state?.terminated else { return .running() }
        let reason = terminated.reason ?? ""
        let message = "Container [\(primary)] terminated with exit code (\(terminated.exitCode)). Reason [\(reason)]. Message: \n\(terminated.message ?? "")."
        if reason.contains(Self.oomKilled) {
            return .retryableFailure(reason, message)
        }
        if Self.sigkillExitCodes.contains(terminated.exitCode) {
            return .systemRetryableFailure(reason.isEmpty ? "Interrupted" : reason, message)
        }
        if terminated.exitCode != 0 {
            return .retryableFailure(reason.isEmpty ? "Error" : reason, message)
        }
        return .success()
    }

    // MARK: Failed

    func failure(_ status: PodStatus, primary: String?) -> PhaseInfo {
        var code = status.reason.flatMap { $0.isEmpty ? nil : $0 } ?? "UnknownError"
        var message = status.message ?? ""
        var isSystem = ["Shutdown", "Terminated", "NodeShutdown", "NodeAffinity"].contains(code)
        for container in (status.initContainerStatuses ?? []) + (status.containerStatuses ?? []) {
            guard let terminated = container.lastState?.terminated ?? container.state?.terminated else { continue }
            let reason = terminated.reason ?? ""
            if reason.contains(Self.oomKilled) {
                code = Self.oomKilled
            } else if Self.sigkillExitCodes.contains(terminated.exitCode) {
                code = "Interrupted"
                if container.name == primary || primary == nil { isSystem = true }
            }
            if terminated.exitCode != 0 {
                message += "\r\n[\(container.name)] terminated with exit code (\(terminated.exitCode)). Reason [\(reason)]. Message: \n\(terminated.message ?? "")."
                // Deliberate difference from Flyte: a container that exited non-zero explains
                // the failure, so its reason is the code and the error the user's. Flyte keeps
                // UnknownError here and counts every plain exit 1 of a one-container Pod as a
                // system error, spending maxSystemFailures instead of the task's retries.
                if code == "UnknownError" { code = reason.isEmpty ? "Error" : reason }
            }
        }
        // Nothing terminated with a reason: the node went away before the kubelet said why.
        if code == "UnknownError" { isSystem = true }
        if isSystem { return .systemRetryableFailure("Interrupted", message) }
        return .retryableFailure(code, message)
    }

    // MARK: Pending

    func pending(_ pod: Pod) -> PhaseInfo {
        let status = pod.status ?? PodStatus()
        let created = pod.metadata.creationTimestamp.flatMap(KubeTime.parse) ?? now
        var result = PhaseInfo.queued("Scheduling")
        var since = created
        conditions: for condition in status.conditions ?? [] {
            switch (condition.type, condition.status) {
            case ("PodScheduled", "False"), ("Unschedulable", _):
                result = .queued("\(condition.reason ?? ""):\(condition.message ?? "")")
                since = condition.lastTransitionTime.flatMap(KubeTime.parse) ?? created
                break conditions
            case ("Ready", "False"):
                since = condition.lastTransitionTime.flatMap(KubeTime.parse) ?? created
                let statuses = (status.initContainerStatuses ?? []) + (status.containerStatuses ?? []).filter { $0.ready != true }
                for container in statuses {
                    guard let waiting = container.state?.waiting, let reason = waiting.reason, !reason.isEmpty else { continue }
                    let text = "[\(condition.reason ?? "")|\(reason)]: \(condition.message ?? "")|\(waiting.message ?? "")"
                    result = waitingPhase(reason: reason, message: text, waitingMessage: waiting.message ?? "", since: since)
                    break conditions
                }
            default:
                continue
            }
        }
        if result.phase.isFailure { return result }
        if config.podPendingTimeoutSeconds > 0 {
            let timeout = TimeInterval(config.podPendingTimeoutSeconds)
            let pendingFor = now.timeIntervalSince(created)
            if pendingFor >= timeout {
                return .systemRetryableFailure("PodPendingTimeout", "pod has been pending for \(Int(pendingFor))s, more than the pod-pending-timeout of \(config.podPendingTimeoutSeconds)s: \(result.reason)", cleanup: true)
            }
            let left = Duration.milliseconds(Int64((timeout - pendingFor) * 1000))
            result.recheckAfter = result.recheckAfter.map { min($0, left) } ?? left
        }
        return result
    }

    func waitingPhase(reason: String, message: String, waitingMessage: String, since: Date) -> PhaseInfo {
        func withGrace(_ seconds: Int, failed: (String) -> PhaseInfo) -> PhaseInfo {
            let elapsed = now.timeIntervalSince(since)
            if elapsed >= TimeInterval(seconds) {
                return failed("Grace period [\(GoDuration.text(Double(seconds)))] exceeded|\(message)")
            }
            var info = PhaseInfo.initializing(message)
            info.recheckAfter = .milliseconds(Int64((TimeInterval(seconds) - elapsed) * 1000))
            return info
        }
        switch reason {
        case "ErrImagePull", "ContainerCreating", "PodInitializing":
            return .initializing(message)
        case "CreateContainerError":
            return withGrace(config.createContainerErrorGracePeriodSeconds) { .failure(reason, $0, cleanup: true) }
        case "CreateContainerConfigError":
            return withGrace(config.createContainerConfigErrorGracePeriodSeconds) { .failure(reason, $0, cleanup: true) }
        case "InvalidImageName":
            return .failure(reason, message, cleanup: true)
        case "ImagePullBackOff":
            return withGrace(config.imagePullBackoffGracePeriodSeconds) { text in
                waitingMessage.contains("429 Too Many Requests")
                    ? .systemRetryableFailure(reason, text, cleanup: true)
                    : .retryableFailure(reason, text, cleanup: true)
            }
        default:
            return .systemRetryableFailure(reason, message, cleanup: true)
        }
    }

}
