import KubeClient

/// Settings of the Kubernetes plugins, the k8s plugin configuration of Flyte.
public struct PluginConfig: Codable, Sendable, Hashable {
    /// Labels added to every child object.
    public var defaultLabels: [String: String] = [:]
    /// Annotations added to every child object.
    public var defaultAnnotations: [String: String] = ["cluster-autoscaler.kubernetes.io/safe-to-evict": "false"]
    /// Node selector of every Pod.
    public var defaultNodeSelector: [String: String] = [:]
    /// Tolerations added to Pods of interruptible tasks.
    public var interruptibleTolerations: [Toleration] = []
    /// Node selector added to Pods of interruptible tasks.
    public var interruptibleNodeSelector: [String: String] = [:]
    /// Service account when the template names none.
    public var defaultServiceAccount: String?
    /// Scheduler of every Pod whose spec names none, as Flyte's `scheduler-name`.
    public var schedulerName: String?
    /// How long a Pod may sit in ImagePullBackOff before the attempt fails.
    public var imagePullBackoffGracePeriodSeconds: Int = 180
    public var createContainerErrorGracePeriodSeconds: Int = 180
    public var createContainerConfigErrorGracePeriodSeconds: Int = 0
    /// How long a Pod may stay Pending; 0 turns the timeout off.
    public var podPendingTimeoutSeconds: Int = 0
    /// GPU resource name for the `GPU` resource of a template.
    public var gpuResourceName: String = "nvidia.com/gpu"
    /// CPU of a primary container whose task sets neither request nor limit (Flyte's default);
    /// empty leaves it unset.
    public var defaultCPUs = "1000m"
    /// Memory of a primary container whose task sets neither request nor limit (Flyte's default).
    public var defaultMemory = "1024Mi"
    /// `imagePullPolicy` of a container task's container, when set.
    public var imagePullPolicy: String?
    /// Put the finalizer `flyte/flytek8s` on every child (Flyte's `inject-finalizer`), so that a
    /// Pod deleted (evicted, drained, collected) before its end was recorded stays readable
    /// until it is; the executor takes it off once the TaskAction has ended, and when it deletes
    /// a child. Off by default: one more write per TaskAction.
    public var injectFinalizer = false
    /// The PodTemplate (in the task's namespace, else the executor's) that every Pod is built
    /// on when the task names none; empty for none.
    public var defaultPodTemplateName = ""
    /// The log links of Pod tasks (Flyte's `plugins.logs`).
    public var logs = LogsConfig()
    /// Tolerations of every Pod, after the resource and interruptible ones.
    public var defaultTolerations: [Toleration] = []
    /// Tolerations of Pods whose containers request or limit the named resource
    /// (`nvidia.com/gpu: [...]`).
    public var resourceTolerations: [String: [Toleration]] = [:]
    /// Extended resources whose request adds the toleration `{key: <resource>, operator: Exists,
    /// effect: NoSchedule}`.
    public var addTolerationsForExtendedResources: [String] = []
    /// A Pod's `affinity` when its spec has none.
    public var defaultAffinity: JSONValue?
    /// A Pod's `securityContext` when its spec has none.
    public var defaultPodSecurityContext: JSONValue?
    /// The primary container's `securityContext` when it has none.
    public var defaultSecurityContext: JSONValue?
    /// A Pod's `dnsConfig` when its spec has none.
    public var defaultPodDNSConfig: JSONValue?
    /// Every Pod's `hostNetwork`, when set.
    public var enableHostNetworkingPod: Bool?
    /// A required node-affinity requirement added to every term of interruptible tasks' Pods.
    public var interruptibleNodeSelectorRequirement: JSONValue?
    /// The same for the Pods of tasks that are not interruptible.
    public var nonInterruptibleNodeSelectorRequirement: JSONValue?
    /// Environment variables of every container, after the task's own (they win over them).
    public var defaultEnvVars: [String: String] = [:]
    /// Environment variables of every container whose values are read from the executor's own
    /// environment when the child is built: `{NAME_IN_TASK: NAME_IN_EXECUTOR}`.
    public var defaultEnvVarsFromEnv: [String: String] = [:]
    /// Secrets every container takes all its variables from (`envFrom`, optional).
    public var defaultEnvFromSecrets: [String] = []
    /// ConfigMaps every container takes all its variables from (`envFrom`, optional).
    public var defaultEnvFromConfigMaps: [String] = []
    /// The node label naming a node's accelerator device, for tasks that ask for one.
    public var gpuDeviceNodeLabel = "k8s.amazonaws.com/accelerator"
    /// The node label naming a node's GPU partition size.
    public var gpuPartitionSizeNodeLabel = "k8s.amazonaws.com/gpu-partition-size"
    /// For tasks that ask for an unpartitioned device: the requirement instead of "the partition
    /// label does not exist".
    public var gpuUnpartitionedNodeSelectorRequirement: JSONValue?
    /// For tasks that ask for an unpartitioned device: a toleration to add.
    public var gpuUnpartitionedToleration: Toleration?
    /// A task's accelerator device (upper case) → the value of the device node label.
    public var acceleratorDevices: [String: String] = AcceleratorDeviceClass.deviceNames
    /// Per device class (`NVIDIA_GPU`, `GOOGLE_TPU`, …): the resource and labels that replace
    /// the GPU settings above. Given, it replaces Flyte's defaults.
    public var acceleratorDeviceClasses: [String: AcceleratorDeviceClass] = AcceleratorDeviceClass.defaults

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case defaultLabels = "default-labels"
        case defaultAnnotations = "default-annotations"
        case defaultNodeSelector = "default-node-selector"
        case interruptibleTolerations = "interruptible-tolerations"
        case interruptibleNodeSelector = "interruptible-node-selector"
        case defaultServiceAccount = "default-service-account"
        case schedulerName = "scheduler-name"
        case imagePullBackoffGracePeriodSeconds = "image-pull-backoff-grace-period-seconds"
        case createContainerErrorGracePeriodSeconds = "create-container-error-grace-period-seconds"
        case createContainerConfigErrorGracePeriodSeconds = "create-container-config-error-grace-period-seconds"
        case podPendingTimeoutSeconds = "pod-pending-timeout-seconds"
        case gpuResourceName = "gpu-resource-name"
        case defaultCPUs = "default-cpus"
        case defaultMemory = "default-memory"
        case imagePullPolicy = "image-pull-policy"
        case injectFinalizer = "inject-finalizer"
        case defaultPodTemplateName = "default-pod-template-name"
        case logs
        case defaultTolerations = "default-tolerations"
        case resourceTolerations = "resource-tolerations"
        case addTolerationsForExtendedResources = "add-tolerations-for-extended-resources"
        case defaultAffinity = "default-affinity"
        case defaultPodSecurityContext = "default-pod-security-context"
        case defaultSecurityContext = "default-security-context"
        case defaultPodDNSConfig = "default-pod-dns-config"
        case enableHostNetworkingPod = "enable-host-networking-pod"
        case interruptibleNodeSelectorRequirement = "interruptible-node-selector-requirement"
        case nonInterruptibleNodeSelectorRequirement = "non-interruptible-node-selector-requirement"
        case defaultEnvVars = "default-env-vars"
        case defaultEnvVarsFromEnv = "default-env-vars-from-env"
        case defaultEnvFromSecrets = "default-env-from-secrets"
        case defaultEnvFromConfigMaps = "default-env-from-configmaps"
        case gpuDeviceNodeLabel = "gpu-device-node-label"
        case gpuPartitionSizeNodeLabel = "gpu-partition-size-node-label"
        case gpuUnpartitionedNodeSelectorRequirement = "gpu-unpartitioned-node-selector-requirement"
        case gpuUnpartitionedToleration = "gpu-unpartitioned-toleration"
        case acceleratorDevices = "accelerator-devices"
        case acceleratorDeviceClasses = "accelerator-device-classes"
    }

    /// Flyte's names for four of the settings, as Go durations (`3m`), read as well as ours.
    enum FlyteDurationKeys: String, CodingKey, CaseIterable {
        case imagePullBackoffGracePeriod = "image-pull-backoff-grace-period"
        case createContainerErrorGracePeriod = "create-container-error-grace-period"
        case createContainerConfigErrorGracePeriod = "create-container-config-error-grace-period"
        case podPendingTimeout = "pod-pending-timeout"
    }

    /// A number of seconds given as `key` (an integer) or as Flyte's `flyte` (a Go duration,
    /// rounded up to a whole second); both at once is an error.
    static func seconds(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys, _ f: KeyedDecodingContainer<FlyteDurationKeys>, _ flyte: FlyteDurationKeys) throws -> Int? {
        let own = try c.decodeIfPresent(Int.self, forKey: key)
        guard let text = try f.decodeIfPresent(String.self, forKey: flyte) else { return own }
        guard own == nil else {
            throw DecodingError.dataCorruptedError(forKey: flyte, in: f, debugDescription: "give \(key.rawValue) or \(flyte.rawValue), not both")
        }
        guard let seconds = GoDuration.wholeSeconds(text) else {
            throw DecodingError.dataCorruptedError(forKey: flyte, in: f, debugDescription: "\(flyte.rawValue) must be a Go duration such as 3m or 90s, not \(text)")
        }
        return seconds
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self, FlyteDurationKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let f = try decoder.container(keyedBy: FlyteDurationKeys.self)
        let d = PluginConfig()
        defaultLabels = try c.decodeIfPresent([String: String].self, forKey: .defaultLabels) ?? d.defaultLabels
        defaultAnnotations = try c.decodeIfPresent([String: String].self, forKey: .defaultAnnotations) ?? d.defaultAnnotations
        defaultNodeSelector = try c.decodeIfPresent([String: String].self, forKey: .defaultNodeSelector) ?? d.defaultNodeSelector
        interruptibleTolerations = try c.decodeIfPresent([Toleration].self, forKey: .interruptibleTolerations) ?? d.interruptibleTolerations
        interruptibleNodeSelector = try c.decodeIfPresent([String: String].self, forKey: .interruptibleNodeSelector) ?? d.interruptibleNodeSelector
        defaultServiceAccount = try c.decodeIfPresent(String.self, forKey: .defaultServiceAccount)
        schedulerName = try c.decodeIfPresent(String.self, forKey: .schedulerName)
        imagePullBackoffGracePeriodSeconds = try Self.seconds(c, .imagePullBackoffGracePeriodSeconds, f, .imagePullBackoffGracePeriod) ?? d.imagePullBackoffGracePeriodSeconds
        createContainerErrorGracePeriodSeconds = try Self.seconds(c, .createContainerErrorGracePeriodSeconds, f, .createContainerErrorGracePeriod) ?? d.createContainerErrorGracePeriodSeconds
        createContainerConfigErrorGracePeriodSeconds = try Self.seconds(c, .createContainerConfigErrorGracePeriodSeconds, f, .createContainerConfigErrorGracePeriod) ?? d.createContainerConfigErrorGracePeriodSeconds
        podPendingTimeoutSeconds = try Self.seconds(c, .podPendingTimeoutSeconds, f, .podPendingTimeout) ?? d.podPendingTimeoutSeconds
        gpuResourceName = try c.decodeIfPresent(String.self, forKey: .gpuResourceName) ?? d.gpuResourceName
        defaultCPUs = try Self.quantity(c, .defaultCPUs) ?? d.defaultCPUs
        defaultMemory = try Self.quantity(c, .defaultMemory) ?? d.defaultMemory
        imagePullPolicy = try c.decodeIfPresent(String.self, forKey: .imagePullPolicy)
        injectFinalizer = try c.decodeIfPresent(Bool.self, forKey: .injectFinalizer) ?? false
        defaultPodTemplateName = try c.decodeIfPresent(String.self, forKey: .defaultPodTemplateName) ?? ""
        logs = try c.decodeIfPresent(LogsConfig.self, forKey: .logs) ?? LogsConfig()
        if let policy = imagePullPolicy, !["Always", "IfNotPresent", "Never"].contains(policy) {
            throw DecodingError.dataCorruptedError(forKey: .imagePullPolicy, in: c, debugDescription: "image-pull-policy must be Always, IfNotPresent or Never, not \(policy)")
        }
        defaultTolerations = try c.decodeIfPresent([Toleration].self, forKey: .defaultTolerations) ?? []
        resourceTolerations = try c.decodeIfPresent([String: [Toleration]].self, forKey: .resourceTolerations) ?? [:]
        addTolerationsForExtendedResources = try c.decodeIfPresent([String].self, forKey: .addTolerationsForExtendedResources) ?? []
        defaultAffinity = try Self.object(c, .defaultAffinity)
        defaultPodSecurityContext = try Self.object(c, .defaultPodSecurityContext)
        defaultSecurityContext = try Self.object(c, .defaultSecurityContext)
        defaultPodDNSConfig = try Self.object(c, .defaultPodDNSConfig)
        enableHostNetworkingPod = try c.decodeIfPresent(Bool.self, forKey: .enableHostNetworkingPod)
        interruptibleNodeSelectorRequirement = try Self.requirement(c, .interruptibleNodeSelectorRequirement)
        nonInterruptibleNodeSelectorRequirement = try Self.requirement(c, .nonInterruptibleNodeSelectorRequirement)
        defaultEnvVars = try c.decodeIfPresent([String: String].self, forKey: .defaultEnvVars) ?? [:]
        defaultEnvVarsFromEnv = try c.decodeIfPresent([String: String].self, forKey: .defaultEnvVarsFromEnv) ?? [:]
        defaultEnvFromSecrets = try c.decodeIfPresent([String].self, forKey: .defaultEnvFromSecrets) ?? []
        defaultEnvFromConfigMaps = try c.decodeIfPresent([String].self, forKey: .defaultEnvFromConfigMaps) ?? []
        gpuDeviceNodeLabel = try c.decodeIfPresent(String.self, forKey: .gpuDeviceNodeLabel) ?? d.gpuDeviceNodeLabel
        gpuPartitionSizeNodeLabel = try c.decodeIfPresent(String.self, forKey: .gpuPartitionSizeNodeLabel) ?? d.gpuPartitionSizeNodeLabel
        gpuUnpartitionedNodeSelectorRequirement = try Self.requirement(c, .gpuUnpartitionedNodeSelectorRequirement)
        gpuUnpartitionedToleration = try c.decodeIfPresent(Toleration.self, forKey: .gpuUnpartitionedToleration)
        acceleratorDevices = try c.decodeIfPresent([String: String].self, forKey: .acceleratorDevices) ?? d.acceleratorDevices
        if let classes = try c.decodeIfPresent([String: AcceleratorDeviceClass].self, forKey: .acceleratorDeviceClasses) {
            // Flyte upper-cases these keys (its config reader lower-cases map keys).
            acceleratorDeviceClasses = Dictionary(classes.map { ($0.key.uppercased(), $0.value) }, uniquingKeysWith: { $1 })
        }
    }

    /// A Kubernetes object given whole (an Affinity, a PodSecurityContext, …): a mapping, or absent.
    private static func object(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> JSONValue? {
        guard let value = try c.decodeIfPresent(JSONValue.self, forKey: key), !value.isNull else { return nil }
        guard case .object = value else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) must be a mapping (a Kubernetes object)")
        }
        return value
    }

    /// A Kubernetes quantity (`500m`, `2Gi`); an empty one is kept (it turns the default off).
    private static func quantity(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> String? {
        guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
        if !text.isEmpty, case .failure(let error) = ResourceQuantity.parse(text) {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) \"\(text)\" is not a quantity: \(error.message)")
        }
        return text
    }

    /// A NodeSelectorRequirement: `key`, an `operator` the scheduler knows, and `values`.
    private static func requirement(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> JSONValue? {
        guard let value = try object(c, key) else { return nil }
        let operators = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
        guard case .string(let name)? = value["key"], !name.isEmpty, case .string(let op)? = value["operator"], operators.contains(op) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) needs a key and an operator of \(operators.joined(separator: ", "))")
        }
        return value
    }
}
