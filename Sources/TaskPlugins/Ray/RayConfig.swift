import KubeClient

/// Settings of the Ray plugin (Flyte's `plugins.ray` configuration).
public struct RayConfig: Codable, Sendable, Hashable {
    /// Delete the cluster when the job ends, unless the job says otherwise. Defaults to true.
    public var shutdownAfterJobFinishes = true
    /// How long a finished job's cluster stays. Defaults to 3600 s.
    public var ttlSecondsAfterFinished: Int32 = 3600
    /// The head's Service type. Defaults to NodePort.
    public var serviceType = "NodePort"
    /// `K8sJobMode` (default), `HTTPMode` or `SidecarMode`.
    public var submissionMode = "K8sJobMode"
    /// The head's `ray start` flags when the job gives none.
    public var defaultRayStartParams: [String: String] = [:]
    /// Include the dashboard on the head. Defaults to true.
    public var includeDashboard = true
    public var dashboardHost = "0.0.0.0"
    /// Leave Ray's usage statistics on. Defaults to false.
    public var enableUsageStats = false
    /// Service account when the task names none. Defaults to `default`.
    public var serviceAccount = "default"
    /// Log links of a Ray task (Flyte's `ray.logs`), made for the head Pod
    /// (`<rayClusterName>-head`), with `{{ .rayJobID }}` and `{{ .rayClusterName }}` besides
    /// the usual variables.
    public var logs = LogsConfig()
    /// The Ray dashboard's link (Flyte's `dashboardURLTemplate`), shown while the job runs and
    /// KubeRay reports a dashboard URL; ready once the head Pod is.
    public var dashboardURLTemplate: LogLinkTemplate?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case shutdownAfterJobFinishes = "shutdown-after-job-finishes"
        case ttlSecondsAfterFinished = "ttl-seconds-after-finished"
        case serviceType = "service-type"
        case submissionMode = "submission-mode"
        case defaultRayStartParams = "default-ray-start-params"
        case includeDashboard = "include-dashboard"
        case dashboardHost = "dashboard-host"
        case enableUsageStats = "enable-usage-stats"
        case serviceAccount = "service-account"
        case logs
        case dashboardURLTemplate = "dashboard-url-template"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RayConfig()
        shutdownAfterJobFinishes = try c.decodeIfPresent(Bool.self, forKey: .shutdownAfterJobFinishes) ?? d.shutdownAfterJobFinishes
        ttlSecondsAfterFinished = try c.decodeIfPresent(Int32.self, forKey: .ttlSecondsAfterFinished) ?? d.ttlSecondsAfterFinished
        serviceType = try c.decodeIfPresent(String.self, forKey: .serviceType) ?? d.serviceType
        submissionMode = try c.decodeIfPresent(String.self, forKey: .submissionMode) ?? d.submissionMode
        defaultRayStartParams = try c.decodeIfPresent([String: String].self, forKey: .defaultRayStartParams) ?? [:]
        includeDashboard = try c.decodeIfPresent(Bool.self, forKey: .includeDashboard) ?? d.includeDashboard
        dashboardHost = try c.decodeIfPresent(String.self, forKey: .dashboardHost) ?? d.dashboardHost
        enableUsageStats = try c.decodeIfPresent(Bool.self, forKey: .enableUsageStats) ?? d.enableUsageStats
        serviceAccount = try c.decodeIfPresent(String.self, forKey: .serviceAccount) ?? d.serviceAccount
        logs = try c.decodeIfPresent(LogsConfig.self, forKey: .logs) ?? LogsConfig()
        dashboardURLTemplate = try c.decodeIfPresent(LogLinkTemplate.self, forKey: .dashboardURLTemplate)
    }
}
