import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Testing
@testable import TaskPlugins

/// The log links of a Pod task, as Flyte's `logs.LogConfig` and template plugins make them.
@Suite("Log links")
struct LogLinkTests {
    static let yaml = """
    plugins:
      logs:
        kubernetes-enabled: true
        kubernetes-url: https://dashboard.example.com
        cloudwatch-enabled: true
        cloudwatch-region: eu-west-1
        cloudwatch-log-group: /eks/flyte
        templates:
        - displayName: Grafana {{ .taskRetryAttempt }}
          templateUris: ["https://grafana.example.com/explore?pod={{ .podName }}&ns={{.namespace}}&from={{ .podUnixStartTime }}&to={{ $podUnixFinishTime }}&c={{ .containerId }}&x={{ .unknownVar }}"]
          linkType: dashboard
          showWhilePending: true
          messageFormat: JSON
    """

    static let now = Date(timeIntervalSince1970: 1_800_000_100)

    static func pod(statuses: Bool = true) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: "r1-a0-1", namespace: "flytesnacks-development"), spec: PodSpec(containers: [Container(name: "r1-a0-1")]))
        pod.metadata.uid = "uid-7"
        pod.metadata.creationTimestamp = KubeTime.format(Date(timeIntervalSince1970: 1_800_000_000))
        var status = PodStatus(phase: "Running")
        if statuses {
            var container = ContainerStatus(name: "r1-a0-1", state: ContainerState(running: .init(startedAt: KubeTime.format(Date(timeIntervalSince1970: 1_800_000_010)))))
            container.containerID = "containerd://abc123"
            status.containerStatuses = [container]
        }
        pod.status = status
        return pod
    }

    static func context(_ config: PluginConfig) -> TaskExecutionContext {
        var template = Flyteidl2_Core_TaskTemplate()
        template.container.image = "img"
        template.id.name = "wf.train"
        var wandb = Flyteidl2_Core_TaskLog()
        wandb.name = "Weights & Biases"
        wandb.uri = "https://wandb.example.com/{{ .runName }}/{{ .actionName }}/{{ .taskRetryAttempt }}"
        template.metadata.logLinks = [wandb]
        var action = Fixtures.taskAction("r1-a0", template: try! template.serializedBytes())
        action.status = TaskActionStatus()
        action.status?.attempts = 2
        return TaskExecutionContext(taskAction: action, template: template, properties: PluginProperties(), config: config, now: now)
    }

    @Test("the task's own links, then Kubernetes, CloudWatch and the templates, their variables filled from the Pod and the attempt")
    func links() throws {
        let config = try ExecutorConfig.parse(yaml: Self.yaml, path: "executor.yaml").plugins
        let links = PodPlugin(config: config).phase(of: Self.pod(), context: Self.context(config)).links
        #expect(links.map(\.name) == ["Weights & Biases", "Kubernetes Logs", "Cloudwatch Logs", "Grafana 1"])
        #expect(links[0].uri == "https://wandb.example.com/r1/r1-a0/1")
        #expect(links[0].linkType == .dashboard)
        #expect(links[1].uri == "https://dashboard.example.com/#!/log/flytesnacks-development/r1-a0-1/pod?namespace=flytesnacks-development")
        #expect(links[1].linkType == .external && links[1].messageFormat == .json && links[1].ready)
        #expect(links[2].uri == "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEventViewer:group=/eks/flyte;stream=var.log.containers.r1-a0-1_flytesnacks-development_r1-a0-1-abc123.log")
        #expect(links[3].uri == "https://grafana.example.com/explore?pod=r1-a0-1&ns=flytesnacks-development&from=1800000000&to=1800000100&c=abc123&x={{ .unknownVar }}")
        #expect(links[3].linkType == .dashboard && links[3].showWhilePending && links[3].messageFormat == .json)

        #expect(PodPlugin(config: config).phase(of: Self.pod(statuses: false), context: Self.context(config)).links.isEmpty, "no container status yet: no links, as Flyte")
        #expect(PodPlugin().phase(of: Self.pod(), context: Self.context(PluginConfig())).links.map(\.name) == ["Weights & Biases"], "off unless configured, but the task's own")
    }

    @Test("the Pod cache keeps the containers' IDs only when a link reads them")
    func containerIDs() throws {
        let config = try ExecutorConfig.parse(yaml: Self.yaml, path: "executor.yaml").plugins
        #expect(config.logs.readsContainerID)
        var kept = Self.pod()
        let keeping = try #require(PodPlugin(config: config).cacheTransform)
        keeping(&kept)
        #expect(kept.status?.containerStatuses?.first?.containerID == "containerd://abc123")
        var dropped = Self.pod()
        let dropping = try #require(PodPlugin().cacheTransform)
        dropping(&dropped)
        #expect(dropped.status?.containerStatuses?.first?.containerID == nil)
        #expect(!PluginConfig().logs.readsContainerID)
    }

    @Test("dynamic-log-links: the links a task's config names in link_type, and vscode for a task with _F_E_VS, with {{ .taskConfig.<key> }} from its config")
    func dynamicLinks() throws {
        let config = try ExecutorConfig.parse(yaml: """
            plugins:
              logs:
                dynamic-log-links:
                  vscode:
                    displayName: VS Code
                    templateUris: ["vscode://flyteinteractive:{{ .taskConfig.port }}/{{ .podName }}"]
                    messageFormat: JSON
                  wandb-execution-id:
                    displayName: Weights & Biases
                    templateUris: ["{{ .taskConfig.host }}/{{ .taskConfig.entity }}/{{ .taskConfig$project }}/runs/{{ .runName }}-{{ .taskConfig.missing }}"]
                    linkType: dashboard
                  unused:
                    displayName: never
                    templateUris: ["https://nowhere"]
            """, path: "executor.yaml").plugins
        func links(config taskConfig: [String: String], env: [String: String] = [:]) -> [LogLink] {
            var context = Self.context(config)
            context.template.config = taskConfig
            context.template.container.env = env.map { Fixtures.kv($0.key, $0.value) }
            context.template.metadata.logLinks = []
            return PodPlugin(config: config).phase(of: Self.pod(), context: context).links
        }
        // Flyte's own vector (template_test.go, "flyteinteractive"): an IDE link, the port from the config.
        let vscode = links(config: ["link_type": "vscode", "port": "1234"])
        #expect(vscode.map(\.uri) == ["vscode://flyteinteractive:1234/r1-a0-1"])
        #expect(vscode.first?.linkType == .ide && vscode.first?.messageFormat == .json && vscode.first?.name == "VS Code")
        // Two types, unsorted, and _F_E_VS: each link once, in the types' sorted order.
        let both = links(config: ["link_type": "wandb-execution-id,vscode", "port": "8080", "host": "https://wandb.ai", "entity": "ml", "project": "p1"], env: ["_F_E_VS": "True"])
        #expect(both.map(\.name) == ["VS Code", "Weights & Biases"])
        #expect(both.last?.uri == "https://wandb.ai/ml/p1/runs/r1-{{ .taskConfig.missing }}")
        #expect(both.last?.linkType == .dashboard)
        #expect(links(config: ["port": "1"], env: ["_F_E_VS": "1"]).map(\.name) == ["VS Code"])
        #expect(links(config: ["port": "1"], env: ["_F_E_VS": "yes"]).isEmpty, "not a Go boolean: no VS Code")
        #expect(links(config: [:]).isEmpty, "no link_type: none, as Flyte's \"no link_type in task template\"")
    }

    @Test("a key Flyte's log config has and this one does not is refused by name")
    func unknownKeys() throws {
        for (yaml, problem) in [
            ("plugins:\n  logs: {azure-log-templates: []}\n", "plugins.logs: unknown key \"azure-log-templates\""),
            ("plugins:\n  logs: {templates: [{displayName: a, scheme: TaskExecution}]}\n", "plugins.logs.templates[0]: unknown key \"scheme\""),
            ("plugins:\n  logs: {dynamic-log-links: {w: {displayName: a, uris: []}}}\n", "plugins.logs.dynamic-log-links.w: unknown key \"uris\""),
        ] {
            let error = try #require(FlytePodConfigurationTests.refusal(yaml), "accepted: \(yaml)")
            #expect(error.contains(problem), "\(error)")
        }
    }

    @Test("the ActionEvents of a running Pod carry the links whole", TestCluster.sandboxOnly)
    func scenario() async throws {
        let config = try ExecutorConfig.parse(yaml: Self.yaml, path: "executor.yaml")
        try await ExecutorHarness.with(config: config) { h in
            try await h.create(Fixtures.taskAction("r1-linked"))
            _ = try await h.terminal("r1-linked")
            let events = h.sink.events.value
            let links = try #require(events.last { !$0.logInfo.isEmpty }?.logInfo)
            #expect(links.map(\.name) == ["Kubernetes Logs", "Cloudwatch Logs", "Grafana 0"])
            #expect(links[2].uri.hasPrefix("https://grafana.example.com/explore?pod=r1-linked-0&ns=\(h.namespace)&from="))
            #expect(links[2].linkType == .dashboard && links[2].showWhilePending && links[2].ready && links[2].messageFormat == .json)
        }
    }
}
