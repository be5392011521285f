import ExecutorAPI
import ExecutorControllers
import Foundation
import KubeClient
import Testing

/// Spec §9.3's derivation of an App's conditions from its Knative Service, and the substates
/// read from its pods.
@Suite("App status derivation")
struct AppStatusTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    static func app() -> App {
        var metadata = ObjectMeta(name: "web", namespace: "default")
        metadata.generation = 3
        return App(metadata: metadata, spec: AppSpec(id: AppIdentifier(project: "p", domain: "d", name: "web"), fields: ["container": ["image": "nginx"]]))
    }

    static func service(_ conditions: [(String, String, String?, String?)], generation: Int64 = 1, observed: Int64 = 1, labels: [String: String] = [:]) -> KnativeService {
        var metadata = ObjectMeta(name: "web-p-d", namespace: "default", labels: labels)
        metadata.generation = generation
        metadata.creationTimestamp = "2026-11-30T00:00:00Z"
        let list: [JSONValue] = conditions.map { type, status, reason, message in
            var c: JSONValue = ["type": .string(type), "status": .string(status), "lastTransitionTime": "2026-11-30T00:00:01Z"]
            if let reason { c["reason"] = .string(reason) }
            if let message { c["message"] = .string(message) }
            return c
        }
        return KnativeService(metadata: metadata, status: ["observedGeneration": .int(observed), "conditions": .array(list), "url": "http://web-p-d.default.example.com"])
    }

    static func derive(_ service: KnativeService?, pods: [Pod] = [], publicURL: String? = nil) -> AppStatus {
        AppStatusDeriver.derive(app: app(), deploymentID: "sha", serviceName: "web-p-d", observed: AppObservation(service: service, pods: pods), publicURL: publicURL, now: now)
    }

    static func pod(_ name: String, phase: String, waiting: String? = nil, message: String? = nil, ready: Bool = false, last: String? = nil) -> Pod {
        var status = PodStatus()
        status.phase = phase
        var container = ContainerStatus(name: "app")
        container.ready = ready
        if let waiting { container.state = ContainerState(waiting: .init(reason: waiting, message: message)) } else if phase == "Running" { container.state = ContainerState(running: .init(startedAt: "2026-11-30T00:00:02Z")) }
        if let last { container.lastState = ContainerState(terminated: .init(exitCode: last == "OOMKilled" ? 137 : 1, reason: last)) }
        container.restartCount = last == nil ? 0 : 4
        status.containerStatuses = [container]
        return Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: nil, status: status)
    }

    @Test("all three Knative conditions True: three ACTIVE conditions with the default messages")
    func ready() {
        let status = Self.derive(Self.service([("ConfigurationsReady", "True", nil, nil), ("Ready", "True", nil, nil), ("RoutesReady", "True", nil, nil)]))
        #expect(status.phase == "ACTIVE")
        #expect(status.conditions?.map(\.deploymentStatus) == [.active, .active, .active])
        #expect(status.conditions?.map(\.message) == ["Configuration is ready", "Service is ready", "Routes are ready"])
        #expect(status.conditions?.first?.lastTransitionTime == "2026-11-30T00:00:01Z", "Knative's time")
        #expect(status.substate == "SCALED_TO_ZERO", "ready with no pods")
        #expect(status.url == "http://web-p-d.default.example.com")
    }

    @Test("True while Ready is not gives DEPLOYING; Unknown gives PENDING; RoutesReady Unknown is skipped; the message is 'Reason: Message'")
    func deploying() {
        let status = Self.derive(Self.service([("ConfigurationsReady", "True", nil, nil), ("Ready", "Unknown", "RevisionMissing", "Revision \"x\" is not ready."), ("RoutesReady", "Unknown", nil, nil)]))
        #expect(status.conditions?.map(\.deploymentStatus) == [.deploying, .pending])
        #expect(status.conditions?.last?.message == "RevisionMissing: Revision \"x\" is not ready.")
        #expect(status.phase == "DEPLOYING")
    }

    @Test("False counts only when Ready is False, and then the App is FAILED with Knative's reason")
    func failed() {
        let dropped = Self.derive(Self.service([("ConfigurationsReady", "False", "RevisionFailed", "bad"), ("Ready", "Unknown", nil, nil)]))
        #expect(dropped.conditions?.map(\.deploymentStatus) == [.pending])
        let failed = Self.derive(Self.service([("ConfigurationsReady", "False", "RevisionFailed", "bad"), ("Ready", "False", "RevisionFailed", "bad")]))
        #expect(failed.phase == "FAILED")
        #expect(failed.substate == "SUBSTATE_UNSPECIFIED", "failed for a reason the pods do not tell")
        #expect(failed.message == "RevisionFailed: bad")
    }

    @Test("a Ready Service whose latest generation Knative has not observed is being rolled out")
    func staleGeneration() {
        let status = Self.derive(Self.service([("Ready", "True", nil, nil)], generation: 2, observed: 1))
        #expect(status.phase == "DEPLOYING")
    }

    @Test("the stopped label gives exactly one condition: STOPPED, App scaled to zero")
    func stopped() {
        let status = Self.derive(Self.service([("Ready", "True", nil, nil)], labels: ["flyte.org/app-stopped": "true"]))
        #expect(status.phase == "STOPPED")
        #expect(status.conditions?.count == 1)
        #expect(status.conditions?.first?.message == "App scaled to zero")
    }

    @Test("no Service yet: PENDING; the public URL wins over Knative's")
    func pendingAndURL() {
        #expect(Self.derive(nil).phase == "PENDING")
        let status = Self.derive(Self.service([("Ready", "True", nil, nil)]), publicURL: "https://web-p-d.apps.example.org")
        #expect(status.url == "https://web-p-d.apps.example.org")
        #expect(status.ingress?.publicUrl == "https://web-p-d.apps.example.org")
    }

    @Test("each waiting reason of a pod gives its substate", arguments: [
        ("ErrImagePull", nil, AppSubstate.imagePullError),
        ("ImagePullBackOff", nil, .imagePullError),
        ("InvalidImageName", nil, .imagePullError),
        ("CreateContainerConfigError", nil, .secretMountError),
        ("CrashLoopBackOff", "Error", .crashLoop),
        ("CrashLoopBackOff", "OOMKilled", .oomKilled),
        ("ContainerCreating", nil, .pullingImage),
    ] as [(String, String?, AppSubstate)])
    func waitingReasons(reason: String, last: String?, substate: AppSubstate) {
        let pod = Self.pod("web-p-d-00001-deployment-abc", phase: reason == "CrashLoopBackOff" ? "Running" : "Pending", waiting: reason, message: "detail", last: last)
        #expect(AppStatusDeriver.podSubstate(pod)?.substate == substate)
        let status = Self.derive(Self.service([("Ready", "Unknown", nil, nil)]), pods: [pod])
        #expect(status.substate == substate.rawValue)
        #expect(status.phase == (substate.isFailure ? "FAILED" : "DEPLOYING"))
        #expect(status.message?.hasPrefix("pod web-p-d-00001-deployment-abc: container app: ") == true, "\(status.message ?? "")")
    }

    @Test("ready pods under a Ready Service: RUNNING; one still starting beside them: SCALING_UP; none ready yet: SCALING_FROM_ZERO")
    func scaling() {
        let ready = Self.service([("Ready", "True", nil, nil)])
        let running = Self.pod("a", phase: "Running", ready: true)
        let starting = Self.pod("b", phase: "Pending", waiting: "ContainerCreating")
        #expect(Self.derive(ready, pods: [running]).substate == "RUNNING")
        #expect(Self.derive(ready, pods: [running, starting]).substate == "SCALING_UP")
        #expect(Self.derive(ready, pods: [starting]).substate == "SCALING_FROM_ZERO")
    }
}
