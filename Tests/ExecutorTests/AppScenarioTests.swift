import ExecutorAPI
import ExecutorControllers
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Testing

/// Apps end to end against the sandbox with simulated Knative Serving and kubelet: the App
/// resource reconciled into a Knative Service, its status from Knative and from its pods.
@Suite("Apps on Knative", TestCluster.sandboxOnly)
struct AppScenarioTests {
    static let serviceName = "web-flytesnacks-development"

    static func container(image: String = "ghcr.io/example/app:1.0", env: [String: String] = [:]) -> JSONValue {
        ["image": .string(image), "ports": [["containerPort": 8080, "name": "http1"]],
         "env": .array(env.sorted { $0.key < $1.key }.map { ["key": .string($0.key), "value": .string($0.value)] })]
    }

    static func app(_ name: String = "web", fields: [String: JSONValue]) -> App {
        App(metadata: ObjectMeta(name: name, namespace: "default"), spec: AppSpec(id: AppIdentifier(org: "acme", project: "flytesnacks", domain: "development", name: name), fields: fields))
    }

    static func create(_ h: ExecutorHarness, _ app: App) async throws {
        _ = try await h.client.create(app)
    }

    /// Waits until the App's status satisfies `test` and returns the App.
    @discardableResult
    static func until(_ h: ExecutorHarness, _ what: String, name: String = "web", seconds: Double = 60, _ test: @escaping @Sendable (App) -> Bool) async throws -> App {
        do {
            try await eventually("\(name) \(what)", seconds: seconds) { (try? await h.client.get(App.self, name: name, namespace: "default")).map(test) ?? false }
        } catch {
            let app = try? await h.client.get(App.self, name: name, namespace: "default")
            Issue.record("status: \(String(describing: app?.status))")
            throw error
        }
        return try await h.client.get(App.self, name: name, namespace: "default")
    }

    static func servicePods(_ h: ExecutorHarness, service: String = serviceName) async throws -> [Pod] {
        try await h.client.list(Pod.self, namespace: "default", options: ListOptions(labelSelector: "serving.knative.dev/service=\(service)")).items.filter { $0.metadata.deletionTimestamp == nil }
    }

    /// Waits until the Service's live pods satisfy `test`; on a timeout, records each pod and revision.
    static func untilPods(_ h: ExecutorHarness, _ what: String, _ test: @escaping @Sendable ([Pod]) -> Bool) async throws {
        do {
            try await eventually(what) { test(try await Self.servicePods(h)) }
        } catch {
            let pods = (try? await h.client.list(Pod.self, namespace: "default", options: ListOptions(labelSelector: "serving.knative.dev/service=\(serviceName)")).items) ?? []
            for pod in pods {
                Issue.record("pod \(pod.metadata.name ?? "") revision \(pod.metadata.labels?["serving.knative.dev/revision"] ?? "") phase \(pod.status?.phase ?? "") deleting \(pod.metadata.deletionTimestamp ?? "no")")
            }
            let revisions = try? await h.client.list(ResourceType(group: "serving.knative.dev", version: "v1", kind: "Revision", plural: "revisions", namespaced: true), namespace: "default")
            for revision in revisions?["items"]?.arrayValue ?? [] {
                Issue.record("revision \(revision.value(atPath: "metadata.name") ?? "") status \(revision.value(atPath: "status") ?? "")")
            }
            throw error
        }
    }

    static func patchSpec(_ h: ExecutorHarness, _ spec: JSONValue, name: String = "web") async throws {
        _ = try await h.client.patch(App.resourceType, name: name, namespace: "default", .merge(["spec": spec]))
    }

    /// The phases of the history with repeats (substate changes) folded.
    static func phases(_ app: App) -> [String] {
        var out: [String] = []
        for entry in app.status?.phaseHistory ?? [] where out.last != entry.phase { out.append(entry.phase) }
        return out
    }

    @Test("an app goes PENDING → DEPLOYING → ACTIVE with its replicas and URL, and its Knative Service carries §9.2's names, labels and annotations")
    func lifecycle() async throws {
        try await ExecutorHarness.with(operators: [.knative], apps: true) { h in
            try await Self.create(h, Self.app(fields: ["container": Self.container(env: ["SANDBOX_STEP": "manual"]), "autoscaling": AppSpecTests.vectorFields["autoscaling"]!]))
            // The kubelet holds the pod in ContainerCreating until told: DEPLOYING is seen however loaded the machine.
            let deploying = try await Self.until(h, "DEPLOYING") { $0.status?.phase == "DEPLOYING" && $0.status?.substate == "PULLING_IMAGE" }
            #expect(deploying.status?.message?.contains("ContainerCreating") == true, "\(String(describing: deploying.status?.message))")
            let pods = try await Self.servicePods(h)
            #expect(pods.count == 1, "min-scale 1: one pod")
            let pod = try #require(pods.first)
            #expect(pod.metadata.labels?["serving.knative.dev/revision"] == "\(Self.serviceName)-00001")
            try await h.advance(pod.metadata.name ?? "")
            let active = try await Self.until(h, "ACTIVE") { $0.status?.phase == "ACTIVE" && $0.status?.substate == "RUNNING" && $0.status?.currentReplicas == 1 }
            #expect(Self.phases(active) == ["PENDING", "DEPLOYING", "ACTIVE"], "\(String(describing: active.status?.phaseHistory))")
            #expect(active.status?.url == "http://\(Self.serviceName).default.example.com")
            #expect(active.status?.ingress?.vpcUrl == "http://\(Self.serviceName).default.svc.cluster.local")
            #expect(active.status?.serviceName == Self.serviceName)
            #expect(active.status?.lastStartedAt != nil && active.status?.createdAt != nil)
            #expect(active.status?.conditions?.map(\.deploymentStatus) == [.active, .active, .active], "Ready, ConfigurationsReady, RoutesReady all True")
            #expect(active.status?.conditions?.contains { $0.message == "Service is ready" } == true)

            let service = try await h.client.get(KnativeService.self, name: Self.serviceName, namespace: "default")
            let deployment = try AppSpecReader.read(active.spec)
            #expect(service.metadata.annotations?["flyte.org/spec-sha"] == deployment.specSHA)
            #expect(active.status?.deploymentId == deployment.specSHA)
            #expect(service.metadata.annotations?["flyte.org/app-id"] == "flytesnacks/development/web")
            #expect(service.metadata.labels?["flyte.org/app-managed"] == "true")
            #expect(service.metadata.ownerReferences?.first?.uid == active.metadata.uid)
            #expect(service.spec?.value(atPath: "template.metadata.annotations") == [
                "autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "3",
                "autoscaling.knative.dev/metric": "concurrency", "autoscaling.knative.dev/target": "10", "autoscaling.knative.dev/window": "1m30s",
            ])
            #expect(service.metadata.annotations?["serving.knative.dev/creator"] != nil, "Knative's own annotation is there to be kept")
        }
    }

    @Test("an image that cannot be pulled gives FAILED / IMAGE_PULL_ERROR with the pod's own message")
    func imagePullError() async throws {
        try await ExecutorHarness.with(operators: [.knative], apps: true) { h in
            try await Self.create(h, Self.app(fields: ["container": Self.container(image: "registry.invalid/team/app:1")]))
            let failed = try await Self.until(h, "IMAGE_PULL_ERROR") { $0.status?.phase == "FAILED" && $0.status?.substate == "IMAGE_PULL_ERROR" }
            let message = failed.status?.message ?? ""
            #expect(message.hasPrefix("pod \(Self.serviceName)-00001-deployment-"), "\(message)")
            #expect(message.contains("container app: ") && message.contains("registry.invalid/team/app:1"), "\(message)")
            #expect(failed.status?.conditions?.first?.deploymentStatus == .failed)
            #expect(failed.status?.conditions?.first?.substate == .imagePullError)
        }
    }

    @Test("a crash loop, an OOM kill and a missing secret each give their substate, naming the pod and the container's reason", arguments: [
        ("fail", "CRASH_LOOP", "CrashLoopBackOff: exit code 1, Error"),
        ("oom", "OOM_KILLED", "OOMKilled: exit code 137"),
        ("secret-missing", "SECRET_MOUNT_ERROR", "CreateContainerConfigError: secret \"app-secret\" not found"),
    ])
    func podFailures(outcome: String, substate: String, words: String) async throws {
        try await ExecutorHarness.with(operators: [.knative], apps: true) { h in
            try await Self.create(h, Self.app(fields: ["container": Self.container(env: ["SANDBOX_OUTCOME": outcome, "SANDBOX_DURATION": "0.05"])]))
            let failed = try await Self.until(h, substate) { $0.status?.substate == substate }
            #expect(failed.status?.phase == "FAILED")
            #expect(failed.status?.message?.contains("container app: \(words)") == true, "\(String(describing: failed.status?.message))")
        }
    }

    @Test("stop gives STOPPED with zero pods and the Knative Service kept; ACTIVE again brings the pods back")
    func stopAndStart() async throws {
        try await ExecutorHarness.with(operators: [.knative], apps: true) { h in
            try await Self.create(h, Self.app(fields: ["container": Self.container()]))
            try await Self.until(h, "ACTIVE") { $0.status?.phase == "ACTIVE" && $0.status?.substate == "RUNNING" }
            try await Self.patchSpec(h, ["desiredState": "DESIRED_STATE_STOPPED"])
            let stopped = try await Self.until(h, "STOPPED with no pods") { $0.status?.phase == "STOPPED" && $0.status?.currentReplicas == 0 }
            #expect(stopped.status?.message == "App scaled to zero")
            #expect(stopped.status?.conditions?.map(\.deploymentStatus) == [.stopped])
            try await eventually("pods gone") { (try await Self.servicePods(h)).isEmpty }
            let service = try await h.client.get(KnativeService.self, name: Self.serviceName, namespace: "default")
            #expect(service.metadata.labels?["flyte.org/app-stopped"] == "true")
            #expect(service.metadata.labels?["networking.knative.dev/visibility"] == "cluster-local")
            #expect(service.spec?.value(atPath: "template.metadata.annotations") == ["autoscaling.knative.dev/min-scale": "0", "autoscaling.knative.dev/initial-scale": "0"])

            try await Self.patchSpec(h, ["desiredState": "DESIRED_STATE_ACTIVE"])
            let started = try await Self.until(h, "ACTIVE again") { $0.status?.phase == "ACTIVE" && $0.status?.substate == "RUNNING" && $0.status?.currentReplicas == 1 }
            let sinceStop = Array(Self.phases(started).drop { $0 != "STOPPED" })
            #expect(sinceStop.first == "STOPPED" && sinceStop.last == "ACTIVE" && !sinceStop.contains("FAILED"), "\(Self.phases(started))")
            let restarted = try await h.client.get(KnativeService.self, name: Self.serviceName, namespace: "default")
            #expect(restarted.metadata.labels?["flyte.org/app-stopped"] == nil)
            #expect(restarted.metadata.labels?["networking.knative.dev/visibility"] == nil)
            #expect(restarted.metadata.annotations?["serving.knative.dev/creator"] == service.metadata.annotations?["serving.knative.dev/creator"], "Knative's immutable annotation kept")
            #expect(try await Self.servicePods(h).count == 1)
        }
    }

    @Test("a spec change makes a new Revision and a new spec-sha; an App change that leaves the spec alone makes no API call")
    func specChangeAndNoOp() async throws {
        try await ExecutorHarness.with(operators: [.knative], apps: true, start: false) { h in
            let writes = LockedBox(0)
            let recording = try KubernetesClient(configuration: h.sandbox.clientConfiguration(), observer: { record in
                // Every write, and every read of the app's kinds but the informers' watches.
                let appKinds = record.path.contains("serving.knative.dev") || record.path.contains("/flyte.org/v1/namespaces/default/apps") || record.path.contains("/pods")
                if (record.method != "GET" && !record.path.contains("/events")) || (appKinds && !record.isWatch) { writes.withLock { $0 += 1 } }
            })
            let manager = Manager(client: recording, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", gracefulShutdownTimeout: .seconds(5)))
            _ = Executor(manager: manager, config: ExecutorConfig(), sink: h.sink)
            let run = Task { try await manager.run() }
            defer { run.cancel() }

            try await Self.create(h, Self.app(fields: ["container": Self.container()]))
            let first = try await Self.until(h, "ACTIVE") { $0.status?.phase == "ACTIVE" && $0.status?.substate == "RUNNING" }
            let firstSHA = try #require(first.status?.deploymentId)

            try await Self.patchSpec(h, ["container": Self.container(image: "ghcr.io/example/app:2.0")])
            let second = try await Self.until(h, "the new revision ACTIVE") { $0.status?.deploymentId != firstSHA && $0.status?.phase == "ACTIVE" && $0.status?.substate == "RUNNING" }
            let service = try await h.client.get(KnativeService.self, name: Self.serviceName, namespace: "default")
            #expect(service.metadata.annotations?["flyte.org/spec-sha"] == second.status?.deploymentId)
            #expect(service.latestReadyRevisionName == "\(Self.serviceName)-00002")
            try await Self.untilPods(h, "the old revision scaled to zero") { pods in
                pods.allSatisfy { $0.metadata.labels?["serving.knative.dev/revision"] == "\(Self.serviceName)-00002" }
            }

            // A label on the App: a round runs (the reconcile counter moves) and writes nothing.
            @Sendable func reconciles() -> Int {
                let text = String(decoding: manager.metrics.render(), as: UTF8.self)
                return text.split(separator: "\n").filter { $0.hasPrefix("controller_runtime_reconcile_total{controller=\"app\"") }
                    .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
            }
            try await eventually("quiet") {
                let before = (writes.value, reconciles())
                try await Task.sleep(for: .milliseconds(300))
                return before == (writes.value, reconciles())
            }
            let before = (writes.value, reconciles())
            let serviceVersion = try await h.client.get(KnativeService.self, name: Self.serviceName, namespace: "default").metadata.resourceVersion
            _ = try await h.client.patch(App.resourceType, name: "web", namespace: "default", .merge(["metadata": ["labels": ["touched": "yes"]]]))
            try await eventually("the App reconciled after the label") { reconciles() > before.1 }
            #expect(writes.value == before.0, "a round with nothing to change made \(writes.value - before.0) API calls")
            #expect(try await h.client.get(KnativeService.self, name: Self.serviceName, namespace: "default").metadata.resourceVersion == serviceVersion)
            run.cancel()
            _ = try? await run.value
            try await recording.shutdown()
        }
    }

    @Test("an idle app with min-scale 0 is ACTIVE / SCALED_TO_ZERO with no replicas once the autoscaler takes its pods")
    func scaledToZero() async throws {
        try await ExecutorHarness.with(operators: [.knative], apps: true) { h in
            try await Self.create(h, Self.app(fields: ["container": Self.container(env: ["SANDBOX_IDLE_AFTER": "0.3"]), "autoscaling": ["replicas": ["min": 0, "max": 2]]]))
            try await Self.until(h, "SCALED_TO_ZERO") { $0.status?.phase == "ACTIVE" && $0.status?.substate == "SCALED_TO_ZERO" && $0.status?.currentReplicas == 0 }
            try await Self.untilPods(h, "pods gone") { $0.isEmpty }
        }
    }

    @Test("deleting the App deletes its Knative Service and the pods with it")
    func delete() async throws {
        try await ExecutorHarness.with(operators: [.knative], apps: true) { h in
            try await Self.create(h, Self.app(fields: ["container": Self.container()]))
            try await Self.until(h, "ACTIVE") { $0.status?.phase == "ACTIVE" }
            _ = try await h.client.delete(App.self, name: "web", namespace: "default")
            try await eventually("Knative Service gone") {
                do {
                    _ = try await h.client.get(KnativeService.self, name: Self.serviceName, namespace: "default")
                    return false
                } catch let error as KubeAPIError where error.isNotFound {
                    return true
                }
            }
            do {
                try await eventually("pods gone") { (try await Self.servicePods(h)).isEmpty }
            } catch {
                for type in ["configurations", "revisions", "routes"] {
                    let list = try await h.client.list(ResourceType(group: "serving.knative.dev", version: "v1", kind: "X", plural: type, namespaced: true), namespace: "default")
                    Issue.record("\(type): \(list["items"]?.arrayValue?.map { "\($0.value(atPath: "metadata.name") ?? "") del=\($0.value(atPath: "metadata.deletionTimestamp") ?? "") own=\($0.value(atPath: "metadata.ownerReferences") ?? "")" } ?? [])")
                }
                for pod in try await Self.servicePods(h) { Issue.record("pod \(pod.metadata.name ?? "") owners \(String(describing: pod.metadata.ownerReferences))") }
                throw error
            }
        }
    }

    @Test("with Knative Serving absent an App fails saying so while TaskActions run; installing Knative deploys it without a restart")
    func knativeAbsentThenInstalled() async throws {
        var config = ExecutorConfig()
        config.kindRecheckSeconds = 1
        try await ExecutorHarness.with(config: config, operators: [.knative], installOperatorCRDs: false, apps: true) { h in
            try await Self.create(h, Self.app(fields: ["container": Self.container()]))
            let failed = try await Self.until(h, "FAILED: Knative missing") { $0.status?.phase == "FAILED" }
            #expect(failed.status?.message == "Knative Serving is not installed: the serving.knative.dev/v1 Service CRD is not installed")
            try await h.create(Fixtures.taskAction("ta-while-no-knative", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            #expect(try await h.terminal("ta-while-no-knative").status?.condition(.succeeded)?.status == "True")

            try await SimulatedOperators.installCRDs([.knative], client: h.client)
            let active = try await Self.until(h, "ACTIVE after install") { $0.status?.phase == "ACTIVE" && $0.status?.substate == "RUNNING" }
            #expect(Self.phases(active).first == "FAILED")
        }
    }

    @Test("an invalid spec fails the App with a condition naming the field, and a fix deploys it")
    func invalidSpec() async throws {
        try await ExecutorHarness.with(operators: [.knative], apps: true) { h in
            try await Self.create(h, Self.app(fields: ["container": Self.container(), "timeouts": ["requestTimeout": "7200s"]]))
            let failed = try await Self.until(h, "FAILED: invalid") { $0.status?.phase == "FAILED" }
            #expect(failed.status?.message == "invalid spec: spec.timeouts.requestTimeout: must be 0s to 3600s, not 2h0m0s")
            #expect(failed.status?.conditions?.first?.message == failed.status?.message)
            try await Self.patchSpec(h, ["timeouts": ["requestTimeout": "120s"]])
            try await Self.until(h, "ACTIVE after the fix") { $0.status?.phase == "ACTIVE" }
            let service = try await h.client.get(KnativeService.self, name: Self.serviceName, namespace: "default")
            #expect(service.spec?.value(atPath: "template.spec.timeoutSeconds") == 120)
        }
    }

    @Test("the API server refuses an App the CRD schema rules out: both payloads, a bad name, a zero concurrency target, a malformed duration, a changed id")
    func schemaValidation() async throws {
        try await ExecutorHarness.with(kubelet: false, apps: true, start: false) { h in
            let cases: [([String: JSONValue], String, String)] = [
                (["container": Self.container(), "pod": ["podSpec": ["containers": [["name": "a"]]]]], "web", "exactly one of container or pod must be set"),
                (["container": Self.container()], "-web", "spec.id.name"),
                (["container": Self.container(), "autoscaling": ["scalingMetric": ["concurrency": ["targetValue": 0]]]], "web", "spec.autoscaling.scalingMetric.concurrency.targetValue"),
                (["container": Self.container(), "autoscaling": ["scaledownPeriod": "1m"]], "web", "spec.autoscaling.scaledownPeriod"),
            ]
            _ = try await h.client.create(App(metadata: ObjectMeta(name: "fixed", namespace: "default"), spec: AppSpec(id: AppIdentifier(project: "p", domain: "d", name: "fixed"), fields: ["container": Self.container()])))
            do {
                _ = try await h.client.patch(App.resourceType, name: "fixed", namespace: "default", .merge(["spec": ["id": ["name": "renamed"]]]))
                Issue.record("id changed")
            } catch let error as KubeAPIError {
                #expect(error.code == 422 && error.status.message?.contains("id is immutable") == true, "\(error.status.message ?? "")")
            }
            for (fields, name, words) in cases {
                do {
                    _ = try await h.client.create(App(metadata: ObjectMeta(name: "x", namespace: "default"), spec: AppSpec(id: AppIdentifier(project: "p", domain: "d", name: name), fields: fields)))
                    Issue.record("accepted: \(fields)")
                } catch let error as KubeAPIError {
                    #expect(error.code == 422)
                    #expect(error.status.message?.contains(words) == true, "\(error.status.message ?? "")")
                }
            }
        }
    }

    @Test("kubectl get apps shows Status, Substate, Replicas, URL and Age; -o wide adds Project, Domain and Service")
    func kubectlColumns() async throws {
        let kubectl = ["/usr/bin/kubectl", Fixtures.repositoryRoot + "/.tools/bin/kubectl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let kubectl else {
            print("skipped: kubectl is not installed")
            return
        }
        try await ExecutorHarness.with(operators: [.knative], apps: true) { h in
            try await Self.create(h, Self.app(fields: ["container": Self.container()]))
            try await Self.until(h, "ACTIVE") { $0.status?.phase == "ACTIVE" && $0.status?.substate == "RUNNING" && $0.status?.currentReplicas == 1 }
            let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("apps-\(UUID().uuidString).kubeconfig").path
            try h.sandbox.writeKubeconfig(to: kubeconfig)
            defer { try? FileManager.default.removeItem(atPath: kubeconfig) }
            func run(_ arguments: [String]) async throws -> [[String]] {
                let result = try await ChildProcess.run(kubectl, ["--kubeconfig", kubeconfig] + arguments)
                #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
                return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            }
            let table = try await run(["get", "apps", "-n", "default"])
            #expect(table.first == ["NAME", "STATUS", "SUBSTATE", "REPLICAS", "URL", "AGE"])
            #expect(table.dropFirst().first?.prefix(5) == ["web", "ACTIVE", "RUNNING", "1", "http://\(Self.serviceName).default.example.com"])
            let wide = try await run(["get", "apps", "-n", "default", "-o", "wide"])
            #expect(wide.first?.suffix(3) == ["PROJECT", "DOMAIN", "SERVICE"])
            #expect(wide.dropFirst().first?.suffix(3) == ["flytesnacks", "development", Self.serviceName])
        }
    }
}
