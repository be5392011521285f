import ExecutorAPI
@testable import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import SwiftProtobuf
import Testing
@testable import TaskPlugins

/// A task's Pod built on a PodTemplate, as Flyte's `MergeWithBasePodTemplate` builds it.
@Suite("PodTemplates")
struct PodTemplateTests {
    static let template = PodTemplate(metadata: ObjectMeta(name: "base", namespace: "default"), template: [
        "metadata": ["labels": ["team": "ml", "tier": "template"], "annotations": ["from-template": "yes"]],
        "spec": [
            "priorityClassName": "batch",
            "tolerations": [["key": "template", "operator": "Exists"]],
            "nodeSelector": ["pool": "template", "zone": "a"],
            "volumes": [["name": "cache", "emptyDir": [:]]],
            "containers": [
                ["name": "default", "image": "ignored", "env": [["name": "FROM_DEFAULT", "value": "1"]], "volumeMounts": [["name": "cache", "mountPath": "/cache"]]],
                ["name": "primary", "resources": ["limits": ["ephemeral-storage": "10Gi"]], "terminationMessagePath": "/dev/primary"],
                ["name": "side", "image": "template-side", "args": ["--from-template"]],
            ],
        ],
    ])

    static func k8sPod() throws -> Flyteidl2_Core_TaskTemplate {
        var template = Flyteidl2_Core_TaskTemplate()
        template.config = ["primary_container_name": "main"]
        var pod = Flyteidl2_Core_K8sPod()
        pod.podSpec = try Google_Protobuf_Struct(jsonString: #"""
        {"containers":[{"name":"main","image":"task","env":[{"name":"OWN","value":"x"}],"resources":{"limits":{"cpu":"1","memory":"1Gi"}}},
                       {"name":"side","image":"task-side"}],
         "nodeSelector":{"pool":"task"},"tolerations":[{"key":"task","operator":"Exists"}]}
        """#)
        pod.metadata.labels = ["tier": "task"]
        template.k8SPod = pod
        return template
    }

    @Test("the Pod over the template: its own values win, lists append, maps merge; each container over default, primary and its namesake")
    func merge() throws {
        var context = PluginTests.context(try Self.k8sPod())
        context.basePodTemplate = Self.template
        let pod = try PodPlugin().build(context)
        let spec = try #require(pod.spec)
        #expect(spec.priorityClassName == "batch")
        #expect(spec.nodeSelector == ["pool": "task", "zone": "a"])
        #expect(spec.tolerations?.map { $0.key ?? "" } == ["template", "task"])
        #expect(spec.volumes == [["name": "cache", "emptyDir": [:]]])
        #expect(spec.containers.map(\.name) == ["main", "side"])
        let main = spec.containers[0]
        #expect(main.image == "task")
        #expect(main.env?.first?.name == "FROM_DEFAULT", "the default container's env comes first")
        #expect(main.env?.contains { $0.name == "OWN" } == true)
        #expect(main.unknownFields["volumeMounts"] == [["name": "cache", "mountPath": "/cache"]])
        #expect(main.unknownFields["terminationMessagePath"] == "/dev/primary")
        #expect(main.resources?.limits?["ephemeral-storage"] == "10Gi" && main.resources?.limits?["cpu"] == "1")
        let side = spec.containers[1]
        #expect(side.image == "task-side")
        #expect(side.args == ["--from-template"])
        #expect(side.env?.first?.name == "FROM_DEFAULT")
        #expect(side.unknownFields["terminationMessagePath"] == nil, "primary applies to the primary container only")
        #expect(pod.metadata.labels?["tier"] == "task" && pod.metadata.labels?["team"] == "ml")
        #expect(pod.metadata.annotations?["from-template"] == "yes")
    }

    @Test("the template the task names, else the default; in the task's namespace, else the executor's; a named one found nowhere is the task's error", TestCluster.sandboxOnly)
    func source() async throws {
        try await ExecutorHarness.with(start: false) { h in
            let home = "flyte-system-\(UInt32.random(in: 0..<1_000_000))"
            _ = try await h.client.create(Namespace(metadata: ObjectMeta(name: home)))
            var own = Self.template
            own.metadata = ObjectMeta(name: "gpu", namespace: h.namespace)
            _ = try await h.client.create(own)
            var shared = Self.template
            shared.metadata = ObjectMeta(name: "base", namespace: home)
            _ = try await h.client.create(shared)

            let source = PodTemplateSource(client: h.client, defaultName: "base", defaultNamespace: home)
            var template = try Self.k8sPod()
            var action = Fixtures.taskAction("r1-pt", namespace: h.namespace, template: try template.serializedBytes())
            func context() -> TaskExecutionContext {
                TaskExecutionContext(taskAction: action, template: template, properties: PluginProperties(), config: PluginConfig())
            }
            #expect(try await source.template(for: context())?.metadata.namespace == home, "the default, from the executor's namespace")
            template.metadata.podTemplateName = "gpu"
            action = Fixtures.taskAction("r1-pt", namespace: h.namespace, template: try template.serializedBytes())
            #expect(try await source.template(for: context())?.metadata.name == "gpu")
            template.metadata.podTemplateName = "nowhere"
            do {
                _ = try await source.template(for: context())
                Issue.record("a missing named template was not refused")
            } catch let error as ExecutionError {
                #expect(error.code == "BadTaskSpecification" && error.message == "PodTemplate 'nowhere' does not exist")
            }
            template.metadata.podTemplateName = ""
            #expect(try await PodTemplateSource(client: h.client, defaultName: "absent", defaultNamespace: home).template(for: context()) == nil, "a missing default is no template")
            #expect(try await PodTemplateSource(client: h.client, defaultName: "", defaultNamespace: home).template(for: context()) == nil)
        }
    }

    @Test("with default-pod-template-name, a TaskAction's Pod carries the template's settings; a task naming a missing one fails BadTaskSpecification", TestCluster.sandboxOnly)
    func scenario() async throws {
        let config = try ExecutorConfig.parse(yaml: "plugins: {default-pod-template-name: base}\n", path: "executor.yaml")
        try await ExecutorHarness.with(config: config) { h in
            var base = Self.template
            base.metadata = ObjectMeta(name: "base", namespace: h.namespace)
            _ = try await h.client.create(base)
            try await h.create(Fixtures.taskAction("r1-templated"))
            let done = try await h.terminal("r1-templated")
            #expect(done.status?.condition(.succeeded)?.status == "True")
            let pod = try await h.client.get(Pod.self, name: "r1-templated-0", namespace: h.namespace)
            #expect(pod.spec?.priorityClassName == "batch")
            #expect(pod.metadata.labels?["team"] == "ml")
            #expect(pod.spec?.containers.first?.env?.first?.name == "FROM_DEFAULT")

            var template = try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.template())
            template.metadata.podTemplateName = "missing"
            try await h.create(Fixtures.taskAction("r1-untemplated", template: try template.serializedBytes()))
            let failed = try await h.terminal("r1-untemplated")
            #expect(failed.status?.errorState?.code == "BadTaskSpecification")
            #expect(failed.status?.errorState?.message == "PodTemplate 'missing' does not exist")
        }
    }
}
