import KubeClient

/// `dask:` in the executor's config file (Flyte's `plugins.dask`): the log links of a Dask
/// task, made for its job-runner Pod, with `{{ .daskSchedulerName }}` besides the usual
/// variables. A template whose `linkType` is `dashboard` is the scheduler's dashboard: its
/// URI's path (less a trailing `/status`) is the scheduler's `--dashboard-prefix`, so the
/// dashboard's own links resolve behind the proxy that serves it.
///
/// ```yaml
/// dask:
///   logs:
///     templates:
///       - displayName: "Dask dashboard"
///         linkType: dashboard
///         templateUris: ["https://dask.example.com/{{ .namespace }}/{{ .daskSchedulerName }}/status"]
/// ```
public struct DaskConfig: Codable, Sendable, Hashable {
    public var logs = LogsConfig()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case logs
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        logs = try c.decodeIfPresent(LogsConfig.self, forKey: .logs) ?? LogsConfig()
    }
}
