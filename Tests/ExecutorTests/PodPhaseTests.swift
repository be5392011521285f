import FlyteIDL
import Foundation
import KubeClient
import Testing
@testable import TaskPlugins

/// The Pod status → phase rules of spec §7.2.
@Suite("Pod status to phase")
struct PodPhaseTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static func at(_ offset: TimeInterval) -> String { KubeTime.format(now.addingTimeInterval(offset)) }

    static func pod(phase: String?, primary: String? = "main", conditions: [PodCondition] = [], containers: [ContainerStatus] = [], reason: String? = nil, created: TimeInterval = -10) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: "p", namespace: "default", annotations: primary.map { ["primary_container_name": $0] }), spec: PodSpec(containers: [Container(name: "main")]))
        pod.metadata.creationTimestamp = at(created)
        var status = PodStatus(phase: phase, reason: reason)
        status.conditions = conditions
        status.containerStatuses = containers
        pod.status = status
        return pod
    }

    static func terminated(_ name: String = "main", exit: Int32, reason: String) -> ContainerStatus {
        ContainerStatus(name: name, state: ContainerState(terminated: .init(exitCode: exit, reason: reason)))
    }

    static func waiting(_ reason: String, message: String = "") -> ContainerStatus {
        ContainerStatus(name: "main", ready: false, state: ContainerState(waiting: .init(reason: reason, message: message)))
    }

    var mapper = PodPhaseMapper(config: PluginConfig(), now: now)

    @Test("the log context: the Pod, its primary container (kubectl's default container first, then the annotation, the Pod's namesake, the first), each container's start and end; none for an Unknown Pod")
    func logContext() throws {
        var pod = Self.pod(phase: "Running", containers: [
            ContainerStatus(name: "main", state: ContainerState(running: .init(startedAt: Self.at(-5)))),
            ContainerStatus(name: "side", state: ContainerState(terminated: .init(exitCode: 0, startedAt: Self.at(-8), finishedAt: Self.at(-2)))),
        ])
        pod.spec?.containers.append(Container(name: "side"))
        pod.status?.initContainerStatuses = [ContainerStatus(name: "init", state: ContainerState(terminated: .init(exitCode: 0, startedAt: Self.at(-9), finishedAt: Self.at(-8))))]
        let plugin = PodPlugin()
        let context = PluginTests.context(Flyteidl2_Core_TaskTemplate())
        let logs = try #require(plugin.phase(of: pod, context: context).logContext)
        #expect(logs.primaryPodName == "p")
        let only = try #require(logs.pods.first)
        #expect(logs.pods.count == 1 && only.namespace == "default" && only.podName == "p" && only.primaryContainerName == "main")
        #expect(only.containers.map(\.containerName) == ["main", "side"])
        #expect(only.containers[0].process.containerStartTime.seconds == Int64(Self.now.timeIntervalSince1970) - 5 && !only.containers[0].process.hasContainerEndTime)
        #expect(only.containers[1].process.containerStartTime.seconds == Int64(Self.now.timeIntervalSince1970) - 8)
        #expect(only.containers[1].process.containerEndTime.seconds == Int64(Self.now.timeIntervalSince1970) - 2)
        #expect(only.initContainers.map(\.containerName) == ["init"])

        pod.metadata.annotations = ["kubectl.kubernetes.io/default-container": "side", "primary_container_name": "main"]
        #expect(PodPlugin.primaryContainerName(pod) == "side")
        pod.metadata.annotations = nil
        pod.spec?.containers.append(Container(name: "p"))
        #expect(PodPlugin.primaryContainerName(pod) == "p")
        pod.spec?.containers.removeLast()
        #expect(PodPlugin.primaryContainerName(pod) == "main")

        pod.status?.phase = "Unknown"
        #expect(plugin.phase(of: pod, context: context).logContext == nil)
    }

    @Test("a Pod without status or not yet scheduled is queued")
    func queued() {
        #expect(mapper.phase(of: Self.pod(phase: nil)) == .queued("Scheduling"))
        let unscheduled = Self.pod(phase: "Pending", conditions: [PodCondition(type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available")])
        #expect(mapper.phase(of: unscheduled).reason == "Unschedulable:0/3 nodes are available")
    }

    @Test("ContainerCreating initializes; ImagePullBackOff initializes within its grace period, then fails retryably with cleanup")
    func imagePull() {
        let ready = { (offset: TimeInterval) in PodCondition(type: "Ready", status: "False", reason: "ContainersNotReady", message: "not ready", lastTransitionTime: Self.at(offset)) }
        #expect(mapper.phase(of: Self.pod(phase: "Pending", conditions: [ready(-1)], containers: [Self.waiting("ContainerCreating")])).phase == .initializing)
        let early = mapper.phase(of: Self.pod(phase: "Pending", conditions: [ready(-60)], containers: [Self.waiting("ImagePullBackOff")]))
        #expect(early.phase == .initializing)
        #expect(early.recheckAfter == .seconds(120))
        let late = mapper.phase(of: Self.pod(phase: "Pending", conditions: [ready(-181)], containers: [Self.waiting("ImagePullBackOff", message: "Back-off")]))
        #expect(late.phase == .retryableFailure)
        #expect(late.error?.kind == .user)
        #expect(late.error?.code == "ImagePullBackOff")
        #expect(late.cleanupOnFailure)
        #expect(late.error?.message.hasPrefix("Grace period [3m0s] exceeded|[ContainersNotReady|ImagePullBackOff]: not ready|Back-off") == true)
        let throttled = mapper.phase(of: Self.pod(phase: "Pending", conditions: [ready(-181)], containers: [Self.waiting("ImagePullBackOff", message: "429 Too Many Requests")]))
        #expect(throttled.error?.kind == .system)
    }

    @Test("InvalidImageName fails permanently at once; CreateContainerConfigError after its 0 s grace; unknown waiting reasons are system failures")
    func waitingReasons() {
        let ready = PodCondition(type: "Ready", status: "False", reason: "ContainersNotReady", message: "", lastTransitionTime: Self.at(-1))
        #expect(mapper.phase(of: Self.pod(phase: "Pending", conditions: [ready], containers: [Self.waiting("InvalidImageName")])).phase == .permanentFailure)
        #expect(mapper.phase(of: Self.pod(phase: "Pending", conditions: [ready], containers: [Self.waiting("CreateContainerConfigError")])).phase == .permanentFailure)
        #expect(mapper.phase(of: Self.pod(phase: "Pending", conditions: [ready], containers: [Self.waiting("CreateContainerError")])).phase == .initializing)
        let odd = mapper.phase(of: Self.pod(phase: "Pending", conditions: [ready], containers: [Self.waiting("SomethingNew")]))
        #expect(odd.phase == .retryableFailure && odd.error?.kind == .system)
    }

    @Test("pod-pending-timeout fails a Pod pending too long as a system error")
    func pendingTimeout() {
        var config = PluginConfig()
        config.podPendingTimeoutSeconds = 60
        let mapper = PodPhaseMapper(config: config, now: Self.now)
        #expect(mapper.phase(of: Self.pod(phase: "Pending", created: -30)).recheckAfter == .seconds(30))
        let timedOut = mapper.phase(of: Self.pod(phase: "Pending", created: -61))
        #expect(timedOut.error?.code == "PodPendingTimeout")
        #expect(timedOut.error?.kind == .system)
    }

    @Test("the primary container decides a running Pod: running, success, failure, OOMKilled, SIGKILL")
    func primary() {
        #expect(mapper.phase(of: Self.pod(phase: "Running", containers: [ContainerStatus(name: "main", state: ContainerState(running: .init()))])).phase == .running)
        #expect(mapper.phase(of: Self.pod(phase: "Running", containers: [Self.terminated(exit: 0, reason: "Completed")])).phase == .success)
        let failed = mapper.phase(of: Self.pod(phase: "Running", containers: [Self.terminated(exit: 1, reason: "Error")]))
        #expect(failed.phase == .retryableFailure && failed.error?.kind == .user && failed.error?.code == "Error")
        let oom = mapper.phase(of: Self.pod(phase: "Running", containers: [Self.terminated(exit: 137, reason: "OOMKilled")]))
        #expect(oom.error?.code == "OOMKilled" && oom.error?.kind == .user)
        let killed = mapper.phase(of: Self.pod(phase: "Running", containers: [Self.terminated(exit: 137, reason: "Error")]))
        #expect(killed.phase == .retryableFailure && killed.error?.kind == .system)
        #expect(mapper.phase(of: Self.pod(phase: "Running", containers: [])).phase == .running)
        var missing = Self.pod(phase: "Running", primary: "ghost", containers: [])
        missing.spec = PodSpec(containers: [Container(name: "main")])
        #expect(mapper.phase(of: missing).error?.code == "PrimaryContainerNotFound")
    }

    @Test("without a primary container a running Pod succeeds when every container exited 0")
    func noPrimary() {
        #expect(mapper.phase(of: Self.pod(phase: "Running", primary: nil, containers: [Self.terminated(exit: 0, reason: "Completed"), Self.terminated("side", exit: 0, reason: "Completed")])).phase == .success)
        #expect(mapper.phase(of: Self.pod(phase: "Running", primary: nil, containers: [Self.terminated(exit: 0, reason: "Completed"), ContainerStatus(name: "side", state: ContainerState(running: .init()))])).phase == .running)
    }

    @Test("Succeeded is success unless a container was OOMKilled; Unknown changes nothing")
    func succeeded() {
        #expect(mapper.phase(of: Self.pod(phase: "Succeeded")).phase == .success)
        let oom = mapper.phase(of: Self.pod(phase: "Succeeded", containers: [Self.terminated(exit: 0, reason: "OOMKilled")]))
        #expect(oom.error?.code == "OOMKilled" && oom.error?.message == "Pod reported success despite being OOMKilled")
        #expect(mapper.phase(of: Self.pod(phase: "Unknown")).phase == .undefined)
    }

    @Test("a Failed Pod: OOMKilled is a user error, node shutdown and SIGKILL are system errors")
    func failed() {
        let oom = mapper.phase(of: Self.pod(phase: "Failed", containers: [Self.terminated(exit: 137, reason: "OOMKilled")], reason: "Error"))
        #expect(oom.error?.code == "OOMKilled" && oom.error?.kind == .user)
        let user = mapper.phase(of: Self.pod(phase: "Failed", containers: [Self.terminated(exit: 2, reason: "Error")], reason: "Error"))
        #expect(user.error?.code == "Error" && user.error?.kind == .user)
        let shutdown = mapper.phase(of: Self.pod(phase: "Failed", reason: "NodeShutdown"))
        #expect(shutdown.error?.code == "Interrupted" && shutdown.error?.kind == .system)
        let killed = mapper.phase(of: Self.pod(phase: "Failed", containers: [Self.terminated(exit: 137, reason: "Error")], reason: "Error"))
        #expect(killed.error?.kind == .system)
        let unknown = mapper.phase(of: Self.pod(phase: "Failed"))
        #expect(unknown.error?.kind == .system)
        // No pod reason, but the container says why: the user's error (a deliberate difference).
        let exited = mapper.phase(of: Self.pod(phase: "Failed", containers: [Self.terminated(exit: 3, reason: "Error")]))
        #expect(exited.error?.code == "Error" && exited.error?.kind == .user)
    }

    @Test("the Pod plugin caches a Pod that has ended without its conditions and judges it the same; a Pending or Running one keeps them")
    func endedPodCachedWithoutConditions() throws {
        let plugin = PodPlugin()
        let transform = try #require(plugin.cacheTransform)
        let conditions = [PodCondition(type: "PodScheduled", status: "True"), PodCondition(type: "Ready", status: "False", reason: "PodCompleted", message: "", lastTransitionTime: Self.at(-1))]
        for ended in [Self.pod(phase: "Succeeded", conditions: conditions, containers: [Self.terminated(exit: 0, reason: "Completed")]),
                      Self.pod(phase: "Failed", conditions: conditions, containers: [Self.terminated(exit: 137, reason: "OOMKilled")], reason: "Error")] {
            var cached = ended
            transform(&cached)
            #expect(cached.status?.conditions == nil)
            #expect(cached.status?.containerStatuses == ended.status?.containerStatuses)
            #expect(mapper.phase(of: cached) == mapper.phase(of: ended))
            #expect(plugin.completionTime(cached) == plugin.completionTime(ended) && plugin.isTerminal(cached))
        }
        let unscheduled = Self.pod(phase: "Pending", conditions: [PodCondition(type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available")])
        var cached = unscheduled
        transform(&cached)
        #expect(cached.status?.conditions == unscheduled.status?.conditions)
        var running = Self.pod(phase: "Running", conditions: conditions, containers: [ContainerStatus(name: "main", ready: true, state: ContainerState(running: .init(startedAt: Self.at(-1))))])
        transform(&running)
        #expect(running.status?.conditions?.count == 2)
    }

    @Test("the Pod plugin keeps a finished TaskAction's Pod as its metadata and phase, and judges another version of it the same")
    func finishedPodView() throws {
        let plugin = PodPlugin()
        let finished = try #require(plugin.finishedCacheTransform)
        var ended = Self.pod(phase: "Succeeded", conditions: [PodCondition(type: "Ready", status: "False")], containers: [Self.terminated(exit: 0, reason: "Completed")])
        ended.metadata.uid = "u1"
        ended.metadata.resourceVersion = "7"
        ended.metadata.ownerReferences = [OwnerReference(apiVersion: "flyte.org/v1", kind: "TaskAction", name: "a", uid: "ta-1", controller: true)]
        let transform = try #require(plugin.cacheTransform)
        var statusView = ended
        transform(&statusView)
        var kept = statusView
        finished(&kept)
        #expect(kept.spec == nil && kept.status == PodStatus(phase: "Succeeded"))
        #expect(kept.metadata == statusView.metadata && kept.metadata.ownerReferences == ended.metadata.ownerReferences)
        #expect(plugin.isTerminal(kept))
        // Its next event, whole again, wakes no round: the judgement stays.
        #expect(!plugin.changeNeedsRound(from: kept, to: kept))
        var again = kept
        finished(&again)
        #expect(again == kept, "idempotent")
    }

    @Test("a Pod's change wakes its TaskAction's round only when it changes what the phase rules say: bound, or made ready while Running, no; ContainerCreating, Running, Succeeded, a deletion, another uid or new labels, yes")
    func changeNeedsRound() {
        let plugin = PodPlugin()
        var created = Self.pod(phase: nil)
        created.metadata.uid = "u1"
        var bound = created
        bound.spec?.nodeName = "node-1"
        bound.status = PodStatus(phase: "Pending")
        bound.status?.conditions = [PodCondition(type: "PodScheduled", status: "True")]
        #expect(!plugin.changeNeedsRound(from: created, to: bound), "Queued (Scheduling) either way")
        var creating = bound
        creating.status?.conditions = [PodCondition(type: "PodScheduled", status: "True"), PodCondition(type: "Ready", status: "False", reason: "ContainersNotReady", message: "", lastTransitionTime: Self.at(-1))]
        creating.status?.containerStatuses = [Self.waiting("ContainerCreating")]
        #expect(plugin.changeNeedsRound(from: bound, to: creating), "Queued → Initializing")
        var running = creating
        running.status?.phase = "Running"
        running.status?.containerStatuses = [ContainerStatus(name: "main", ready: false, state: ContainerState(running: .init(startedAt: Self.at(0))))]
        #expect(plugin.changeNeedsRound(from: creating, to: running), "Initializing → Running")
        var ready = running
        ready.status?.podIP = "10.0.0.7"
        ready.status?.containerStatuses?[0].ready = true
        #expect(!plugin.changeNeedsRound(from: running, to: ready), "Running either way")
        var done = ready
        done.status?.phase = "Succeeded"
        done.status?.containerStatuses = [Self.terminated(exit: 0, reason: "Completed")]
        #expect(plugin.changeNeedsRound(from: ready, to: done))
        var deleting = ready
        deleting.metadata.deletionTimestamp = Self.at(5)
        #expect(plugin.changeNeedsRound(from: ready, to: deleting), "a deletion is judged whatever the phase")
        var replaced = ready
        replaced.metadata.uid = "u2"
        #expect(plugin.changeNeedsRound(from: ready, to: replaced))
        var relabelled = ready
        relabelled.metadata.labels = ["attempt": "2"]
        #expect(plugin.changeNeedsRound(from: ready, to: relabelled))
    }

}
