import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import SwiftProtobuf
import Testing
@testable import TaskPlugins

/// The Spark plugin against spec §8.1 and the flyteidl2 Spark test vector.
@Suite("Spark plugin")
struct SparkPluginTests {
    /// flyteidl2-facts §7.2: a SparkJob with mainApplicationFile and two sparkConf entries.
    static let vector = "ChUIARIBcBoBZCIHc3BhcmtfdCoCdjESBXNwYXJrKqEBChsKD2FwcGxpY2F0aW9uVHlwZRIIGgZQWVRIT04KMwoTbWFpbkFwcGxpY2F0aW9uRmlsZRIcGhpsb2NhbDovLy9vcHQvZW50cnlwb2ludC5weQpNCglzcGFya0NvbmYSQCo+ChsKE3NwYXJrLmRyaXZlci5tZW1vcnkSBBoCMWcKHwoYc3BhcmsuZXhlY3V0b3IuaW5zdGFuY2VzEgMaATIySgoLc3Bhcms6My41LjEaAmEwGggtLWlucHV0cxoKe3suaW5wdXR9fRoOLS1vdXRwdXRzLXBhdGgaEXt7Lm91dHB1dFByZWZpeH19"

    static func template(_ base64: String = vector) throws -> Flyteidl2_Core_TaskTemplate {
        try Flyteidl2_Core_TaskTemplate(serializedBytes: Data(base64Encoded: base64) ?? Data())
    }

    static func context(_ template: Flyteidl2_Core_TaskTemplate, interruptible: Bool = false, now: Date = Date(timeIntervalSince1970: 1_764_000_000)) throws -> TaskExecutionContext {
        var action = Fixtures.taskAction("r1-spark", taskType: "spark", template: try template.serializedBytes())
        action.metadata.uid = "uid-spark"
        action.spec.interruptible = interruptible
        return TaskExecutionContext(taskAction: action, template: template, properties: PluginProperties(), config: PluginConfig(), now: now)
    }

    static func withCustom(_ json: String) throws -> Flyteidl2_Core_TaskTemplate {
        var t = try template()
        t.custom = try Google_Protobuf_Struct(jsonString: json)
        return t
    }

    @Test("the flyteidl2 Spark vector builds the SparkApplication of spec §8.1, field by field")
    func vectorBuild() throws {
        let plugin = SparkPlugin()
        plugin.assumeTemplateSupport(true)
        let context = try Self.context(try Self.template())
        let app = try plugin.build(context)
        let spec = try #require(app.spec)
        #expect(app.metadata.name == nil && app.metadata.namespace == nil && app.metadata.ownerReferences == nil)
        #expect(spec["type"] == "Python")
        #expect(spec["mainApplicationFile"] == "local:///opt/entrypoint.py" && spec["mainClass"] == nil)
        #expect(spec["image"] == "spark:3.5.1")
        #expect(spec["arguments"] == .array(try context.renderer.render(["a0", "--inputs", "{{.input}}", "--outputs-path", "{{.outputPrefix}}"]).map(JSONValue.string)))
        #expect(spec["sparkVersion"] == "3.0.0")
        #expect(spec["restartPolicy"] == ["type": "OnFailure", "onSubmissionFailureRetries": 14])
        let conf = spec["sparkConf"]
        #expect(conf?["spark.driver.memory"] == "1g")
        #expect(conf?["spark.executor.instances"] == "2")
        #expect(conf?["spark.kubernetes.executor.podNamePrefix"] == .string(context.generatedName))
        #expect(conf?["spark.kubernetes.driverEnv.FLYTE_START_TIME"] == "1764000000000")
        let driver = try #require(spec["driver"])
        #expect(driver["memory"] == "1g" && driver["serviceAccount"] == "spark")
        #expect(driver["labels"]?[TaskActionLabels.childName] == .string(context.generatedName))
        #expect(driver["labels"]?[TaskActionLabels.managed] == "true")
        #expect(driver["env"]?.arrayValue?.contains { $0["name"] == "FLYTE_MAX_ATTEMPTS" && $0["value"] == "1" } == true)
        let driverContainer = try #require(driver.value(atPath: "template.spec.containers")?.arrayValue?.first)
        #expect(driverContainer["name"] == "spark-kubernetes-driver" && driverContainer["args"] == nil && driverContainer["command"] == nil)
        let executor = try #require(spec["executor"])
        #expect(executor["instances"] == 2)
        #expect(executor.value(atPath: "template.spec.containers")?.arrayValue?.first?["name"] == "spark-kubernetes-executor")
        #expect(executor["labels"]?[TaskActionLabels.childName] == nil)
    }

    @Test("sparkConf: plugin defaults, the Python binary, the job's conf with features expanded, and the limit-cores fallback from request cores, else cores")
    func sparkConf() throws {
        var spark = SparkConfig()
        spark.sparkConfigDefault = ["spark.a": "default", "spark.b": "default"]
        spark.features = [SparkConfig.Feature(name: "feature1", sparkConfig: ["spark.feature1.x": "on"])]
        let plugin = SparkPlugin(spark: spark)
        plugin.assumeTemplateSupport(false)
        let template = try Self.withCustom(#"{"mainApplicationFile":"local:///a.py","executorPath":"/usr/bin/python3","sparkConf":{"spark.b":"job","spark.flyte.feature1.enabled":"true","spark.flyteorg.unknown.enabled":"true","spark.kubernetes.driver.request.cores":"3","spark.executor.cores":"2"}}"#)
        let app = try plugin.build(try Self.context(template))
        let conf = app.spec?["sparkConf"]
        #expect(conf?["spark.a"] == "default" && conf?["spark.b"] == "job")
        #expect(conf?["spark.pyspark.python"] == "/usr/bin/python3" && conf?["spark.pyspark.driver.python"] == "/usr/bin/python3")
        #expect(conf?["spark.feature1.x"] == "on" && conf?["spark.flyte.feature1.enabled"] == nil)
        #expect(conf?["spark.flyteorg.unknown.enabled"] == "true")
        #expect(conf?["spark.kubernetes.driver.limit.cores"] == "3")
        #expect(conf?["spark.kubernetes.executor.limit.cores"] == "2")
        #expect(app.spec?["sparkVersion"] == nil && app.spec?.value(atPath: "driver.template") == nil)
        #expect(app.spec?.value(atPath: "executor.cores") == 2)
    }

    @Test("the driver is never interruptible; executors of an interruptible task are")
    func interruptible() throws {
        var config = PluginConfig()
        config.interruptibleNodeSelector = ["spot": "true"]
        let plugin = SparkPlugin(config: config)
        plugin.assumeTemplateSupport(true)
        let app = try plugin.build(try Self.context(try Self.template(), interruptible: true))
        #expect(app.spec?.value(atPath: "driver.nodeSelector") == nil)
        #expect(app.spec?.value(atPath: "executor.nodeSelector") == ["spot": "true"])
    }

    @Test("a SparkJob without mainApplicationFile and mainClass, or a custom that does not decode, is BadTaskSpecification naming the field")
    func badSpecs() throws {
        let plugin = SparkPlugin()
        #expect(throws: ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: SparkJob needs mainApplicationFile or mainClass, and sets neither", kind: .user)) {
            try plugin.build(try Self.context(try Self.withCustom(#"{"sparkConf":{"a":"b"}}"#)))
        }
        do {
            _ = try plugin.build(try Self.context(try Self.withCustom(#"{"mainClass":"X","sparkConf":["not","a","map"]}"#)))
            Issue.record("a list for sparkConf was accepted")
        } catch let error as ExecutionError {
            #expect(error.code == "BadTaskSpecification" && error.message.contains("SparkJob does not decode"))
        }
    }

    static func app(_ state: String?, error: String = "", driver: String? = nil) -> SparkApplication {
        var status: JSONValue = [:]
        if let state { status["applicationState"] = ["state": .string(state), "errorMessage": .string(error)] }
        if let driver { status["driverInfo"] = ["podName": .string(driver)] }
        return SparkApplication(metadata: ObjectMeta(name: "app"), status: status)
    }

    @Test("status → phase per the table of §8.1, and a failing driver Pod wins")
    func phases() throws {
        let plugin = SparkPlugin()
        let context = try Self.context(try Self.template())
        #expect(plugin.phase(of: Self.app(nil), context: context).phase == .queued)
        #expect(plugin.phase(of: Self.app("NEW"), context: context) == .queued("job queued"))
        #expect(plugin.phase(of: Self.app("SUBMITTED"), context: context) == .initializing("job submitted"))
        #expect(plugin.phase(of: Self.app("PENDING_SUBMISSION"), context: context).phase == .initializing)
        for running in ["RUNNING", "PENDING_RERUN", "INVALIDATING", "SUCCEEDING", "FAILING", "UNKNOWN"] {
            #expect(plugin.phase(of: Self.app(running), context: context).phase == .running, "\(running)")
        }
        #expect(plugin.phase(of: Self.app("COMPLETED"), context: context).phase == .success)
        let failed = plugin.phase(of: Self.app("FAILED", error: "boom"), context: context)
        #expect(failed.phase == .retryableFailure && failed.error == ExecutionError(code: "DownstreamSystemError", message: "Spark Job Failed with Error: boom", kind: .user))
        #expect(plugin.phase(of: Self.app("SUBMISSION_FAILED", error: "no"), context: context).error?.message == "Spark Job Submission Failed with Error: no")
        #expect(plugin.isTerminal(Self.app("COMPLETED")) && plugin.isTerminal(Self.app("FAILED")) && plugin.isTerminal(Self.app("SUBMISSION_FAILED")) && !plugin.isTerminal(Self.app("RUNNING")))

        // A driver stuck pulling its image past the grace period fails the attempt while the
        // application still says RUNNING.
        var driver = Pod(metadata: ObjectMeta(name: "app-driver", namespace: "default"), spec: PodSpec(containers: [Container(name: "spark-kubernetes-driver", image: "x")]))
        driver.metadata.creationTimestamp = KubeTime.format(context.now.addingTimeInterval(-600))
        driver.status = Self.pendingPod(reason: "ImagePullBackOff", since: context.now.addingTimeInterval(-600))
        let stuck = plugin.phase(of: Self.app("RUNNING", driver: "app-driver"), relatedPod: driver, context: context)
        #expect(stuck.phase == .retryableFailure && stuck.error?.code == "ImagePullBackOff")
    }

    /// A Pending Pod whose one container waits with `reason` since `since`.
    static func pendingPod(reason: String, since: Date) -> PodStatus {
        var status = PodStatus(phase: "Pending")
        status.conditions = [PodCondition(type: "Ready", status: "False", reason: "ContainersNotReady", lastTransitionTime: KubeTime.format(since))]
        status.containerStatuses = [ContainerStatus(name: "main", ready: false, state: ContainerState(waiting: .init(reason: reason, message: "Back-off pulling image")))]
        return status
    }

    @Test("links: the driver UI while running (https:// added), the history server's page once ended")
    func links() throws {
        var config = SparkConfig()
        config.sparkHistoryServerURL = "https://history.example.com"
        let plugin = SparkPlugin(spark: config)
        let context = try Self.context(try Self.template())
        var running = Self.app("RUNNING")
        running.status?["driverInfo"] = ["podName": "d", "webUIIngressAddress": "app.spark.example.com"]
        running.status?["sparkApplicationId"] = "spark-123"
        #expect(plugin.phase(of: running, context: context).links == [LogLink(name: "Spark Driver UI", uri: "https://app.spark.example.com")])
        var done = running
        done.status?["applicationState"] = ["state": "COMPLETED"]
        #expect(plugin.phase(of: done, context: context).links == [LogLink(name: "Spark History UI", uri: "https://history.example.com/history/spark-123")])
        #expect(SparkPlugin().phase(of: done, context: context).links.isEmpty)
        var cached = done
        plugin.cacheTransform?(&cached)
        #expect(plugin.phase(of: cached, context: context).links == plugin.phase(of: done, context: context).links)
    }

    @Test("a SparkApplication written again with only what the cache drops changed (executor states) wakes no round, through the executor's generic call; a new state or another uid does")
    func changeNeedsRound() {
        func needsRound<P: KubernetesTaskPlugin>(_ plugin: P, _ old: P.Child, _ new: P.Child) -> Bool { plugin.changeNeedsRound(from: old, to: new) }
        let plugin = SparkPlugin()
        func cached(_ app: SparkApplication, version: String) -> SparkApplication {
            var app = app
            app.metadata.uid = "u1"
            app.metadata.resourceVersion = version
            plugin.cacheTransform?(&app)
            return app
        }
        var running = Self.app("RUNNING", driver: "d")
        running.status?["executorState"] = ["exec-1": "RUNNING"]
        var more = running
        more.status?["executorState"] = ["exec-1": "RUNNING", "exec-2": "PENDING"]
        #expect(!needsRound(plugin, cached(running, version: "7"), cached(more, version: "8")))
        var done = more
        done.status?["applicationState"] = ["state": "COMPLETED"]
        #expect(needsRound(plugin, cached(more, version: "8"), cached(done, version: "9")))
        var other = cached(more, version: "9")
        other.metadata.uid = "u2"
        #expect(needsRound(plugin, cached(more, version: "8"), other))
        // Ray's child compares the same way: a worker count the cache drops wakes nothing.
        let ray = RayPlugin()
        var job = RayJob(metadata: ObjectMeta(name: "j", namespace: "default"))
        job.metadata.uid = "r1"
        job.metadata.resourceVersion = "1"
        job.status = ["jobDeploymentStatus": "Running", "jobStatus": "RUNNING", "rayClusterStatus": ["availableWorkerReplicas": 1]]
        var scaled = job
        scaled.metadata.resourceVersion = "2"
        scaled.status?["rayClusterStatus"] = ["availableWorkerReplicas": 3]
        ray.cacheTransform?(&job)
        ray.cacheTransform?(&scaled)
        #expect(!needsRound(ray, job, scaled))
    }

    @Test("the cache keeps what the phase reads: phase(of: transform(x)) == phase(of: x)")
    func cacheTransform() throws {
        let plugin = SparkPlugin()
        plugin.assumeTemplateSupport(true)
        let context = try Self.context(try Self.template())
        var built = try plugin.build(context)
        for state in [nil, "NEW", "SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "SUBMISSION_FAILED"] {
            built.status = Self.app(state, error: "e", driver: "d").status
            built.status?["terminationTime"] = "2026-11-29T10:00:00Z"
            var cached = built
            plugin.cacheTransform?(&cached)
            #expect(cached.spec == nil)
            #expect(plugin.phase(of: cached, context: context) == plugin.phase(of: built, context: context))
            #expect(plugin.completionTime(cached) == plugin.completionTime(built))
            #expect(plugin.relatedPod?.name(cached) == "d")
        }
    }
}
