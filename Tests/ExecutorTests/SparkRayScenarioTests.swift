import ExecutorAPI
import ExecutorControllers
import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import TaskPlugins
import Testing

/// Spark and Ray tasks end to end: the executor against KubeSandbox with the real CRDs and the
/// simulated Spark operator and KubeRay (issue 11).
@Suite("Spark and Ray tasks", TestCluster.sandboxOnly)
struct SparkRayScenarioTests {
    static let both: [SimulatedOperators.Kind] = [.spark, .ray]

    static func phases(_ action: TaskAction) -> [String] { action.status?.phaseHistory?.map(\.phase) ?? [] }

    static func gone(_ h: ExecutorHarness, _ name: String) async -> Bool {
        do { _ = try await h.get(name); return false } catch let e as KubeAPIError { return e.isNotFound } catch { return false }
    }

    @Test("a Spark task succeeds: a SparkApplication owned by the TaskAction, a driver Pod from its template, Queued → Initializing → Executing → Completed")
    func sparkSuccess() async throws {
        var config = ExecutorConfig()
        config.spark.sparkHistoryServerURL = "https://history.example.com"
        try await ExecutorHarness.with(config: config, operators: Self.both) { h in
            try await h.create(Fixtures.taskAction("r1-spark", taskType: "spark", template: Fixtures.sparkTemplate()))
            let done = try await h.terminal("r1-spark")
            #expect(Self.phases(done).last == "Completed", "\(Self.phases(done))")
            #expect(Self.phases(done).contains("Initializing"))
            let app = try await h.client.get(SparkApplication.self, name: "r1-spark-0", namespace: "default")
            #expect(app.metadata.ownerReferences?.first?.kind == "TaskAction" && app.metadata.ownerReferences?.first?.controller == true)
            #expect(app.metadata.labels?[TaskActionLabels.managed] == "true")
            #expect(app.state == "COMPLETED")
            let driver = try await h.client.get(Pod.self, name: "r1-spark-0-driver", namespace: "default")
            #expect(driver.metadata.labels?[TaskActionLabels.childName] == "r1-spark-0")
            #expect(driver.spec?.containers.first?.name == SparkPlugin.driverContainer)
            // The ActionEvents carry the history server's page once it ended.
            let id = app.status?["sparkApplicationId"]?.stringValue ?? ""
            #expect(h.sink.events.value.last?.logInfo.map(\.uri) == ["https://history.example.com/history/\(id)"])
        }
    }

    @Test("a Spark driver in ImagePullBackOff fails the attempt though the application still says SUBMITTED: the driver Pod's change wakes the TaskAction")
    func sparkDriverImagePull() async throws {
        var config = ExecutorConfig()
        config.plugins.imagePullBackoffGracePeriodSeconds = 1
        try await ExecutorHarness.with(config: config, operators: Self.both) { h in
            try await h.create(Fixtures.taskAction("r1-sparkpull", taskType: "spark", template: Fixtures.sparkTemplate(env: ["SANDBOX_OUTCOME": "image-pull-backoff"])))
            let done = try await h.terminal("r1-sparkpull")
            #expect(done.status?.errorState?.code == "ImagePullBackOff", "\(String(describing: done.status?.errorState))")
            #expect(done.status?.errorState?.message?.hasPrefix("Grace period [1s] exceeded|") == true)
        }
    }

    @Test("a Spark application that FAILED is retried, and the second attempt succeeds")
    func sparkRetry() async throws {
        try await ExecutorHarness.with(operators: Self.both) { h in
            try await h.create(Fixtures.taskAction("r1-sparkretry", taskType: "spark", template: Fixtures.sparkTemplate(env: ["SANDBOX_FAIL_ATTEMPTS": "1"], retries: 1)))
            let done = try await h.terminal("r1-sparkretry")
            #expect(Self.phases(done).last == "Completed", "\(Self.phases(done))")
            #expect(done.status?.attempts == 2)
            // Attempt 1 may fail before its RUNNING is seen; the retry and the end are certain.
            #expect(Self.phases(done).first == "Queued" && Self.phases(done).last == "Completed")
            #expect(done.status?.phaseHistory?.contains { $0.phase == "Queued" && $0.message == "restarting task" } == true)
            // The first attempt's application is gone; the second's completed.
            #expect(try await h.client.get(SparkApplication.self, name: "r1-sparkretry-1", namespace: "default").state == "COMPLETED")
        }
    }

    @Test("a Ray task succeeds: a RayJob owned by the TaskAction, a <cluster>-head Pod, Queued → Initializing → Executing → Completed")
    func raySuccess() async throws {
        try await ExecutorHarness.with(operators: Self.both) { h in
            try await h.create(Fixtures.taskAction("r1-ray", taskType: "ray", template: Fixtures.rayTemplate()))
            let done = try await h.terminal("r1-ray")
            #expect(Self.phases(done).last == "Completed", "\(Self.phases(done))")
            let job = try await h.client.get(RayJob.self, name: "r1-ray-0", namespace: "default")
            #expect(job.deploymentStatus == "Complete")
            let cluster = try #require(job.status?["rayClusterName"]?.stringValue)
            let head = try await h.client.get(Pod.self, name: "\(cluster)-head", namespace: "default")
            #expect(head.spec?.containers.first?.name == RayPlugin.headContainer)
            #expect(head.metadata.labels?[TaskActionLabels.childName] == "r1-ray-0")
        }
    }

    @Test("a running Ray task's ActionEvents carry ray.logs for its head Pod, the dashboard link once KubeRay reports it, ready with the head, and the head's log context")
    func rayLinks() async throws {
        let config = try ExecutorConfig.parse(yaml: """
            ray:
              logs: {templates: [{displayName: "Ray logs", templateUris: ["https://logs/{{ .namespace }}/{{ .podName }}"]}]}
              dashboard-url-template: {displayName: "Ray Dashboard", templateUris: ["https://ray.example.com/{{ .rayClusterName }}/{{ .rayJobID }}"]}
            """, path: "executor.yaml")
        try await ExecutorHarness.with(config: config, operators: Self.both) { h in
            try await h.create(Fixtures.taskAction("r1-raylinks", taskType: "ray", template: Fixtures.rayTemplate(env: ["SANDBOX_DURATION": "3600"])))
            @Sendable func dashboard() -> Flyteidl2_Core_TaskLog? {
                h.sink.events.value.last { $0.id.name == "r1-raylinks" && $0.phase == .running }?.logInfo.first { $0.name == "Ray Dashboard" }
            }
            try await eventually("the dashboard link, ready") { dashboard()?.ready == true }
            let job = try await h.client.get(RayJob.self, name: "r1-raylinks-0", namespace: h.namespace)
            let cluster = try #require(job.status?["rayClusterName"]?.stringValue)
            let jobID = try #require(job.status?["jobId"]?.stringValue)
            #expect(dashboard()?.uri == "https://ray.example.com/\(cluster)/\(jobID)")
            #expect(dashboard()?.linkType == .dashboard)
            let event = try #require(h.sink.events.value.last { $0.id.name == "r1-raylinks" && $0.phase == .running })
            #expect(event.logInfo.first?.name == "Ray logs" && event.logInfo.first?.uri == "https://logs/\(h.namespace)/\(cluster)-head")
            #expect(event.logContext.primaryPodName == "\(cluster)-head")
            #expect(event.clusterEvents.first?.message == "Ray dashboard is ready")
        }
    }

    @Test("a Ray head Pod that cannot pull its image fails the attempt while the job is Initializing")
    func rayHeadFailure() async throws {
        var config = ExecutorConfig()
        config.plugins.imagePullBackoffGracePeriodSeconds = 1
        try await ExecutorHarness.with(config: config, operators: Self.both) { h in
            try await h.create(Fixtures.taskAction("r1-rayhead", taskType: "ray", template: Fixtures.rayTemplate(env: ["SANDBOX_OUTCOME": "image-pull-backoff"])))
            let done = try await h.terminal("r1-rayhead")
            #expect(done.status?.errorState?.code == "ImagePullBackOff", "\(String(describing: done.status?.errorState))")
        }
    }

    @Test("a Ray job that Failed ends the TaskAction PermanentFailure TaskFailedWithError with KubeRay's reason and message")
    func rayFailed() async throws {
        try await ExecutorHarness.with(operators: Self.both) { h in
            try await h.create(Fixtures.taskAction("r1-rayfail", taskType: "ray", template: Fixtures.rayTemplate(env: ["SANDBOX_RAY_JOB": "fail"])))
            let done = try await h.terminal("r1-rayfail")
            #expect(done.status?.errorState?.code == "TaskFailedWithError")
            #expect(done.status?.errorState?.message == "Failed to run Ray job r1-rayfail-0 with error: [AppFailed] Job entrypoint command failed with exit code 1")
        }
    }

    @Test("a failed Ray job whose task wrote a recoverable error document is retried; without one it fails for good")
    func rayErrorDocument() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ray-errdoc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        func action(_ name: String) -> TaskAction {
            var action = Fixtures.taskAction(name, taskType: "ray", template: Fixtures.rayTemplate(env: ["SANDBOX_FAIL_ATTEMPTS": "1"], retries: 1))
            action.spec.runOutputBase = "file://\(directory.path)/data/r1"
            return action
        }
        let errorPath = String(TaskPaths(namespace: "default", name: "r1-rayrec", inputUri: "", runOutputBase: "file://\(directory.path)/data/r1", actionName: "r1-rayrec", attempt: 1).errorPath.dropFirst("file://".count))
        try FileManager.default.createDirectory(atPath: (errorPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(try ErrorDocumentTests.document(code: "RayActorDied", message: "the actor's node went away", recoverable: true)).write(to: URL(fileURLWithPath: errorPath))
        try await ExecutorHarness.with(operators: Self.both, errorDocuments: ErrorDocumentCheck(store: BlobStores(s3: nil))) { h in
            try await h.create(action("r1-rayrec"))
            try await h.create(action("r1-raynodoc"))
            let retried = try await h.terminal("r1-rayrec")
            #expect(retried.status?.attempts == 2)
            #expect(retried.status?.phaseHistory?.last?.phase == "Completed")
            let failed = try await h.terminal("r1-raynodoc")
            #expect(failed.status?.attempts == 1)
            #expect(failed.status?.errorState?.code == "TaskFailedWithError")
        }
    }

    @Test("deleting a running Spark or Ray TaskAction deletes its child, then the TaskAction goes")
    func abort() async throws {
        try await ExecutorHarness.with(operators: Self.both) { h in
            try await h.create(Fixtures.taskAction("r1-sparkabort", taskType: "spark", template: Fixtures.sparkTemplate(env: ["SANDBOX_OUTCOME": "hang"])))
            try await h.create(Fixtures.taskAction("r1-rayabort", taskType: "ray", template: Fixtures.rayTemplate(env: ["SANDBOX_DURATION": "3600"])))
            try await eventually("both executing") {
                let spark = (try? await h.get("r1-sparkabort")).map(Self.phases) ?? []
                let ray = (try? await h.get("r1-rayabort")).map(Self.phases) ?? []
                return spark.last == "Executing" && ray.last == "Executing"
            }
            try await h.client.delete(TaskAction.self, name: "r1-sparkabort", namespace: "default")
            try await h.client.delete(TaskAction.self, name: "r1-rayabort", namespace: "default")
            try await eventually("children gone") {
                let apps = (try? await h.client.list(SparkApplication.self, namespace: "default").items) ?? [SparkApplication()]
                let jobs = (try? await h.client.list(RayJob.self, namespace: "default").items) ?? [RayJob()]
                return apps.isEmpty && jobs.isEmpty
            }
            try await eventually("taskactions gone") {
                let spark = await Self.gone(h, "r1-sparkabort")
                let ray = await Self.gone(h, "r1-rayabort")
                return spark && ray
            }
        }
    }

    @Test("without the operators' CRDs a Spark task created while the plugin starts ends PluginNotReady; once installed, the plugins start without a restart")
    func crdsInstalledLater() async throws {
        var config = ExecutorConfig()
        config.kindRecheckSeconds = 1
        try await ExecutorHarness.with(config: config, operators: Self.both, installOperatorCRDs: false) { h in
            try await h.create(Fixtures.taskAction("r1-early", taskType: "spark", template: Fixtures.sparkTemplate()))
            let early = try await h.terminal("r1-early")
            let failed = early.status?.conditions?.first { $0.type == "Failed" }
            #expect(failed?.reason == "PluginNotReady")
            #expect(failed?.message == "plugin \"spark\" for task type \"spark\" is not ready: the sparkoperator.k8s.io/v1beta2 SparkApplication CRD is not installed")
            try await SimulatedOperators.installCRDs(Self.both, client: h.client)
            try await eventually("plugins ready") {
                do {
                    try await h.create(Fixtures.taskAction("r1-late-\(UUID().uuidString.prefix(6).lowercased())", taskType: "ray", template: Fixtures.rayTemplate()))
                } catch {}
                let all = (try? await h.client.list(TaskAction.self, namespace: "default").items) ?? []
                return all.contains { $0.metadata.name?.hasPrefix("r1-late") == true && Self.phases($0).last == "Completed" }
            }
        }
    }
}
