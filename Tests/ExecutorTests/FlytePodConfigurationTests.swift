import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import SwiftProtobuf
import Testing
@testable import TaskPlugins

/// Flyte's k8s plugin settings on the Pods the plugins build (`UpdatePod`,
/// `ApplyInterruptibleNodeAffinity`, `AddTolerationsForExtendedResources`, `DecorateEnvVars`).
@Suite("Flyte's Pod configuration")
struct FlytePodConfigurationTests {
    static let yaml = """
    plugins:
      default-tolerations: [{key: everywhere, operator: Exists}]
      resource-tolerations:
        nvidia.com/gpu: [{key: gpu-node, operator: Equal, value: "true", effect: NoSchedule}]
        memory: [{key: big-memory, operator: Exists, effect: NoSchedule}]
      interruptible-tolerations: [{key: spot, operator: Exists, effect: NoSchedule}]
      add-tolerations-for-extended-resources: [nvidia.com/gpu, example.com/fpga]
      default-affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, podAffinityTerm: {topologyKey: kubernetes.io/hostname}}]
      default-pod-security-context: {runAsNonRoot: true, fsGroup: 1000}
      default-security-context: {allowPrivilegeEscalation: false}
      default-pod-dns-config: {options: [{name: ndots, value: "2"}]}
      enable-host-networking-pod: false
      interruptible-node-selector-requirement: {key: lifecycle, operator: In, values: [spot]}
      non-interruptible-node-selector-requirement: {key: lifecycle, operator: NotIn, values: [spot]}
      default-env-vars: {TEAM: platform, ACTION_NAME: hijack, REGION: eu-west-1}
      default-env-vars-from-env: {EXECUTOR_PATH: PATH}
      default-env-from-secrets: [shared-creds]
      default-env-from-configmaps: [shared-settings]
    """

    static func config() throws -> PluginConfig {
        try ExecutorConfig.parse(yaml: yaml, path: "executor.yaml").plugins
    }

    static func template(gpu: Bool = false) -> Flyteidl2_Core_TaskTemplate {
        var template = Flyteidl2_Core_TaskTemplate()
        template.type = "python"
        template.container.image = "img"
        var memory = Flyteidl2_Core_Resources.ResourceEntry()
        memory.name = .memory
        memory.value = "1Gi"
        template.container.resources.requests = [memory]
        if gpu {
            var entry = Flyteidl2_Core_Resources.ResourceEntry()
            entry.name = .gpu
            entry.value = "1"
            template.container.resources.limits = [entry]
            template.container.resources.requests.append(entry)
        }
        return template
    }

    @Test("tolerations: the resources' (by name), the interruptible ones, the defaults, the Pod's own, then one per requested extended resource not yet tolerated")
    func tolerations() throws {
        let config = try Self.config()
        let pod = try PodPlugin(config: config).build(PluginTests.context(Self.template(gpu: true), interruptible: true, config: config))
        let keys = pod.spec?.tolerations?.map { $0.key ?? "" }
        #expect(keys == ["big-memory", "gpu-node", "spot", "everywhere", "nvidia.com/gpu"])
        #expect(pod.spec?.tolerations?.last == Toleration(key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule"))

        // A Pod that already tolerates the extended resource gets no second toleration for it.
        var tolerant = config
        tolerant.resourceTolerations["nvidia.com/gpu"] = [Toleration(key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule")]
        let again = try PodPlugin(config: tolerant).build(PluginTests.context(Self.template(gpu: true), config: tolerant))
        #expect(again.spec?.tolerations?.map { $0.key ?? "" } == ["big-memory", "nvidia.com/gpu", "everywhere"])

        let plain = try PodPlugin(config: config).build(PluginTests.context(Self.template(), config: config))
        #expect(plain.spec?.tolerations?.map { $0.key ?? "" } == ["big-memory", "everywhere"])
    }

    @Test("affinity, security contexts, DNS config and host networking fill what the spec leaves unset; the interruptible requirement joins every required term")
    func podDefaults() throws {
        let config = try Self.config()
        let pod = try PodPlugin(config: config).build(PluginTests.context(Self.template(), config: config))
        let spec = try #require(pod.spec)
        #expect(spec.affinity?.value(atPath: "podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution")?[0]?["weight"] == 1)
        #expect(spec.affinity?.value(atPath: "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")
            == [["matchExpressions": [["key": "lifecycle", "operator": "NotIn", "values": ["spot"]]]]])
        #expect(spec.securityContext == ["runAsNonRoot": true, "fsGroup": 1000])
        #expect(spec.containers[0].unknownFields["securityContext"] == ["allowPrivilegeEscalation": false])
        #expect(spec.unknownFields["dnsConfig"] == ["options": [["name": "ndots", "value": "2"]]])
        #expect(spec.hostNetwork == false)

        // A k8s_pod spec's own choices stay; the requirement is added to each of its two terms.
        var template = Self.template()
        template.config = ["primary_container_name": "main"]
        var k8sPod = Flyteidl2_Core_K8sPod()
        k8sPod.podSpec = try Google_Protobuf_Struct(jsonString: #"""
        {"containers":[{"name":"main","image":"img","securityContext":{"runAsUser":7}},{"name":"side","image":"s"}],
         "serviceAccountName":"own-sa","securityContext":{"runAsUser":5},"dnsConfig":{"nameservers":["1.1.1.1"]},
         "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
           {"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]},
           {"matchExpressions":[{"key":"lifecycle","operator":"In","values":["spot"]}]}]}}}}
        """#)
        template.k8SPod = k8sPod
        let own = try PodPlugin(config: config).build(PluginTests.context(template, interruptible: true, config: config))
        let ownSpec = try #require(own.spec)
        #expect(ownSpec.serviceAccountName == "own-sa", "Flyte sets the service account only where the spec has none")
        #expect(ownSpec.securityContext == ["runAsUser": 5])
        #expect(ownSpec.containers[0].unknownFields["securityContext"] == ["runAsUser": 7])
        #expect(ownSpec.containers[1].unknownFields["securityContext"] == nil, "only the primary container gets the default")
        #expect(ownSpec.unknownFields["dnsConfig"] == ["nameservers": ["1.1.1.1"]])
        #expect(ownSpec.affinity?.value(atPath: "podAntiAffinity") == nil)
        #expect(ownSpec.affinity?.value(atPath: "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms") == [
            ["matchExpressions": [["key": "zone", "operator": "In", "values": ["a"]], ["key": "lifecycle", "operator": "In", "values": ["spot"]]]],
            ["matchExpressions": [["key": "lifecycle", "operator": "In", "values": ["spot"]]]],
        ])
    }

    @Test("environment: the defaults after the task's own and over them, never over the executor's four; envFrom the Secrets, then the ConfigMaps, in every container")
    func environment() throws {
        let config = try Self.config()
        let pod = try PodPlugin(config: config).build(PluginTests.context(Self.template(), config: config))
        let container = try #require(pod.spec?.containers.first)
        let env = (container.env ?? []).map { "\($0.name)=\($0.value ?? "")" }
        #expect(env.filter { $0.hasPrefix("ACTION_NAME=") } == ["ACTION_NAME=r1-a0"])
        #expect(env.filter { $0.hasPrefix("TEAM=") } == ["TEAM=platform"], "the fixture's spec.envVars has TEAM=ml")
        #expect(Array(env.suffix(3)) == ["REGION=eu-west-1", "TEAM=platform", "EXECUTOR_PATH=\(ProcessInfo.processInfo.environment["PATH"] ?? "")"])
        #expect(container.unknownFields["envFrom"] == [["secretRef": ["name": "shared-creds", "optional": true]], ["configMapRef": ["name": "shared-settings", "optional": true]]])
    }

    @Test("the settings are read with the file's names; a key no section knows (one of Flyte's this executor lacks, a misspelling) is an error naming where it is, not silence")
    func configFile() throws {
        let config = try Self.config()
        #expect(config.resourceTolerations["nvidia.com/gpu"]?.first?.key == "gpu-node")
        #expect(config.enableHostNetworkingPod == false)
        #expect(config.defaultEnvFromConfigMaps == ["shared-settings"])
        #expect(PluginConfig().defaultAffinity == nil && PluginConfig().enableHostNetworkingPod == nil)

        for (yaml, problem) in [
            ("plugins:\n  default-pod-template-name: base\n", "plugins: unknown key \"default-pod-template-name\""),
            ("gc:\n  ttl-hours: 24\n", "gc: unknown key \"ttl-hours\""),
            ("spark:\n  features: [{name: a, spark-conf: {}}]\n", "spark.features[0]: unknown key \"spark-conf\""),
            ("storage:\n  type: s3\n  s3: {region: eu, bucket: b}\n", "storage.s3: unknown key \"bucket\""),
            ("apps: {enabled: true, port: 1}\n", "apps: unknown key \"port\""),
            ("events: {url: http://x, retries: 3}\n", "events: unknown key \"retries\""),
            ("ray: {ttl: 1}\n", "ray: unknown key \"ttl\""),
            ("max-system-failures: 3\nverbose: true\n", "unknown key \"verbose\""),
            ("plugins:\n  interruptible-node-selector-requirement: {key: lifecycle, operator: Among}\n", "interruptible-node-selector-requirement needs a key and an operator of In, NotIn, Exists, DoesNotExist, Gt, Lt"),
            ("plugins:\n  default-affinity: [a]\n", "default-affinity must be a mapping (a Kubernetes object)"),
        ] {
            do {
                _ = try ExecutorConfig.parse(yaml: yaml, path: "executor.yaml")
                Issue.record("\(yaml) was accepted")
            } catch {
                #expect("\(error)".hasPrefix("invalid config executor.yaml: "))
                #expect("\(error)".contains(problem), "\(error)")
            }
        }
    }

    @Test("a Pod built with every setting is accepted by the API server and runs", TestCluster.sandboxOnly)
    func scenario() async throws {
        let config = try ExecutorConfig.parse(yaml: Self.yaml, path: "executor.yaml")
        try await ExecutorHarness.with(config: config) { h in
            try await h.create(Fixtures.taskAction("r1-configured"))
            let done = try await h.terminal("r1-configured")
            #expect(done.status?.condition(.succeeded)?.status == "True")
            let pod = try await h.client.get(Pod.self, name: "r1-configured-0", namespace: h.namespace)
            // The API server's DefaultTolerationSeconds adds its two after the executor's.
            #expect(pod.spec?.tolerations?.map { $0.key ?? "" } == ["big-memory", "everywhere", "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])
            #expect(pod.spec?.affinity?.value(atPath: "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")?[0]?["matchExpressions"]?[0]?["operator"] == "NotIn")
            #expect(pod.spec?.securityContext?["runAsNonRoot"] == true)
            #expect(pod.spec?.containers.first?.unknownFields["envFrom"]?.arrayValue?.count == 2)
        }
    }
}
