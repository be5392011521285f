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

    public init() {}

    enum CodingKeys: String, CodingKey {
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
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PluginConfig()
        defaultLabels = try c.decodeIfPresent([String: String].self, forKey: .defaultLabels) ?? d.defaultLabels
        defaultAnnotations = try c.decodeIfPresent([String: String].self, forKey: .defaultAnnotations) ?? d.defaultAnnotations
        defaultNodeSelector = try c.decodeIfPresent([String: String].self, forKey: .defaultNodeSelector) ?? d.defaultNodeSelector
        interruptibleTolerations = try c.decodeIfPresent([Toleration].self, forKey: .interruptibleTolerations) ?? d.interruptibleTolerations
        interruptibleNodeSelector = try c.decodeIfPresent([String: String].self, forKey: .interruptibleNodeSelector) ?? d.interruptibleNodeSelector
        defaultServiceAccount = try c.decodeIfPresent(String.self, forKey: .defaultServiceAccount)
        schedulerName = try c.decodeIfPresent(String.self, forKey: .schedulerName)
        imagePullBackoffGracePeriodSeconds = try c.decodeIfPresent(Int.self, forKey: .imagePullBackoffGracePeriodSeconds) ?? d.imagePullBackoffGracePeriodSeconds
        createContainerErrorGracePeriodSeconds = try c.decodeIfPresent(Int.self, forKey: .createContainerErrorGracePeriodSeconds) ?? d.createContainerErrorGracePeriodSeconds
        createContainerConfigErrorGracePeriodSeconds = try c.decodeIfPresent(Int.self, forKey: .createContainerConfigErrorGracePeriodSeconds) ?? d.createContainerConfigErrorGracePeriodSeconds
        podPendingTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .podPendingTimeoutSeconds) ?? d.podPendingTimeoutSeconds
        gpuResourceName = try c.decodeIfPresent(String.self, forKey: .gpuResourceName) ?? d.gpuResourceName
    }
}
