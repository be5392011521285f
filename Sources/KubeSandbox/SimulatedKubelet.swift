import Foundation
import KubeClient
import Logging
import Synchronization

/// A stand-in for the scheduler and the kubelets of a cluster: it watches every Pod through
/// the API, binds each to the node `sandbox-node` (`pods/binding`), and moves it through
/// Pending, Running and Succeeded or Failed by writing `/status`. A bound Pod that is deleted
/// is Terminating until the kubelet confirms, as on a real node: it stops the Pod and deletes
/// it with a grace period of 0. What happens to a Pod is chosen per Pod, by annotation or by an environment
/// variable of its first container (so a task template can choose it):
///
/// | annotation / env | values | default |
/// |---|---|---|
/// | `kubelet.sandbox.flyte.org/outcome` / `SANDBOX_OUTCOME` | `succeed`, `fail`, `oom`, `image-pull-backoff`, `invalid-image`, `secret-missing`, `hang` | `succeed` |
/// | `kubelet.sandbox.flyte.org/duration` / `SANDBOX_DURATION` | seconds the container runs | `0.2` |
/// | `kubelet.sandbox.flyte.org/exit-code` / `SANDBOX_EXIT_CODE` | exit code of `fail` | `1` |
/// | `kubelet.sandbox.flyte.org/startup` / `SANDBOX_STARTUP` | seconds in ContainerCreating | `0.1` |
/// | `kubelet.sandbox.flyte.org/step` / `SANDBOX_STEP` | `manual`: move on only when told | timed |
///
/// An image on a registry under the reserved `.invalid` domain (`registry.invalid/app:1`)
/// cannot be pulled: ErrImagePull, then ImagePullBackOff. A Pod with `restartPolicy: Always`
/// whose container fails (`fail`, `oom`) is restarted, as a kubelet does: it stays Running,
/// its container waiting in CrashLoopBackOff with the failure as `lastState`.
/// `secret-missing` leaves the container in CreateContainerConfigError, as a missing Secret
/// referenced by the environment does.
///
/// A `manual` Pod stays in ContainerCreating until its annotation
/// `kubelet.sandbox.flyte.org/advance` reaches 1, and Running until it reaches 2: a test then
/// sees every phase however loaded the machine is (``advance(_:namespace:client:)``).
///
/// Against a real cluster (the portable tests' `EXECUTOR_E2E=1`) a ``Scope`` keeps it to the Pods
/// of one namespace that name its scheduler, so the cluster's own scheduler and kubelets leave
/// them alone and it leaves theirs alone.
public final class SimulatedKubelet: Sendable {
    /// Which Pods this kubelet takes.
    public struct Scope: Sendable {
        /// Only Pods of this namespace; nil: every namespace.
        public var namespace: String?
        /// Only Pods whose `spec.schedulerName` is this (the default scheduler ignores them); nil: every Pod.
        public var schedulerName: String?
        public init(namespace: String? = nil, schedulerName: String? = nil) {
            self.namespace = namespace
            self.schedulerName = schedulerName
        }

        func takes(_ pod: Pod) -> Bool {
            guard let schedulerName else { return true }
            // A Pod bound to another node is that node's kubelet's.
            let node = pod.spec?.nodeName ?? ""
            return pod.spec?.schedulerName == schedulerName && (node.isEmpty || node == SimulatedKubelet.nodeName)
        }
    }

    public static let outcomeAnnotation = "kubelet.sandbox.flyte.org/outcome"
    public static let durationAnnotation = "kubelet.sandbox.flyte.org/duration"
    public static let exitCodeAnnotation = "kubelet.sandbox.flyte.org/exit-code"
    public static let startupAnnotation = "kubelet.sandbox.flyte.org/startup"
    public static let stepAnnotation = "kubelet.sandbox.flyte.org/step"
    /// The node every Pod is bound to.
    public static let nodeName = "sandbox-node"
    public static let advanceAnnotation = "kubelet.sandbox.flyte.org/advance"
    /// The Secret `secret-missing` names (`app-secret` without it).
    public static let secretAnnotation = "kubelet.sandbox.flyte.org/secret"

    /// Images under the reserved `.invalid` domain cannot be pulled.
    static func unpullable(_ image: String?) -> Bool {
        guard let host = image?.split(separator: "/").first, image?.contains("/") == true else { return false }
        return host.hasSuffix(".invalid") || host.contains(".invalid:")
    }

    /// Moves a `manual` Pod one step on (ContainerCreating → Running → its outcome) through
    /// the API, as any client could.
    public static func advance(_ name: String, namespace: String, client: KubernetesClient) async throws {
        let pod = try await client.get(Pod.self, name: name, namespace: namespace)
        let next = (pod.metadata.annotations?[advanceAnnotation].flatMap(Int.init) ?? 0) + 1
        _ = try await client.patch(Pod.resourceType, name: name, namespace: namespace, .merge(["metadata": ["annotations": [.init(advanceAnnotation): .string(String(next))]]]))
    }

    let client: KubernetesClient
    let logger: Logger
    let scope: Scope
    private let state = Mutex<(loop: Task<Void, Never>?, pods: [String: Task<Void, Never>])>((nil, [:]))
    /// For `manual` Pods: the last `advance` annotation seen, and who waits for a higher one.
    private let steps = Mutex<[String: (reached: Int, waiters: [(step: Int, continuation: CheckedContinuation<Void, Never>)])]>([:])

    private init(client: KubernetesClient, scope: Scope, logger: Logger) {
        self.client = client
        self.scope = scope
        self.logger = logger
    }

    /// Starts watching the API server `configuration` points at, for the Pods `scope` names.
    public static func start(configuration: ClientConfiguration, scope: Scope = Scope(), logger: Logger = Logger(label: "kubelet")) throws -> SimulatedKubelet {
        let kubelet = SimulatedKubelet(client: try KubernetesClient(configuration: configuration), scope: scope, logger: logger)
        let loop = Task { await kubelet.run() }
        kubelet.state.withLock { $0.loop = loop }
        return kubelet
    }

    public func stop() async {
        let (loop, pods) = state.withLock { s in
            defer { s = (nil, [:]) }
            return (s.loop, s.pods)
        }
        loop?.cancel()
        for task in pods.values { task.cancel() }
        let waiting = steps.withLock { s in
            defer { s = [:] }
            return s.values.flatMap { $0.waiters.map(\.continuation) }
        }
        for waiter in waiting { waiter.resume() }
        await loop?.value
        try? await client.shutdown()
    }

    private func run() async {
        while !Task.isCancelled {
            do {
                let list = try await client.list(Pod.self, namespace: scope.namespace)
                for pod in list.items where scope.takes(pod) {
                    if pod.metadata.deletionTimestamp != nil { confirmDeletion(pod) } else { adopt(pod) }
                }
                let stream = try await client.watch(Pod.self, namespace: scope.namespace, options: WatchOptions(resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 300))
                for try await event in stream {
                    switch event {
                    case .added(let pod), .modified(let pod):
                        guard scope.takes(pod) else { continue }
                        if pod.metadata.deletionTimestamp != nil {
                            forget(pod)
                            confirmDeletion(pod)
                        } else {
                            adopt(pod)
                        }
                        if let step = pod.metadata.annotations?[Self.advanceAnnotation].flatMap(Int.init) { reached(step, key(pod)) }
                    case .deleted(let pod): forget(pod)
                    case .bookmark: break
                    }
                }
            } catch {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private func key(_ pod: Pod) -> String { pod.metadata.uid ?? "\(pod.metadata.namespace ?? "")/\(pod.metadata.name ?? "")" }

    private func adopt(_ pod: Pod) {
        // A Pod that already ran (or a restart finds) is left alone.
        if let phase = pod.status?.phase, phase == "Succeeded" || phase == "Failed" { return }
        let key = key(pod)
        state.withLock { s in
            guard s.pods[key] == nil, s.loop != nil else { return }
            s.pods[key] = Task { [self] in await self.simulate(pod) }
        }
    }

    private func forget(_ pod: Pod) {
        let task = state.withLock { $0.pods.removeValue(forKey: key(pod)) }
        task?.cancel()
        let waiting = steps.withLock { $0.removeValue(forKey: key(pod))?.waiters.map(\.continuation) ?? [] }
        for waiter in waiting { waiter.resume() }
    }

    /// The kubelet's side of a graceful deletion: the containers are stopped at once, so the
    /// Pod is deleted with a grace period of 0 (only that very Pod, by uid). A failed delete is
    /// tried again, as the kubelet's pod worker does, or the Pod would stay Terminating.
    private func confirmDeletion(_ pod: Pod) {
        guard (pod.metadata.deletionGracePeriodSeconds ?? 0) > 0, !(pod.spec?.nodeName ?? "").isEmpty, let name = pod.metadata.name else { return }
        let client = self.client
        Task {
            for attempt in 1...20 {
                do {
                    _ = try await client.delete(Pod.self, name: name, namespace: pod.metadata.namespace, options: DeleteOptions(gracePeriodSeconds: 0, preconditionUID: pod.metadata.uid))
                    return
                } catch let error as KubeAPIError where error.isNotFound || error.isConflict {
                    return  // gone already, or another Pod under that name
                } catch {
                    // Bounded: a sandbox that shut down ends the tries within about 10 s.
                    try? await Task.sleep(for: .milliseconds(50 * attempt))
                }
            }
        }
    }

    private func reached(_ step: Int, _ key: String) {
        let ready = steps.withLock { s -> [CheckedContinuation<Void, Never>] in
            var entry = s[key] ?? (0, [])
            entry.reached = max(entry.reached, step)
            let due = entry.waiters.filter { $0.step <= entry.reached }.map(\.continuation)
            entry.waiters.removeAll { $0.step <= entry.reached }
            s[key] = entry
            return due
        }
        for waiter in ready { waiter.resume() }
    }

    /// Returns once the Pod's `advance` annotation reached `step`, or it was forgotten.
    private func waitForStep(_ step: Int, _ key: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = steps.withLock { s -> Bool in
                var entry = s[key] ?? (0, [])
                if entry.reached >= step { return true }
                entry.waiters.append((step, continuation))
                s[key] = entry
                return false
            }
            if now { continuation.resume() }
        }
    }

    struct Plan {
        var outcome = "succeed"
        var duration: Double = 0.2
        var exitCode: Int32 = 1
        var startup: Double = 0.1
        var manual = false
    }

    static func plan(for pod: Pod) -> Plan {
        var plan = Plan()
        let env = Dictionary((pod.spec?.containers.first?.env ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let annotations = pod.metadata.annotations ?? [:]
        if let outcome = annotations[outcomeAnnotation] ?? env["SANDBOX_OUTCOME"] { plan.outcome = outcome }
        if let duration = (annotations[durationAnnotation] ?? env["SANDBOX_DURATION"]).flatMap(Double.init) { plan.duration = duration }
        if let code = (annotations[exitCodeAnnotation] ?? env["SANDBOX_EXIT_CODE"]).flatMap(Int32.init) { plan.exitCode = code }
        if let startup = (annotations[startupAnnotation] ?? env["SANDBOX_STARTUP"]).flatMap(Double.init) { plan.startup = startup }
        plan.manual = (annotations[stepAnnotation] ?? env["SANDBOX_STEP"]) == "manual"
        return plan
    }

    private func simulate(_ pod: Pod) async {
        let plan = Self.plan(for: pod)
        let containers = pod.spec?.containers.map(\.name) ?? []
        let started = KubeTime.format(Date())
        func condition(_ type: String, _ status: Bool, reason: String? = nil, message: String? = nil) -> JSONValue {
            var c: [String: JSONValue] = ["type": .string(type), "status": status ? "True" : "False", "lastTransitionTime": .string(KubeTime.format(Date()))]
            if let reason { c["reason"] = .string(reason) }
            if let message { c["message"] = .string(message) }
            return .object(c)
        }
        func statuses(_ state: JSONValue, ready: Bool = false) -> JSONValue {
            .array(containers.map { ["name": .string($0), "ready": .bool(ready), "restartCount": 0, "image": "sandbox", "state": state] })
        }
        // As the kubelet's status manager: a status the API server did not take (it was down,
        // it answered 5xx) is sent again until it is, or until the Pod is gone.
        func write(_ status: JSONValue) async -> Bool {
            var delay: Duration = .milliseconds(100)
            while !Task.isCancelled {
                do {
                    _ = try await client.patch(Pod.resourceType, name: pod.metadata.name ?? "", namespace: pod.metadata.namespace, .merge(["status": status]), subresource: "status")
                    return true
                } catch let error as KubeAPIError where error.isNotFound || error.isGone || error.isInvalid || error.isForbidden {
                    return false
                } catch {
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(2))
                }
            }
            return false
        }
        func waiting(_ reason: String, _ message: String) -> JSONValue {
            ["phase": "Pending", "startTime": .string(started),
             "conditions": [condition("PodScheduled", true), condition("Initialized", true), condition("Ready", false, reason: "ContainersNotReady", message: "containers with unready status: [\(containers.joined(separator: " "))]")],
             "containerStatuses": statuses(["waiting": ["reason": .string(reason), "message": .string(message)]])]
        }

        if (pod.spec?.nodeName ?? "").isEmpty, let name = pod.metadata.name {
            // The scheduler's part: bind the Pod to the one node. A Pod bound meanwhile is fine.
            let binding: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(name)], "target": ["apiVersion": "v1", "kind": "Node", "name": .string(Self.nodeName)]]
            _ = try? await client.raw(method: "POST", path: Pod.resourceType.path(namespace: pod.metadata.namespace, name: name, subresource: "binding"), body: binding.serialized())
        }
        guard await write(waiting("ContainerCreating", "")) else { return }
        if let image = pod.spec?.containers.first(where: { Self.unpullable($0.image) })?.image {
            let host = image.split(separator: "/").first.map(String.init) ?? image
            guard await write(waiting("ErrImagePull", "failed to pull and unpack image \"\(image)\": failed to resolve reference \"\(image)\": dial tcp: lookup \(host): no such host")) else { return }
            try? await Task.sleep(for: .milliseconds(100))
            _ = await write(waiting("ImagePullBackOff", "Back-off pulling image \"\(image)\""))
            return
        }
        switch plan.outcome {
        case "secret-missing":
            _ = await write(waiting("CreateContainerConfigError", "secret \"\(pod.metadata.annotations?[Self.secretAnnotation] ?? "app-secret")\" not found"))
            return
        case "image-pull-backoff":
            _ = await write(waiting("ImagePullBackOff", "Back-off pulling image \"\(pod.spec?.containers.first?.image ?? "")\""))
            return
        case "invalid-image":
            _ = await write(waiting("InvalidImageName", "couldn't parse image name"))
            return
        default:
            break
        }
        if plan.manual { await waitForStep(1, key(pod)) } else { try? await Task.sleep(for: .milliseconds(Int64(plan.startup * 1000))) }
        let runningState: JSONValue = ["running": ["startedAt": .string(KubeTime.format(Date()))]]
        // The Pod's address, as the network plugin assigns it once the sandbox runs: stable per uid.
        let uidBytes = Array((pod.metadata.uid ?? "").utf8)
        let ip = JSONValue.string("10.244.\((uidBytes.first ?? 0) % 250).\((uidBytes.last ?? 0) % 250 + 2)")
        guard await write(["phase": "Running", "podIP": ip, "podIPs": [["ip": ip]], "hostIP": "10.0.0.1", "hostIPs": [["ip": "10.0.0.1"]],
                           "conditions": [condition("PodScheduled", true), condition("Initialized", true), condition("Ready", true)], "containerStatuses": statuses(runningState, ready: true)]) else { return }
        if plan.outcome == "hang" { return }
        if plan.manual { await waitForStep(2, key(pod)) } else { try? await Task.sleep(for: .milliseconds(Int64(plan.duration * 1000))) }
        if pod.spec?.restartPolicy == "Always", plan.outcome == "fail" || plan.outcome == "oom" {
            // Restarted after the failure, and backing off: Running, not ready, the failure kept as lastState.
            let (code, reason): (Int32, String) = plan.outcome == "oom" ? (137, "OOMKilled") : (plan.exitCode, "Error")
            let failed: JSONValue = ["exitCode": .int(Int64(code)), "reason": .string(reason), "startedAt": .string(started), "finishedAt": .string(KubeTime.format(Date()))]
            let backoff: JSONValue = .array(containers.map { name in
                ["name": .string(name), "ready": false, "restartCount": 1, "image": "sandbox",
                 "state": ["waiting": ["reason": "CrashLoopBackOff", "message": .string("back-off 10s restarting failed container=\(name) pod=\(pod.metadata.name ?? "")")]],
                 "lastState": ["terminated": failed]]
            })
            _ = await write(["phase": "Running", "conditions": [condition("PodScheduled", true), condition("Initialized", true), condition("Ready", false, reason: "ContainersNotReady")], "containerStatuses": backoff])
            return
        }
        let (phase, exitCode, reason): (String, Int32, String) = switch plan.outcome {
        case "fail": ("Failed", plan.exitCode, "Error")
        case "oom": ("Failed", 137, "OOMKilled")
        default: ("Succeeded", 0, "Completed")
        }
        let terminated: JSONValue = ["terminated": ["exitCode": .int(Int64(exitCode)), "reason": .string(reason), "startedAt": .string(started), "finishedAt": .string(KubeTime.format(Date()))]]
        _ = await write(["phase": .string(phase), "conditions": [condition("PodScheduled", true), condition("Initialized", true), condition("Ready", false, reason: "PodCompleted")], "containerStatuses": statuses(terminated)])
        state.withLock { _ = $0.pods.removeValue(forKey: key(pod)) }
    }
}
