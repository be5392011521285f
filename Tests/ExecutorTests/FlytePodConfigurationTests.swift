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

    @Test("Flyte's duration-named grace periods are read as Go durations, beside ours in seconds; both at once, or a bad duration, is an error")
    func flyteDurations() throws {
        let flyte = try ExecutorConfig.parse(yaml: "plugins: {image-pull-backoff-grace-period: 3m, pod-pending-timeout: 1h30m, create-container-error-grace-period: 500ms, create-container-config-error-grace-period: 0s}\n", path: "executor.yaml").plugins
        #expect(flyte.imagePullBackoffGracePeriodSeconds == 180 && flyte.podPendingTimeoutSeconds == 5400)
        #expect(flyte.createContainerErrorGracePeriodSeconds == 1 && flyte.createContainerConfigErrorGracePeriodSeconds == 0)
        let ours = try ExecutorConfig.parse(yaml: "plugins: {image-pull-backoff-grace-period-seconds: 60}\n", path: "executor.yaml").plugins
        #expect(ours.imagePullBackoffGracePeriodSeconds == 60 && ours.podPendingTimeoutSeconds == 0)
        for (yaml, problem) in [
            ("plugins: {pod-pending-timeout: 5m, pod-pending-timeout-seconds: 300}\n", "give pod-pending-timeout-seconds or pod-pending-timeout, not both"),
            ("plugins: {pod-pending-timeout: 5 minutes}\n", "pod-pending-timeout must be a Go duration such as 3m or 90s, not 5 minutes"),
            ("plugins: {image-pull-backoff-grace-period: -1m}\n", "image-pull-backoff-grace-period must be a Go duration such as 3m or 90s, not -1m"),
        ] {
            #expect(throws: (any Error).self) { try ExecutorConfig.parse(yaml: yaml, path: "executor.yaml") }
            do {
                _ = try ExecutorConfig.parse(yaml: yaml, path: "executor.yaml")
            } catch {
                #expect("\(error)".contains(problem), "\(error)")
            }
        }
        // Go's time.ParseDuration.
        for (text, seconds) in [("1h2m3s", 3723.0), ("1.5s", 1.5), ("-2m", -120), ("0", 0), ("300ms", 0.3), ("2h45m", 9900), ("10us", 0.00001), ("1µs", 0.000001)] {
            #expect(GoDuration.parse(text).map { abs($0 - seconds) < 1e-9 } == true, "\(text)")
        }
        for text in ["", "5", "1d", "m", "1.2.3s", "s1"] { #expect(GoDuration.parse(text) == nil, "\(text)") }
    }

    @Test("the settings are read with the file's names; a key no section knows (one of Flyte's this executor lacks, a misspelling) is an error naming where it is, not silence")
    func configFile() throws {
        let config = try Self.config()
        #expect(config.resourceTolerations["nvidia.com/gpu"]?.first?.key == "gpu-node")
        #expect(config.enableHostNetworkingPod == false)
        #expect(config.defaultEnvFromConfigMaps == ["shared-settings"])
        #expect(PluginConfig().defaultAffinity == nil && PluginConfig().enableHostNetworkingPod == nil)
        let classes = try ExecutorConfig.parse(yaml: "plugins:\n  accelerator-device-classes:\n    google_tpu: {resource-name: google.com/tpu, device-node-label: tpu-type}\n", path: "executor.yaml").plugins
        #expect(classes.acceleratorDeviceClasses == ["GOOGLE_TPU": AcceleratorDeviceClass(resourceName: "google.com/tpu", deviceNodeLabel: "tpu-type")])

        for (yaml, problem) in [
            ("plugins:\n  inject-finalizers: true\n", "plugins: unknown key \"inject-finalizers\""),
            ("gc:\n  ttl-hours: 24\n", "gc: unknown key \"ttl-hours\""),
            ("spark:\n  features: [{name: a, spark-conf: {}}]\n", "spark.features[0]: unknown key \"spark-conf\""),
            ("storage:\n  type: s3\n  s3: {region: eu, bucket: b}\n", "storage.s3: unknown key \"bucket\""),
            ("apps: {enabled: true, port: 1}\n", "apps: unknown key \"port\""),
            ("events: {url: http://x, retries: 3}\n", "events: unknown key \"retries\""),
            ("ray: {ttl: 1}\n", "ray: unknown key \"ttl\""),
            ("plugins:\n  accelerator-device-classes: {NVIDIA_GPU: {pod-template: {}}}\n", "plugins.accelerator-device-classes.NVIDIA_GPU: unknown key \"pod-template\""),
            ("max-system-failures: 3\nverbose: true\n", "unknown key \"verbose\""),
            ("plugins:\n  interruptible-node-selector-requirement: {key: lifecycle, operator: Among}\n", "interruptible-node-selector-requirement needs a key and an operator of In, NotIn, Exists, DoesNotExist, Gt, Lt"),
            ("plugins:\n  default-affinity: [a]\n", "default-affinity must be a mapping (a Kubernetes object)"),
        ] {
            let error = try #require(Self.refusal(yaml), "\(yaml) was accepted")
            #expect(error.hasPrefix("invalid config executor.yaml: "))
            #expect(error.contains(problem), "\(error)")
        }
    }

    /// Why `ExecutorConfig.parse` refuses `yaml`, or nil when it accepts it.
    static func refusal(_ yaml: String) -> String? {
        do {
            _ = try ExecutorConfig.parse(yaml: yaml, path: "executor.yaml")
            return nil
        } catch {
            return "\(error)"
        }
    }

    static func accelerated(_ device: String, deviceClass: Flyteidl2_Core_GPUAccelerator.DeviceClass = .nvidiaGpu, partition: Flyteidl2_Core_GPUAccelerator.OneOf_PartitionSizeValue? = nil, gpu: Bool = true) -> Flyteidl2_Core_TaskTemplate {
        var template = Self.template(gpu: gpu)
        template.extendedResources.gpuAccelerator.device = device
        template.extendedResources.gpuAccelerator.deviceClass = deviceClass
        template.extendedResources.gpuAccelerator.partitionSizeValue = partition
        return template
    }

    static func requirements(_ pod: Pod) -> [JSONValue] {
        pod.spec?.affinity?.value(atPath: "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")?[0]?["matchExpressions"]?.arrayValue ?? []
    }

    @Test("a GPU accelerator places the Pod: its device (Flyte's name for it) and partition as required node affinity and tolerations, a MIG partition's slices as a label")
    func accelerators() throws {
        let config = PluginConfig()
        let a100 = try PodPlugin(config: config).build(PluginTests.context(Self.accelerated("a100", partition: .partitionSize("1g.5gb")), config: config))
        #expect(Self.requirements(a100) == [
            ["key": "k8s.amazonaws.com/accelerator", "operator": "In", "values": ["nvidia-tesla-a100"]],
            ["key": "k8s.amazonaws.com/gpu-partition-size", "operator": "In", "values": ["1g.5gb"]],
        ])
        #expect(a100.spec?.tolerations == [
            Toleration(key: "k8s.amazonaws.com/accelerator", operator: "Equal", value: "nvidia-tesla-a100", effect: "NoSchedule"),
            Toleration(key: "k8s.amazonaws.com/gpu-partition-size", operator: "Equal", value: "1g.5gb", effect: "NoSchedule"),
        ])
        #expect(a100.metadata.labels?["platform.union.ai/gpu-partition-slices"] == "1")
        #expect(a100.spec?.containers[0].resources?.limits?["nvidia.com/gpu"] == "1")

        // A TPU: its class's resource and GKE's labels; a topology is no MIG partition.
        let tpu = try PodPlugin(config: config).build(PluginTests.context(Self.accelerated("V5E", deviceClass: .googleTpu, partition: .partitionSize("2x2")), config: config))
        #expect(tpu.spec?.containers[0].resources?.limits?["google.com/tpu"] == "1")
        #expect(tpu.spec?.containers[0].resources?.limits?["nvidia.com/gpu"] == nil)
        #expect(Self.requirements(tpu) == [
            ["key": "cloud.google.com/gke-tpu-accelerator", "operator": "In", "values": ["tpu-v5-lite-podslice"]],
            ["key": "cloud.google.com/gke-tpu-topology", "operator": "In", "values": ["2x2"]],
        ])
        #expect(tpu.metadata.labels?["platform.union.ai/gpu-partition-slices"] == nil)

        // Unpartitioned: the partition label must be absent, or the configured requirement and toleration.
        let whole = try PodPlugin(config: config).build(PluginTests.context(Self.accelerated("custom-card", partition: .unpartitioned(true)), config: config))
        #expect(Self.requirements(whole) == [
            ["key": "k8s.amazonaws.com/accelerator", "operator": "In", "values": ["custom-card"]],
            ["key": "k8s.amazonaws.com/gpu-partition-size", "operator": "DoesNotExist"],
        ])
        var custom = config
        custom.gpuUnpartitionedNodeSelectorRequirement = ["key": "gpu-sharing", "operator": "NotIn", "values": ["mig"]]
        custom.gpuUnpartitionedToleration = Toleration(key: "whole-gpu", operator: "Exists", effect: "NoSchedule")
        let wholeCustom = try PodPlugin(config: custom).build(PluginTests.context(Self.accelerated("T4", partition: .unpartitioned(true)), config: custom))
        #expect(Self.requirements(wholeCustom).last == ["key": "gpu-sharing", "operator": "NotIn", "values": ["mig"]])
        #expect(wholeCustom.spec?.tolerations?.last?.key == "whole-gpu")

        // No accelerator resource in the Pod: no placement.
        let cpuOnly = try PodPlugin(config: config).build(PluginTests.context(Self.accelerated("A100", gpu: false), config: config))
        #expect(Self.requirements(cpuOnly).isEmpty)
        #expect(cpuOnly.spec?.tolerations == nil)
    }

    @Test("shared memory is a memory emptyDir mounted into the primary container; a clash or a missing name, path or valid size is BadTaskSpecification in Flyte's words")
    func sharedMemory() throws {
        var template = Self.template()
        template.extendedResources.sharedMemory.mountName = "shm"
        template.extendedResources.sharedMemory.mountPath = "/dev/shm"
        template.extendedResources.sharedMemory.sizeLimit = "2Gi"
        let pod = try PodPlugin().build(PluginTests.context(template))
        #expect(pod.spec?.volumes == [["name": "shm", "emptyDir": ["medium": "Memory", "sizeLimit": "2Gi"]]])
        #expect(pod.spec?.containers[0].unknownFields["volumeMounts"] == [["name": "shm", "mountPath": "/dev/shm"]])

        template.extendedResources.sharedMemory.sizeLimit = ""
        #expect(try PodPlugin().build(PluginTests.context(template)).spec?.volumes == [["name": "shm", "emptyDir": ["medium": "Memory"]]])

        func refusal(_ change: (inout Flyteidl2_Core_TaskTemplate) -> Void) -> String? {
            var t = template
            change(&t)
            do {
                _ = try PodPlugin().build(PluginTests.context(t))
                return nil
            } catch let error as ExecutionError {
                return error.code == "BadTaskSpecification" ? error.message : "code \(error.code)"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal { $0.extendedResources.sharedMemory.mountName = "" } == "mount name is not set")
        #expect(refusal { $0.extendedResources.sharedMemory.mountPath = "" } == "mount path is not set")
        #expect(refusal { $0.extendedResources.sharedMemory.sizeLimit = "lots" }?.hasPrefix("Unable to parse size limit: ") == true)
        #expect(refusal { t in
            t.config = ["primary_container_name": "main"]
            var k8sPod = Flyteidl2_Core_K8sPod()
            k8sPod.podSpec = try! Google_Protobuf_Struct(jsonString: #"{"containers":[{"name":"main","image":"img","volumeMounts":[{"name":"cache","mountPath":"/dev/shm"}]}],"volumes":[{"name":"cache","emptyDir":{}}]}"#)
            t.k8SPod = k8sPod
        } == "/dev/shm is already mounted in container")
    }

    @Test("a VS Code task's primary container gets Flyte's readiness probe, on 6060 for v2 tasks; a value Go's ParseBool refuses is off")
    func vscode() throws {
        var template = Self.template()
        template.container.env = [Flyteidl2_Core_KeyValuePair.with { $0.key = "_F_E_VS"; $0.value = "True" }]
        let pod = try PodPlugin().build(PluginTests.context(template))
        #expect(pod.spec?.containers[0].unknownFields["readinessProbe"] == ["httpGet": ["port": 6060], "initialDelaySeconds": 15, "periodSeconds": 5, "failureThreshold": 50])
        template.container.env[0].value = "yes"
        #expect(try PodPlugin().build(PluginTests.context(template)).spec?.containers[0].unknownFields["readinessProbe"] == nil)
    }

    @Test("resources: a primary container without CPU or memory gets default-cpus and default-memory, a missing side takes the other; a request above its limit comes down; sidecars get no defaults")
    func resourceDefaults() throws {
        var template = Flyteidl2_Core_TaskTemplate()
        template.container.image = "img"
        let bare = try PodPlugin().build(PluginTests.context(template))
        #expect(bare.spec?.containers[0].resources == ResourceRequirements(limits: ["cpu": "1000m", "memory": "1024Mi"], requests: ["cpu": "1000m", "memory": "1024Mi"]))

        var cpuLimit = Flyteidl2_Core_Resources.ResourceEntry()
        cpuLimit.name = .cpu
        cpuLimit.value = "2"
        template.container.resources.limits = [cpuLimit]
        var config = PluginConfig()
        config.defaultMemory = ""
        config.imagePullPolicy = "IfNotPresent"
        let limited = try PodPlugin(config: config).build(PluginTests.context(template, config: config))
        #expect(limited.spec?.containers[0].resources == ResourceRequirements(limits: ["cpu": "2"], requests: ["cpu": "2"]))
        #expect(limited.spec?.containers[0].imagePullPolicy == "IfNotPresent")

        var pod = Flyteidl2_Core_TaskTemplate()
        pod.config = ["primary_container_name": "main"]
        var k8sPod = Flyteidl2_Core_K8sPod()
        k8sPod.podSpec = try Google_Protobuf_Struct(jsonString: #"""
        {"containers":[{"name":"main","image":"img","resources":{"requests":{"cpu":"250m","nvidia.com/gpu":"1"}}},
                       {"name":"side","image":"s","resources":{"requests":{"cpu":"2"},"limits":{"cpu":"1"}}},
                       {"name":"bare","image":"b"}]}
        """#)
        pod.k8SPod = k8sPod
        let built = try PodPlugin().build(PluginTests.context(pod))
        let containers = try #require(built.spec?.containers)
        #expect(containers[0].resources == ResourceRequirements(limits: ["cpu": "250m", "memory": "1024Mi", "nvidia.com/gpu": "1"], requests: ["cpu": "250m", "memory": "1024Mi", "nvidia.com/gpu": "1"]))
        #expect(containers[1].resources == ResourceRequirements(limits: ["cpu": "1"], requests: ["cpu": "1"]))
        #expect(containers[2].resources == nil)

        for (yaml, problem) in [
            ("plugins: {default-cpus: lots}\n", "default-cpus \"lots\" is not a quantity"),
            ("plugins: {image-pull-policy: Sometimes}\n", "image-pull-policy must be Always, IfNotPresent or Never, not Sometimes"),
        ] {
            let error = try #require(Self.refusal(yaml), "\(yaml) was accepted")
            #expect(error.contains(problem), "\(error)")
        }
    }

    @Test("init containers are customized as containers are: rendered arguments, the executor's environment, envFrom, a request above its limit brought down")
    func initContainers() throws {
        let config = try Self.config()
        var template = Flyteidl2_Core_TaskTemplate()
        template.config = ["primary_container_name": "main"]
        var k8sPod = Flyteidl2_Core_K8sPod()
        k8sPod.podSpec = try Google_Protobuf_Struct(jsonString: #"""
        {"containers":[{"name":"main","image":"img"}],
         "initContainers":[{"name":"fetch","image":"busybox","args":["get","{{.input}}"],"resources":{"requests":{"cpu":"2"},"limits":{"cpu":"1"}}}]}
        """#)
        template.k8SPod = k8sPod
        let pod = try PodPlugin(config: config).build(PluginTests.context(template, config: config))
        let fetch = try #require(pod.spec?.initContainers?.first)
        #expect(fetch.args == ["get", "s3://bucket/metadata/r1/r1-a0/inputs.pb"])
        #expect(fetch.env?.contains { $0.name == "ACTION_NAME" && $0.value == "r1-a0" } == true)
        #expect(fetch.unknownFields["envFrom"]?.arrayValue?.count == 2)
        #expect(fetch.resources == ResourceRequirements(limits: ["cpu": "1"], requests: ["cpu": "1"]))
        #expect(fetch.resources?.requests?["memory"] == nil, "no defaults: it is not the primary container")
    }

    @Test("an extended resource requested only through the PodTemplate is tolerated too: that toleration comes last")
    func extendedResourceFromTemplate() throws {
        var config = PluginConfig()
        config.addTolerationsForExtendedResources = ["example.com/fpga"]
        var context = PluginTests.context(Self.template(), config: config)
        context.basePodTemplate = PodTemplate(metadata: ObjectMeta(name: "fpga"), template: ["spec": ["containers": [["name": "default", "resources": ["requests": ["example.com/fpga": "1"], "limits": ["example.com/fpga": "1"]]]]]])
        let pod = try PodPlugin(config: config).build(context)
        #expect(pod.spec?.containers[0].resources?.requests?["example.com/fpga"] == "1")
        #expect(pod.spec?.tolerations?.last == Toleration(key: "example.com/fpga", operator: "Exists", effect: "NoSchedule"))
    }

    @Test("a Pod built with every setting and shared memory is accepted by the API server and runs", TestCluster.sandboxOnly)
    func scenario() async throws {
        let config = try ExecutorConfig.parse(yaml: Self.yaml, path: "executor.yaml")
        try await ExecutorHarness.with(config: config) { h in
            var template = try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.template())
            template.extendedResources.sharedMemory.mountName = "shm"
            template.extendedResources.sharedMemory.mountPath = "/dev/shm"
            template.extendedResources.sharedMemory.sizeLimit = "64Mi"
            try await h.create(Fixtures.taskAction("r1-configured", template: try template.serializedBytes()))
            let done = try await h.terminal("r1-configured")
            #expect(done.status?.condition(.succeeded)?.status == "True")
            let pod = try await h.client.get(Pod.self, name: "r1-configured-0", namespace: h.namespace)
            // The API server's DefaultTolerationSeconds adds its two after the executor's.
            #expect(pod.spec?.tolerations?.map { $0.key ?? "" } == ["big-memory", "everywhere", "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])
            #expect(pod.spec?.affinity?.value(atPath: "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")?[0]?["matchExpressions"]?[0]?["operator"] == "NotIn")
            #expect(pod.spec?.securityContext?["runAsNonRoot"] == true)
            #expect(pod.spec?.containers.first?.unknownFields["envFrom"]?.arrayValue?.count == 2)
            #expect(pod.spec?.volumes?.first { $0["name"] == "shm" }?["emptyDir"] == ["medium": "Memory", "sizeLimit": "64Mi"])
        }
    }
}
