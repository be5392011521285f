import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import SwiftProtobuf
import Testing
@testable import TaskPlugins

@Suite("Pod plugin and registry")
struct PluginTests {
    static func context(_ template: Flyteidl2_Core_TaskTemplate, interruptible: Bool = false, config: PluginConfig = PluginConfig()) -> TaskExecutionContext {
        var action = Fixtures.taskAction("r1-a0", template: try! template.serializedBytes())
        action.metadata.uid = "uid-1"
        action.spec.interruptible = interruptible
        return TaskExecutionContext(taskAction: action, template: template, properties: PluginProperties(), config: config)
    }

    @Test("a k8s_pod template keeps its pod spec, names its primary container from config, and gets Flyte's env in every container")
    func k8sPod() throws {
        var template = Flyteidl2_Core_TaskTemplate()
        template.type = "python"
        template.config = ["primary_container_name": "main"]
        var pod = Flyteidl2_Core_K8sPod()
        pod.podSpec = try Google_Protobuf_Struct(jsonString: #"{"containers":[{"name":"main","image":"img","args":["run","{{.outputPrefix}}"]},{"name":"side","image":"sidecar"}],"nodeSelector":{"pool":"gpu"}}"#)
        pod.metadata.labels = ["from": "pod"]
        template.k8SPod = pod
        template.metadata.metadata.labels = ["from": "task"]
        let built = try PodPlugin().build(Self.context(template))
        #expect(built.spec?.containers.map(\.name) == ["main", "side"])
        #expect(built.spec?.containers[0].args?[1].hasPrefix("s3://bucket/") == true)
        #expect(built.spec?.containers.allSatisfy { ($0.env ?? []).contains { $0.name == "ACTION_NAME" } } == true)
        #expect(built.spec?.nodeSelector == ["pool": "gpu"])
        #expect(built.spec?.restartPolicy == "Never")
        #expect(built.metadata.labels?["from"] == "task")
        #expect(built.metadata.annotations?["primary_container_name"] == "main")
    }

    @Test("a k8s_pod template without primary_container_name is a BadTaskSpecification")
    func k8sPodWithoutPrimary() throws {
        var template = Flyteidl2_Core_TaskTemplate()
        template.k8SPod = Flyteidl2_Core_K8sPod()
        #expect(throws: ExecutionError.self) { try PodPlugin().build(Self.context(template)) }
        do {
            _ = try PodPlugin().build(Self.context(template))
        } catch let error as ExecutionError {
            #expect(error.code == "BadTaskSpecification")
        }
    }

    @Test("interruptible tasks get the configured tolerations and node selector; the template's service account wins")
    func interruptible() throws {
        var template = Flyteidl2_Core_TaskTemplate()
        template.container.image = "img"
        template.securityContext.runAs.k8SServiceAccount = "task-sa"
        var config = PluginConfig()
        config.interruptibleTolerations = [Toleration(key: "spot", operator: "Exists", effect: "NoSchedule")]
        config.interruptibleNodeSelector = ["lifecycle": "spot"]
        config.defaultServiceAccount = "default-sa"
        let built = try PodPlugin(config: config).build(Self.context(template, interruptible: true, config: config))
        #expect(built.spec?.tolerations?.first?.key == "spot")
        #expect(built.spec?.nodeSelector == ["lifecycle": "spot"])
        #expect(built.spec?.serviceAccountName == "task-sa")
    }

    @Test("scheduler-name names the scheduler of every Pod whose spec names none, as Flyte's; a k8s_pod's own wins")
    func schedulerName() throws {
        var config = PluginConfig()
        config.schedulerName = "volcano"
        var container = Flyteidl2_Core_TaskTemplate()
        container.container.image = "img"
        #expect(try PodPlugin(config: config).build(Self.context(container, config: config)).spec?.schedulerName == "volcano")
        #expect(try PodPlugin().build(Self.context(container)).spec?.schedulerName == nil)
        var own = Flyteidl2_Core_TaskTemplate()
        own.config = ["primary_container_name": "main"]
        var pod = Flyteidl2_Core_K8sPod()
        pod.podSpec = try Google_Protobuf_Struct(jsonString: #"{"containers":[{"name":"main","image":"img"}],"schedulerName":"yunikorn"}"#)
        own.k8SPod = pod
        #expect(try PodPlugin(config: config).build(Self.context(own, config: config)).spec?.schedulerName == "yunikorn")
        let parsed = try ExecutorConfig.parse(yaml: "plugins:\n  scheduler-name: volcano\n", path: "test.yaml")
        #expect(parsed.plugins.schedulerName == "volcano")
    }

    @Test("the registry resolves exact types, then default-for-task-types, then the default plugin; the last registration wins")
    func registry() throws {
        struct Other: KubernetesTaskPlugin {
            typealias Child = Pod
            let id: String
            let taskTypes: [String]
            let properties = PluginProperties()
            func build(_ context: TaskExecutionContext) throws -> Pod { Pod(metadata: ObjectMeta()) }
            func phase(of child: Pod, context: TaskExecutionContext) -> PhaseInfo { .undefined }
            func isTerminal(_ child: Pod) -> Bool { false }
            func completionTime(_ child: Pod) -> Date? { nil }
        }
        var registry = PluginRegistry()
        registry.register(PodPlugin(), isDefault: true)
        registry.register(Other(id: "other", taskTypes: ["python"]))
        #expect(try registry.plugin(for: "python").id == "other")
        #expect(try registry.plugin(for: "container").id == "pod")
        #expect(try registry.plugin(for: "anything").id == "pod")
        registry.defaultForTaskTypes = ["python": "pod", "bad": "missing"]
        #expect(try registry.plugin(for: "python").id == "pod")
        #expect(throws: PluginRegistry.NotFound.self) { try registry.plugin(for: "bad") }
        var noDefault = PluginRegistry()
        noDefault.register(PodPlugin())
        #expect(throws: PluginRegistry.NotFound.self) { try noDefault.plugin(for: "spark") }
    }

    @Test("a bad config file ends with one line naming the file and the problem")
    func configErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ text: String) throws -> String {
            let path = dir.appendingPathComponent("config.yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let good = try ExecutorConfig.load(path: try write("max-system-failures: 5\ngc:\n  max-ttl-seconds: 60\ndefault-for-task-types:\n  python: pod\nplugins:\n  image-pull-backoff-grace-period-seconds: 30\n"))
        #expect(good.maxSystemFailures == 5 && good.gc.maxTTLSeconds == 60 && good.gc.intervalSeconds == 1800)
        #expect(good.defaultForTaskTypes == ["python": "pod"])
        #expect(good.plugins.imagePullBackoffGracePeriodSeconds == 30)
        #expect(good.plugins.defaultAnnotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] == "false")
        for (text, fragment) in [("maxSystemFailures: 3\n", "unknown key \"maxSystemFailures\""), ("- a\n", "top level must be a mapping"), ("max-system-failures: many\n", "invalid config"), ("max-system-failures: -1\n", "0 or more")] {
            let path = try write(text)
            do {
                _ = try ExecutorConfig.load(path: path)
                Issue.record("accepted \(text)")
            } catch {
                let line = "\(error)"
                #expect(line.contains(path) && line.contains(fragment), "\(line)")
                #expect(!line.contains("\n"))
            }
        }
    }
}
